import EdgeKV
import Foundation

/// One namespace of a ``SQLiteKVStore``. Every operation throws ``KVNamespaceError`` 10011 for an id with a NUL.
public struct SQLiteKVNamespace: KVNamespace {
    /// The store holding the namespace.
    public let store: SQLiteKVStore
    /// The namespace id.
    public let id: String

    /// The store's clock.
    public var clock: any KVClock { store.configuration.clock }

    /// Reads one entry, removing it when it has expired.
    public func readEntry(_ key: String) async throws -> KVEntry? {
        try KVNamespaceInfo.validateID(id)
        let now = clock.nowMilliseconds()
        let id = id
        return try await store.withConnection { [store] c in
            try Self.read(c, id: id, key: key, now: now, purge: store.mayWrite)
        }
    }

    /// Reads several entries from one snapshot.
    public func readEntries(_ keys: [String]) async throws -> [String: KVEntry] {
        try KVNamespaceInfo.validateID(id)
        let now = clock.nowMilliseconds()
        let id = id
        return try await store.withConnection { c in
            try c.transaction(immediate: false) {
                var result: [String: KVEntry] = [:]
                for key in keys where result[key] == nil {
                    if let e = try Self.read(c, id: id, key: key, now: now, purge: false) { result[key] = e }
                }
                return result
            }
        }
    }

    private static func read(
        _ c: KVConnection, id: String, key: String, now: Int64, purge: Bool = true
    ) throws -> KVEntry? {
        enum Found {
            case none, expired
            case entry(KVEntry)
        }
        let found = try c.query(.get) { s -> Found in
            try s.bind(1, text: id)
            try s.bind(2, key: key)
            guard try s.step() else { return .none }
            let expiration = s.int64(2)
            if let expiration, expiration <= now { return .expired }
            let metadata = try s.text(1).map { try JSONValue(parsing: $0) }
            return .entry(KVEntry(value: s.blob(0), metadata: metadata, expiration: expiration.map(Self.seconds)))
        }
        switch found {
        case .none: return nil
        case .entry(let entry): return entry
        case .expired:
            // The read's statement is reset by now, so the delete does not wait on its own read.
            if purge {
                try? c.query(.deleteIfExpired) { d in
                    try d.bind(1, text: id)
                    try d.bind(2, key: key)
                    try d.bind(3, now)
                    try d.run()
                }
            }
            return nil
        }
    }

    static func seconds(_ ms: Int64) -> Int64 { Int64.floorSeconds(milliseconds: ms) }

    /// Stores a write; creates the namespace (titled by its id) when it does not exist yet.
    public func writeEntry(_ key: String, _ write: KVWrite) async throws {
        try await writeEntries([(key, write)])
    }

    /// Stores several writes in one transaction: all of them or none.
    /// - Throws: ``KVNamespaceError`` 10011 for an id with a NUL character; ``SQLiteKVStoreError`` when the store is
    ///   read-only or damaged.
    public func writeEntries(_ writes: [(key: String, write: KVWrite)]) async throws {
        guard !writes.isEmpty else { return }
        try KVNamespaceInfo.validateID(id)
        let now = clock.nowMilliseconds()
        let id = id
        let box = UncheckedWrites(writes: writes)
        try await store.withConnection(writing: true) { c in
            func upsert(_ key: String, _ write: KVWrite) throws -> Bool {
                try c.query(.put) { s in
                    try s.bind(1, text: id)
                    try s.bind(2, key: key)
                    try s.bind(3, write.expirationMilliseconds(at: now))
                    try s.bind(4, text: write.metadata?.serialized)
                    try s.bind(5, blob: write.value)
                    try s.run()
                }
                return c.changes > 0
            }
            func createNamespace() throws {
                try c.query(.createNamespace) { n in
                    try n.bind(1, text: id)
                    try n.bind(2, text: id)
                    try n.bind(3, now / 1000)
                    try n.run()
                }
            }
            func writeAll() throws {
                for (index, item) in box.writes.enumerated() where try !upsert(item.key, item.write) {
                    guard index == 0 else { throw KVNamespaceError.notFound(id) }
                    try createNamespace()
                    guard try upsert(item.key, item.write) else { throw KVNamespaceError.notFound(id) }
                }
            }
            if box.writes.count == 1 {
                try writeAll()  // one statement: its own transaction
            } else {
                try c.transaction(immediate: true) { try writeAll() }
            }
        }
    }

    /// Tuples are not `Sendable`-checked as closure captures; the array is immutable and only read.
    private struct UncheckedWrites: @unchecked Sendable {
        let writes: [(key: String, write: KVWrite)]
    }

    /// Deletes an entry.
    public func deleteEntry(_ key: String) async throws {
        try KVNamespaceInfo.validateID(id)
        let id = id
        try await store.withConnection(writing: true) { c in
            try c.query(.delete) { s in
                try s.bind(1, text: id)
                try s.bind(2, key: key)
                try s.run()
            }
        }
    }

    /// Deletes several entries in one transaction.
    public func deleteEntries(_ keys: [String]) async throws {
        try KVNamespaceInfo.validateID(id)
        let id = id
        try await store.withConnection(writing: true) { c in
            try c.transaction(immediate: true) {
                for key in keys {
                    try c.query(.delete) { s in
                        try s.bind(1, text: id)
                        try s.bind(2, key: key)
                        try s.run()
                    }
                }
            }
        }
    }

    /// Lists a page. The cursor is the base64 of the last key returned: the next page starts strictly after it,
    /// so keys inserted or deleted between pages never shift it.
    public func listEntries(_ request: KVListRequest) async throws -> KVListResult {
        try KVNamespaceInfo.validateID(id)
        let prefix = Array(request.prefix.utf8)
        var lower = prefix
        if let cursor = request.cursor, !cursor.isEmpty {
            guard let after = Data(base64Encoded: cursor) else { throw KVError(.get, status: 400, "Invalid cursor") }
            let next = Array(after) + [0]  // the smallest key strictly after the cursor's key
            if next.lexicographicallyPrecedes(prefix) == false { lower = next }
        }
        let lowerBound = lower
        let upper = SQLiteKVSchema.upperBound(ofPrefix: prefix)
        let now = clock.nowMilliseconds()
        let id = id
        let limit = request.limit
        return try await store.withConnection { [store] c in
            let (keys, more) = try c.query(.list) { s in
                try s.bind(1, text: id)
                try s.bind(2, blob: lowerBound)
                try s.bind(3, blob: upper)
                try s.bind(4, now)
                try s.bind(5, Int64(limit + 1))
                var keys: [KVListKey] = []
                while try s.step() {
                    if keys.count == limit { return (keys, true) }
                    keys.append(
                        KVListKey(
                            name: s.blobText(0), expiration: s.int64(1).map(Self.seconds),
                            metadata: try s.text(2).map { try JSONValue(parsing: $0) }))
                }
                return (keys, false)
            }
            store.purgeIfDue(c, now: now)
            let cursor = more ? keys.last.map { Data($0.name.utf8).base64EncodedString() } : nil
            return KVListResult(keys: keys, listComplete: !more, cursor: cursor)
        }
    }
}
