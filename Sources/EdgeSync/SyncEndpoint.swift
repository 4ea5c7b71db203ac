/// One side of `edgekv sync`: `local:NS`, `local:DIR:NS`, `remote:NS`, `wrangler:DIR:NS` or `file:PATH`.
public enum SyncEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// EdgeKV's local state: the `--persist-to` folder when `directory` is nil, else that state folder; NS is a
    /// binding or a namespace id.
    case local(directory: String?, namespace: String)
    /// Workers KV through the REST API; NS is a binding (resolved through the config's `id`) or a namespace id.
    case remote(String)
    /// The persistence of `wrangler dev` / Miniflare: DIR is the `.wrangler/state` folder, NS a binding or an id.
    case wrangler(directory: String, namespace: String)
    /// A JSON file in the format `kv bulk put` reads: an array of `{key, value, base64?, metadata?, expiration?}`.
    case file(String)

    /// Parses `local:NS`, `local:DIR:NS`, `remote:NS`, `wrangler:DIR:NS` or `file:PATH` (DIR may itself contain
    /// colons; NS is after the last, so a namespace named in a sync endpoint never contains one).
    /// - Throws: ``SyncEndpointError`` naming the accepted forms.
    public init(parsing text: String) throws {
        guard let colon = text.firstIndex(of: ":") else { throw SyncEndpointError(text) }
        let kind = text[..<colon]
        let rest = String(text[text.index(after: colon)...])
        switch kind {
        case "local" where !rest.isEmpty:
            guard let (directory, namespace) = Self.split(rest) else {
                self = .local(directory: nil, namespace: rest)
                return
            }
            guard !directory.isEmpty, !namespace.isEmpty else {
                throw SyncEndpointError(
                    text,
                    hint: "local:NS is a namespace of the --persist-to state and local:DIR:NS one of the state "
                        + "folder DIR; neither DIR nor NS may be empty")
            }
            self = .local(directory: directory, namespace: namespace)
        case "remote" where !rest.isEmpty: self = .remote(rest)
        case "wrangler":
            guard let (directory, namespace) = Self.split(rest), !directory.isEmpty, !namespace.isEmpty else {
                throw SyncEndpointError(text)
            }
            self = .wrangler(directory: directory, namespace: namespace)
        case "file" where !rest.isEmpty: self = .file(rest)
        default: throw SyncEndpointError(text)
        }
    }

    /// `DIR:NS` split at the last colon, or nil when there is none.
    private static func split(_ text: String) -> (String, String)? {
        guard let last = text.lastIndex(of: ":") else { return nil }
        return (String(text[..<last]), String(text[text.index(after: last)...]))
    }

    /// The namespace part (a binding or an id); nil for a file.
    public var namespace: String? {
        switch self {
        case .local(_, let ns), .remote(let ns), .wrangler(_, let ns): ns
        case .file: nil
        }
    }

    /// The endpoint as written on the command line.
    public var description: String {
        switch self {
        case .local(nil, let ns): "local:\(ns)"
        case .local(let dir?, let ns): "local:\(dir):\(ns)"
        case .remote(let ns): "remote:\(ns)"
        case .wrangler(let dir, let ns): "wrangler:\(dir):\(ns)"
        case .file(let path): "file:\(path)"
        }
    }
}

/// An endpoint that is not one of the accepted forms.
public struct SyncEndpointError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was given.
    public let text: String
    /// What is wrong with it, when more can be said than the accepted forms.
    public let hint: String?

    init(_ text: String, hint: String? = nil) {
        self.text = text
        self.hint = hint
    }

    /// The message, with the accepted forms.
    public var description: String {
        "\"\(text)\" is not a sync endpoint; use local:NS, local:DIR:NS, remote:NS, wrangler:DIR:NS or file:PATH "
            + "(NS a binding or namespace id, DIR a state folder: EdgeKV's for local, .wrangler/state for wrangler; "
            + "PATH a JSON file)" + (hint.map { ": \($0)" } ?? "")
    }
}
