import Edge
import EdgeKV

/// hattip's name for ``KVSessionStore``.
public typealias KvSessionStore = KVSessionStore

/// Sessions in a Workers KV namespace, one entry per session: the value is the session's JSON, the metadata
/// `{"expiresAt": ms}` records its expiry on the context clock, and the entry's `expirationTtl` is the session's
/// `maxAge` in whole seconds, at least KV's minimum of 60.
///
/// The namespace comes from the request's platform env, like a Worker's binding:
/// `KVSessionStore { ctx in try ctx.env.kv("SESSIONS") }`. Keys are `keyPrefix` + a random 256-bit id. A write KV
/// refuses with `429 Too Many Requests` surfaces as ``SessionError/Code/rateLimited``.
public struct KVSessionStore: SessionStore {
    /// Finds the namespace for a request.
    public let getStore: @Sendable (Context) async throws -> any KVNamespace
    /// Put in front of every id to make the KV key (default none).
    public let keyPrefix: String

    /// The metadata field holding the expiry.
    static let expiresAtField = "expiresAt"

    /// Creates a store.
    /// - Parameters:
    ///   - keyPrefix: put in front of each id to form the KV key, e.g. `session:`.
    ///   - getStore: the namespace for a request, e.g. `{ ctx in try ctx.env.kv("SESSIONS") }`.
    public init(
        keyPrefix: String = "", getStore: @escaping @Sendable (Context) async throws -> any KVNamespace
    ) {
        self.keyPrefix = keyPrefix
        self.getStore = getStore
    }

    /// Creates a store on the KV binding `binding` of the request's env (default `SESSIONS`).
    public init(binding: String = "SESSIONS", keyPrefix: String = "") {
        self.init(keyPrefix: keyPrefix) { context in try context.env.kv(binding) }
    }

    /// Entries live in KV, behind an id.
    public var storesDataServerSide: Bool { true }

    /// The entry under `keyPrefix + id` if it exists and has not expired on the context clock.
    /// - Throws: the namespace's or env's error (KV failures are the backend's, not the client's).
    public func load(_ id: String, context: Context) async throws -> StoredSession? {
        guard SessionID.isWellFormed(id) else { return nil }
        let namespace = try await getStore(context)
        guard let entry = try await namespace.getWithMetadata(keyPrefix + id) else { return nil }
        var expiresAt: Int64?
        if case .object(let fields)? = entry.metadata, case .int(let value)? = fields[Self.expiresAtField] {
            expiresAt = value
            // KV keeps an entry at least 60 s; the session's own expiry may come sooner.
            if value <= context.clock.nowMilliseconds() { return nil }
        }
        return StoredSession(data: entry.value, expiresAt: expiresAt)
    }

    /// Writes the entry with `expirationTtl` = max(`maxAge`, 60) seconds.
    /// - Throws: the namespace's `KVError` (a 429 reaches the app as ``SessionError/Code/rateLimited``).
    public func save(_ id: String?, _ data: String, maxAge: Int, context: Context) async throws -> String {
        let namespace = try await getStore(context)
        let key = id ?? SessionID.generate()
        let expiresAt = context.clock.nowMilliseconds().saturatingAdd(Int64.milliseconds(seconds: maxAge))
        let options = KVPutOptions(
            expirationTtl: max(Int64(maxAge), KVLimits.minExpirationTtl),
            metadata: .object([Self.expiresAtField: .int(expiresAt)]))
        try await namespace.put(keyPrefix + key, data, options: options)
        return key
    }

    /// Deletes the entry.
    public func destroy(_ id: String, context: Context) async throws {
        guard SessionID.isWellFormed(id) else { return }
        try await getStore(context).delete(keyPrefix + id)
    }
}
