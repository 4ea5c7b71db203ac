import Foundation

/// The parts of a `Set-Cookie` header value.
public struct ParsedSetCookie: Sendable, Hashable {
    /// The name.
    public var name: String
    /// The raw value.
    public var value: String
    /// Max-Age in seconds.
    public var maxAge: Int64?
    /// Expires.
    public var expires: Date?
    /// Path.
    public var path: String?
    /// SameSite.
    public var sameSite: String?
    /// HttpOnly.
    public var httpOnly = false
    /// Secure.
    public var secure = false

    /// Parses a header value; nil when it has no `name=`.
    public init?(_ header: String) {
        let parts = header.split(separator: ";", omittingEmptySubsequences: false)
        guard let first = parts.first, let eq = first.firstIndex(of: "=") else { return nil }
        name = first[..<eq].trimmingCharacters(in: .whitespaces)
        value = first[first.index(after: eq)...].trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { return nil }
        for attribute in parts.dropFirst() {
            let pair = attribute.split(separator: "=", maxSplits: 1)
            let key = pair.first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            let v = pair.count > 1 ? pair[1].trimmingCharacters(in: .whitespaces) : ""
            switch key {
            case "max-age": maxAge = Int64(v)
            case "expires": expires = HTTPDate.parse(v)
            case "path": path = v
            case "samesite": sameSite = v
            case "httponly": httpOnly = true
            case "secure": secure = true
            default: break
            }
        }
    }

    /// Whether this header deletes the cookie.
    public func deletes(nowMilliseconds: Int64) -> Bool {
        if let maxAge { return maxAge <= 0 }
        if let expires { return Int64(expires.timeIntervalSince1970 * 1000) <= nowMilliseconds }
        return false
    }
}
