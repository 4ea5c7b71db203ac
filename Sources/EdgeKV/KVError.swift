/// The operation a KV error is reported for, as workerd names it in `KV <M> failed: …`.
public enum KVOperation: String, Sendable, Hashable {
    /// `get`, `getWithMetadata` and `list`.
    case get = "GET"
    /// Bulk `get` of several keys.
    case getBulk = "GET_BULK"
    /// `put`.
    case put = "PUT"
    /// `delete`.
    case delete = "DELETE"
}

/// A failure of a KV operation, with the exact text a Worker would see.
///
/// Two shapes exist, as in workerd: client-side `TypeError`s (``status`` is nil, e.g. `Key name cannot be empty.`)
/// and backend failures rendered as `KV PUT failed: 400 Invalid expiration_ttl of 30. Expiration TTL must be at
/// least 60.`.
public struct KVError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The operation that failed.
    public let operation: KVOperation
    /// The HTTP-style status of a backend failure (400, 413, 414, 429, 500, …); nil for a `TypeError`.
    public let status: Int?
    /// The message after the status (or the whole `TypeError` message).
    public let message: String
    /// The service's numeric error code, when the failure came from Cloudflare's API.
    public let code: Int?

    /// Creates a backend failure; `code` is the service's numeric code when the failure came from Cloudflare's API.
    public init(_ operation: KVOperation, status: Int, _ message: String, code: Int? = nil) {
        self.operation = operation
        self.status = status
        self.message = message
        self.code = code
    }

    /// Creates a client-side `TypeError`.
    public static func typeError(_ operation: KVOperation, _ message: String) -> KVError {
        KVError(operation: operation, status: nil, message: message)
    }

    private init(operation: KVOperation, status: Int?, message: String) {
        self.operation = operation
        self.status = status
        self.message = message
        self.code = nil
    }

    /// True for the binding's client-side `TypeError`s.
    public var isTypeError: Bool { status == nil }

    /// The text a Worker would see: `KV PUT failed: 413 Value length of … exceeds limit of 26214400.` or the
    /// bare `TypeError` message.
    public var description: String {
        guard let status else { return message }
        return "KV \(operation.rawValue) failed: \(status) \(message)"
    }
}

/// A failure of namespace management (create, rename, delete), with Cloudflare's API error code.
public struct KVNamespaceError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Cloudflare's numeric error code (10011 malformed id, 10013 namespace not found, 10014 duplicate title, 10019 bad title).
    public let code: Int
    /// The HTTP-style status the REST API answers with.
    public let status: Int
    /// Cloudflare's message.
    public let message: String

    /// Creates an error.
    public init(code: Int, status: Int, message: String) {
        self.code = code
        self.status = status
        self.message = message
    }

    /// No namespace has this id.
    public static func notFound(_ id: String) -> KVNamespaceError {
        KVNamespaceError(code: 10013, status: 404, message: "namespace not found: \(id)")
    }

    /// Another namespace already has this title.
    public static func duplicateTitle(_ title: String) -> KVNamespaceError {
        KVNamespaceError(
            code: 10014, status: 400,
            message: "a namespace with this account ID and title already exists: \(title)")
    }

    /// The namespace id is malformed (Cloudflare: "could not parse UUID from request's namespace_id").
    public static func invalidID(_ reason: String) -> KVNamespaceError {
        KVNamespaceError(code: 10011, status: 400, message: reason)
    }

    /// The title is empty or too long.
    public static func invalidTitle(_ reason: String) -> KVNamespaceError {
        KVNamespaceError(code: 10019, status: 400, message: reason)
    }

    /// `code: message`, as the REST API reports it.
    public var description: String { "\(message) [code: \(code)]" }
}
