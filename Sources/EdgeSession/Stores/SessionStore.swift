import Edge

/// Where sessions live: the Swift form of @hattip/session's `SessionStore` (`load`, `save`, `destroy`).
///
/// A store deals in serialized session data (the JSON text the middleware encodes) and in the cookie value: for a
/// cookie store the value *is* the data (signed, encrypted or plain), for an external store it is a random id.
/// Every expiry decision reads `context.clock`, so tests and fixtures can move time.
///
/// Errors thrown by a store reach the app as ``SessionError`` (a KV `429` as ``SessionError/Code/rateLimited``).
public protocol SessionStore: Sendable {
    /// True when the cookie carries an id of a server-side entry (memory, Redis, KV); false when it carries the
    /// data itself. Only stores with ids expose ``Session/id`` and delete entries on `regenerate()`/`destroy()`.
    var storesDataServerSide: Bool { get }

    /// The session a cookie value points at, or nil when it is missing, expired, tampered with or malformed.
    /// Bad client input is never an error; only a failing backend is.
    func load(_ id: String, context: Context) async throws -> StoredSession?

    /// Stores `data` for `maxAge` seconds and returns the new cookie value.
    /// - Parameter id: the id to overwrite, or nil for a new id (new sessions and regeneration). The middleware
    ///   only passes ids that this store just loaded.
    func save(_ id: String?, _ data: String, maxAge: Int, context: Context) async throws -> String

    /// Deletes the entry behind an id (a no-op for cookie stores, which cannot revoke a copied cookie).
    func destroy(_ id: String, context: Context) async throws
}

/// A session as a store returns it.
public struct StoredSession: Sendable, Hashable {
    /// The serialized session data.
    public var data: String
    /// When it expires, in milliseconds since the epoch on the context clock; nil when the store cannot tell
    /// (the unsigned cookie store, or an entry written by another implementation).
    public var expiresAt: Int64?

    /// Creates a loaded session.
    public init(data: String, expiresAt: Int64?) {
        self.data = data
        self.expiresAt = expiresAt
    }
}
