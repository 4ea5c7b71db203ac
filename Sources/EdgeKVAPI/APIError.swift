import EdgeKV
import HTTPTypes

/// A failure answered with Cloudflare's envelope: `{"success": false, "errors": [{"code", "message"}], …}`.
public struct APIError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The HTTP status.
    public let status: Int
    /// Cloudflare's numeric code.
    public let code: Int
    /// The message.
    public let message: String

    /// Creates an error.
    public init(status: Int, code: Int, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    /// `message [code: N]`.
    public var description: String { "\(message) [code: \(code)]" }

    /// 7003: no route.
    static let noRoute = APIError(status: 404, code: 7003, message: "No route for the URI")
    /// 7001: the route exists, the method does not.
    static func methodNotAllowed(_ method: HTTPRequest.Method) -> APIError {
        APIError(status: 405, code: 7001, message: "Method \(method.rawValue) not allowed for this route")
    }
    /// 10009: the key does not exist.
    static let keyNotFound = APIError(status: 404, code: 10009, message: "get: 'key not found'")
    /// 10001: no credentials.
    static let unauthenticated = APIError(status: 401, code: 10001, message: "Unable to authenticate request")
    /// 10000: wrong credentials.
    static let authenticationError = APIError(status: 403, code: 10000, message: "Authentication error")

    /// 10413: a body longer than the route takes.
    static func bodyTooLarge(limit: Int) -> APIError {
        APIError(status: 413, code: 10413, message: "Request body too large: the body is larger than \(limit) bytes")
    }

    /// A bad request: KV's text where there is one.
    static func badRequest(_ message: String) -> APIError { APIError(status: 400, code: 10400, message: message) }

    /// A KV failure: its status and text (`Invalid expiration_ttl of 30. …`), and the service's code when the failure
    /// came from Cloudflare's API, else ``code(forKVStatus:)``. `prefix` goes before the text (`[3]: `).
    init(_ error: KVError, prefix: String = "") {
        let status = error.status ?? 400
        self.init(status: status, code: error.code ?? Self.code(forKVStatus: status), message: prefix + error.message)
    }

    /// The code answered with a KV failure of `status` raised here: Cloudflare's where it documents one (10009 key
    /// not found, 971 rate limited), the code of a body over the limit for 413, and the bad-request code otherwise.
    static func code(forKVStatus status: Int) -> Int {
        switch status {
        case 404: keyNotFound.code
        case 413: bodyTooLarge(limit: 0).code
        case 429: 971
        default: badRequest("").code
        }
    }

    /// A namespace failure with Cloudflare's code (10013 not found, 10014 duplicate title).
    init(_ error: KVNamespaceError) {
        self.init(status: error.status, code: error.code, message: error.message)
    }
}
