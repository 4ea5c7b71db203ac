import Edge
import EdgeKV
import EdgeSession

/// Sessions in Redis: `SET key value EX maxAge` with the key `keyPrefix` + a random 256-bit id.
///
/// The value is `<expiresAt ms>.<JSON>`, so the expiry follows the context clock (fixtures can move time) while
/// Redis's own `EX` (whole seconds, the session's `maxAge`) removes the entry in real time. A value with no expiry
/// prefix (plain JSON, as @hattip/session writes it) loads with an unknown expiry.
public struct RedisSessionStore: SessionStore {
    /// The client.
    public let client: RedisClient
    /// Put in front of every id to make the Redis key (default `session:`).
    public let keyPrefix: String

    /// Creates a store on a client.
    public init(client: RedisClient, keyPrefix: String = "session:") {
        self.client = client
        self.keyPrefix = keyPrefix
    }

    /// Creates a store with its own client for a `redis://[:password@]host[:port][/db]` URL.
    /// - Throws: ``SessionError`` ``SessionError/Code/invalidConfiguration`` for a bad URL.
    public init(url: String, keyPrefix: String = "session:", connections: Int = 4) throws {
        self.init(client: try RedisClient(url: url, connections: connections), keyPrefix: keyPrefix)
    }

    /// Entries live in Redis, behind an id.
    public var storesDataServerSide: Bool { true }

    /// The entry under `keyPrefix + id` if it exists and has not expired on the context clock.
    /// - Throws: ``RedisError`` when Redis cannot be reached.
    public func load(_ id: String, context: Context) async throws -> StoredSession? {
        guard SessionID.isWellFormed(id), let bytes = try await client.get(keyPrefix + id),
            let text = String(validating: bytes, as: UTF8.self)
        else { return nil }
        guard let (head, data) = HattipFormat.splitAtFirstDot(Substring(text)), !head.isEmpty,
            head.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }), let expiresAt = Int64(head)
        else { return StoredSession(data: text, expiresAt: nil) }
        guard expiresAt > context.clock.nowMilliseconds() else { return nil }
        return StoredSession(data: String(data), expiresAt: expiresAt)
    }

    /// `SET keyPrefix+id "<expiresAt>.<data>" EX maxAge`.
    /// - Throws: ``RedisError``.
    public func save(_ id: String?, _ data: String, maxAge: Int, context: Context) async throws -> String {
        let key = id ?? SessionID.generate()
        let expiresAt = context.clock.nowMilliseconds().saturatingAdd(Int64.milliseconds(seconds: maxAge))
        try await client.set(keyPrefix + key, Array("\(expiresAt).\(data)".utf8), expiresInSeconds: max(1, maxAge))
        return key
    }

    /// `DEL keyPrefix+id`.
    /// - Throws: ``RedisError``.
    public func destroy(_ id: String, context: Context) async throws {
        guard SessionID.isWellFormed(id) else { return }
        try await client.delete(keyPrefix + id)
    }
}
