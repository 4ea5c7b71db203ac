import Foundation
import HTTPTypes

/// An HTTP request as an edge handler sees it.
public struct Request: Sendable {
    /// Method, scheme, authority, path (with query) and header fields.
    public var head: HTTPRequest
    /// The body.
    public var body: Body

    /// Creates a request from its parts.
    public init(head: HTTPRequest, body: Body = .empty) {
        self.head = head
        self.body = body
    }

    /// Creates a request. `target` is the path with an optional query (`/items?x=1`).
    public init(
        method: HTTPRequest.Method = .get, _ target: String, headers: HTTPFields = [:], body: Body = .empty,
        scheme: String = "http", authority: String = "localhost"
    ) {
        self.init(
            head: HTTPRequest(
                method: method, scheme: scheme, authority: authority, path: target, headerFields: headers),
            body: body)
    }

    /// The method.
    public var method: HTTPRequest.Method {
        get { head.method }
        set { head.method = newValue }
    }

    /// The header fields.
    public var headers: HTTPFields {
        get { head.headerFields }
        set { head.headerFields = newValue }
    }

    /// The request target as received: path and query.
    public var target: String { head.path ?? "/" }

    /// The path, without the query, still percent-encoded.
    public var path: String {
        let t = target
        guard let q = t.firstIndex(of: "?") else { return t }
        return String(t[..<q])
    }

    /// The raw query string (after `?`), or nil.
    public var query: String? {
        let t = target
        guard let q = t.firstIndex(of: "?") else { return nil }
        return String(t[t.index(after: q)...])
    }

    /// The query's name/value pairs in order, decoded as `application/x-www-form-urlencoded` (`+` is a space).
    public var queryItems: [(name: String, value: String)] {
        guard let query, !query.isEmpty else { return [] }
        return query.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                let spaced = s.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    /// The first value of a query parameter.
    public func queryValue(_ name: String) -> String? {
        queryItems.first { $0.name == name }?.value
    }

    private static let forwardedProto = HTTPField.Name("X-Forwarded-Proto")!

    /// Whether the request came over HTTPS (scheme, or `X-Forwarded-Proto: https` from a proxy).
    public var isSecure: Bool {
        head.scheme == "https" || headers[Self.forwardedProto]?.lowercased() == "https"
    }

    /// The `Content-Length` the client declared, when it is a valid one.
    public var declaredContentLength: Int? {
        guard let text = headers[.contentLength], !text.isEmpty, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
            return nil
        }
        return Int(text) ?? .max  // more digits than an Int holds is still "too large"
    }

    /// The body's bytes.
    /// - Throws: ``BodyTooLargeError`` past `limit` — before reading anything when the declared `Content-Length` is
    ///   already over it.
    public func bytes(limit: Int = 32 * 1024 * 1024) async throws -> [UInt8] {
        if let declared = declaredContentLength, declared > limit { throw BodyTooLargeError(limit: limit) }
        return try await body.collect(upTo: limit)
    }

    /// The body as UTF-8 text.
    public func text(limit: Int = 32 * 1024 * 1024) async throws -> String {
        String(decoding: try await bytes(limit: limit), as: UTF8.self)
    }

    /// The body decoded from JSON.
    /// - Throws: ``EdgeError`` 400 when the body is not the JSON expected.
    public func json<T: Decodable>(_ type: T.Type, limit: Int = 32 * 1024 * 1024) async throws -> T {
        let data = Data(try await bytes(limit: limit))
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw EdgeError(.badRequest, "the request body is not valid JSON for this route")
        }
    }
}
