import Foundation
import HTTPTypes

/// An HTTP response from an edge handler.
public struct Response: Sendable {
    /// The status.
    public var status: HTTPResponse.Status
    /// The header fields.
    public var headers: HTTPFields
    /// The body.
    public var body: Body

    /// Creates a response.
    public init(status: HTTPResponse.Status = .ok, headers: HTTPFields = [:], body: Body = .empty) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A UTF-8 text response (`text/plain; charset=utf-8` unless the headers say otherwise).
    public static func text(_ text: String, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var h = headers
        if h[.contentType] == nil { h[.contentType] = "text/plain; charset=utf-8" }
        return Response(status: status, headers: h, body: .text(text))
    }

    /// A JSON response from an `Encodable` value.
    /// - Throws: the encoder's error.
    public static func json<T: Encodable>(
        _ value: T, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]
    ) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return bytes(
            Array(try encoder.encode(value)), status: status, headers: headers, contentType: "application/json")
    }

    /// A JSON response from bytes that already are JSON.
    public static func bytes(
        _ bytes: [UInt8], status: HTTPResponse.Status = .ok, headers: HTTPFields = [:],
        contentType: String = "application/octet-stream"
    ) -> Response {
        var h = headers
        if h[.contentType] == nil { h[.contentType] = contentType }
        return Response(status: status, headers: h, body: .bytes(bytes))
    }

    /// A response with no body.
    public static func empty(status: HTTPResponse.Status = .noContent, headers: HTTPFields = [:]) -> Response {
        Response(status: status, headers: headers, body: .empty)
    }
}

/// An error a handler throws to answer with a given status; the default error handler turns it into a JSON
/// response `{"error": message}`.
public struct EdgeError: Error, Sendable, CustomStringConvertible {
    /// The status to answer with.
    public let status: HTTPResponse.Status
    /// A message safe to show the client.
    public let message: String
    /// Extra header fields for the response.
    public var headers: HTTPFields

    /// Creates an error.
    public init(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.message = message
        self.headers = headers
    }

    /// `404 Not Found: message`.
    public var description: String { "\(status.code) \(status.reasonPhrase): \(message)" }
}
