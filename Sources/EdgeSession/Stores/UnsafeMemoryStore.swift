import Edge
import EdgeKV
import Synchronization

/// Sessions in this process's memory, with expiry on the context clock: for development and tests. Unsafe for
/// production: entries vanish on restart and are not shared between processes.
///
/// Expired entries are dropped when read and swept every 256 saves, so memory stays bounded by live sessions.
public final class UnsafeMemoryStore: SessionStore {
    private struct Entry {
        var data: String
        var expiresAt: Int64
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var savesSinceSweep = 0
    }

    private let state = Mutex(State())

    /// Creates an empty store.
    public init() {}

    /// Entries live here, behind an id.
    public var storesDataServerSide: Bool { true }

    /// The number of entries held, expired ones not yet swept included.
    public var count: Int { state.withLock { $0.entries.count } }

    /// The entry under `id` if it has not expired; nil for an unknown or malformed id.
    public func load(_ id: String, context: Context) async throws -> StoredSession? {
        guard SessionID.isWellFormed(id) else { return nil }
        let now = context.clock.nowMilliseconds()
        return state.withLock { state in
            guard let entry = state.entries[id] else { return nil }
            guard entry.expiresAt > now else {
                state.entries[id] = nil
                return nil
            }
            return StoredSession(data: entry.data, expiresAt: entry.expiresAt)
        }
    }

    /// Stores the data under `id` (or a new random id) until now + `maxAge` seconds.
    public func save(_ id: String?, _ data: String, maxAge: Int, context: Context) async throws -> String {
        let now = context.clock.nowMilliseconds()
        let key = id ?? SessionID.generate()
        state.withLock { state in
            state.entries[key] = Entry(data: data, expiresAt: now.saturatingAdd(Int64.milliseconds(seconds: maxAge)))
            state.savesSinceSweep += 1
            if state.savesSinceSweep >= 256 {
                state.savesSinceSweep = 0
                state.entries = state.entries.filter { $0.value.expiresAt > now }
            }
        }
        return key
    }

    /// Removes the entry.
    public func destroy(_ id: String, context: Context) async throws {
        _ = state.withLock { $0.entries.removeValue(forKey: id) }
    }
}
