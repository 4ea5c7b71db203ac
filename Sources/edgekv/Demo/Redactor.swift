import EdgeKV
import Foundation

/// Decides which recorded values are secrets and blanks them: header values, query and form parameters, and JSON
/// members at any depth whose name contains one of ``words``, compared case-insensitively.
///
/// A substring match errs on the side of hiding: `X-Api-Key`, `access_token` and `csrfToken` are caught, and so is
/// `monkey` (it contains `key`). A name the list misses can be added with `--redact`.
struct Redactor: Sendable {
    /// The words every recording hides, lowercased.
    static let defaultWords = [
        "token", "secret", "password", "passwd", "passphrase", "key", "auth", "session", "cookie", "csrf", "xsrf",
        "jwt",
        "signature", "credential",
    ]
    /// What a secret value is replaced with.
    static let placeholder = "[redacted]"
    /// ``placeholder`` as a query or form value.
    static let encodedPlaceholder = "%5Bredacted%5D"

    /// The words in force: the defaults and the extra ones, lowercased.
    let words: [String]

    /// The default words and `extra` ones (empty ones are ignored).
    init(extra: [String] = []) {
        words =
            Self.defaultWords + extra.map { $0.lowercased() }.filter { !$0.isEmpty && !Self.defaultWords.contains($0) }
    }

    /// Whether a header, parameter or member called `name` holds a secret.
    func isSecret(_ name: String) -> Bool {
        let lowered = name.lowercased()
        return words.contains { lowered.contains($0) }
    }

    /// A request target with the values of secret query parameters replaced: `/login?token=abc&next=/` becomes
    /// `/login?token=%5Bredacted%5D&next=/`.
    func target(_ target: String) -> String {
        guard let question = target.firstIndex(of: "?") else { return target }
        return String(target[...question]) + formEncoded(target[target.index(after: question)...])
    }

    /// `application/x-www-form-urlencoded` text (or a query) with the values of secret parameters replaced.
    func formEncoded(_ text: Substring) -> String {
        text.split(separator: "&", omittingEmptySubsequences: false).map { pair -> String in
            guard let eq = pair.firstIndex(of: "=") else { return String(pair) }
            let raw = pair[..<eq]
            let name = raw.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(raw)
            return isSecret(name) ? raw + "=" + Self.encodedPlaceholder : String(pair)
        }.joined(separator: "&")
    }

    /// A request's JSON with the value of every secret member, at any depth, replaced by ``placeholder``.
    func request(_ json: JSONValue) -> JSONValue {
        switch json {
        case .object(let members):
            .object(
                Dictionary(
                    uniqueKeysWithValues: members.map { name, value in
                        (name, isSecret(name) ? .string(Self.placeholder) : request(value))
                    }))
        case .array(let items): .array(items.map(request))
        default: json
        }
    }

    /// A response's JSON as an expectation: secret members, at any depth, are left out. The expectation is a deep
    /// subset, so the rest is still checked, and a fresh token on replay is not a failure.
    func expectation(_ json: JSONValue) -> JSONValue {
        switch json {
        case .object(let members):
            .object(members.filter { !isSecret($0.key) }.mapValues(expectation))
        case .array(let items): .array(items.map(expectation))
        default: json
        }
    }
}
