import EdgeKV
import EdgeSupport
import Foundation

/// A Workers KV namespace reached through the REST API: the same ``KVNamespace`` contract as the local emulator,
/// so session stores and user code switch from local to remote without a change.
///
/// Reads of a value without metadata take one request; `getWithMetadata` takes two (the value, then the
/// metadata). Bulk reads use `/bulk/get` (text values), bulk writes and deletes the bulk endpoints.
public struct CloudflareKVNamespace: KVNamespace {
    /// The client.
    public let client: CloudflareClient
    /// The namespace id.
    public let id: String
    /// The clock the binding's checks read (the service decides expiry on its own clock).
    public let clock: any KVClock
    /// How many `/bulk/get` requests ``readEntries(_:)`` keeps in flight.
    public let readConcurrency: Int

    /// Creates a namespace handle.
    public init(client: CloudflareClient, id: String, clock: any KVClock = SystemClock(), readConcurrency: Int = 4) {
        self.client = client
        self.id = id
        self.clock = clock
        self.readConcurrency = max(readConcurrency, 1)
    }

    /// Runs a call, turning the service's answers into the binding's errors.
    func mapped<T>(_ operation: KVOperation, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as CloudflareAPIError {
            if error.code == 10013 { throw KVNamespaceError.notFound(id) }
            if (400..<500).contains(error.status) && error.status != 401 && error.status != 403 {
                throw KVError(operation, status: error.status, error.message, code: error.code)
            }
            throw error
        }
    }

    /// Reads the value and then its metadata.
    public func readEntry(_ key: String) async throws -> KVEntry? {
        try await mapped(.get) {
            guard let (value, expiration) = try await client.readValue(namespaceID: id, key: key) else { return nil }
            // The key can vanish between the two requests: then it is gone.
            guard let metadata = try await client.readMetadata(namespaceID: id, key: key) else { return nil }
            return KVEntry(value: value, metadata: metadata == .null ? nil : metadata, expiration: expiration)
        }
    }

    /// Reads the value and expiration alone, without the metadata: one request.
    public func readEntrySkippingMetadata(_ key: String) async throws -> KVEntry? {
        try await mapped(.get) {
            try await client.readValue(namespaceID: id, key: key).map {
                KVEntry(value: $0.value, expiration: $0.expiration)
            }
        }
    }

    /// Reads entries through `/bulk/get`: 100 keys a request, up to ``readConcurrency`` requests in flight. Values come
    /// back as they were stored: `/bulk/get` answers in text, so a value that arrives with U+FFFD (bytes that are not
    /// UTF-8, or that character itself) is read again on its own, and a chunk the service will not answer as text
    /// (400) or at once (413) is read one key at a time.
    public func readEntries(_ keys: [String]) async throws -> [String: KVEntry] {
        let unique = Array(Set(keys))
        let chunks = stride(from: 0, to: unique.count, by: KVLimits.maxBulkKeys).map {
            Array(unique[$0..<min(unique.count, $0 + KVLimits.maxBulkKeys)])
        }
        let concurrency = readConcurrency
        return try await withThrowingTaskGroup(of: [String: KVEntry].self) { group in
            var result: [String: KVEntry] = [:]
            var next = 0
            func start() {
                let chunk = chunks[next]
                next += 1
                group.addTask { try await readChunk(chunk) }
            }
            while next < min(concurrency, chunks.count) { start() }
            while let part = try await group.next() {
                result.merge(part) { a, _ in a }
                if next < chunks.count { start() }
            }
            return result
        }
    }

    private static let replacementCharacter: [UInt8] = [0xEF, 0xBF, 0xBD]

    private func readChunk(_ keys: [String]) async throws -> [String: KVEntry] {
        var entries: [String: KVEntry]
        do {
            entries = try await client.bulkGet(namespaceID: id, keys: keys)
        } catch let error as CloudflareAPIError where error.status == 400 || error.status == 413 {
            entries = [:]
            for key in keys { if let entry = try await readEntry(key) { entries[key] = entry } }
            return entries
        } catch {
            return try await mapped(.getBulk) { throw error }
        }
        for (key, entry) in entries where ByteSearch.contains(entry.value, Self.replacementCharacter) {
            guard let raw = try await mapped(.get, { try await client.readValue(namespaceID: id, key: key) }) else {
                entries[key] = nil
                continue
            }
            entries[key]?.value = raw.value
        }
        return entries
    }

    /// Writes one value (multipart when there is metadata).
    public func writeEntry(_ key: String, _ write: KVWrite) async throws {
        try await mapped(.put) {
            try await client.writeValue(
                namespaceID: id, key: key, value: write.value, metadata: write.metadata, expiration: write.expiration,
                expirationTtl: write.expirationTtl)
        }
    }

    /// Writes through `/bulk` in requests within 10,000 items and 100 MB.
    /// - Throws: ``CloudflareBulkError`` listing the keys that did not land — those the API reported, and when a
    ///   request fails after earlier ones landed, every key of that request and of the ones after it. When the
    ///   first request fails, nothing landed and its error is thrown as is.
    public func writeEntries(_ writes: [(key: String, write: KVWrite)]) async throws {
        try await writeEntries(writes, progress: { _ in })
    }

    /// ``writeEntries(_:)``, calling `progress` with the number of items sent after each request.
    public func writeEntries(_ writes: [(key: String, write: KVWrite)], progress: (Int) -> Void) async throws {
        let items = writes.map {
            CloudflareClient.BulkWriteItem(
                key: $0.key, value: $0.write.value, expiration: $0.write.expiration,
                expirationTtl: $0.write.expirationTtl, metadata: $0.write.metadata)
        }
        try await mapped(.put) {
            try await Self.send(Self.chunks(items), key: \.key, progress: progress) { chunk in
                try await client.bulkWrite(namespaceID: id, items: chunk).unsuccessfulKeys
            }
        }
    }

    /// Sends bulk requests in order and collects the keys the API reports as not done.
    /// - Throws: ``CloudflareBulkError`` with those keys; or, when a request fails after earlier ones landed, with
    ///   the keys of that request and every later one and the failure as ``CloudflareBulkError/underlying``; or the
    ///   first request's own error when it fails (then nothing landed).
    static func send<Item>(
        _ chunks: [[Item]], key: (Item) -> String, progress: (Int) -> Void = { _ in },
        _ request: ([Item]) async throws -> [String]
    ) async throws {
        var failed: [String] = []
        var sent = 0
        for (index, chunk) in chunks.enumerated() {
            do {
                failed += try await request(chunk)
            } catch {
                guard index > 0 else { throw error }  // nothing landed: the error says it all
                let notSent = chunks[index...].flatMap { $0.map(key) }
                throw CloudflareBulkError(unsuccessfulKeys: failed + notSent, underlying: error)
            }
            sent += chunk.count
            progress(sent)
        }
        if !failed.isEmpty { throw CloudflareBulkError(unsuccessfulKeys: failed) }
    }

    /// The most items in one `/bulk` request.
    static let maxBulkItems = 10_000
    /// The largest `/bulk` request body, in bytes of JSON.
    static let maxBulkBodyBytes = 100_000_000

    /// Splits bulk items into requests of at most 10,000 items and 100 MB of JSON.
    static func chunks(_ items: [CloudflareClient.BulkWriteItem]) -> [[CloudflareClient.BulkWriteItem]] {
        var chunks: [[CloudflareClient.BulkWriteItem]] = []
        var current: [CloudflareClient.BulkWriteItem] = []
        var bytes = 2  // the brackets
        for item in items {
            // The item's own JSON and a comma: escapes can make a text value several times its length.
            let size = item.json.serialized.utf8.count + 1
            if !current.isEmpty && (current.count == maxBulkItems || bytes + size > maxBulkBodyBytes) {
                chunks.append(current)
                current = []
                bytes = 2
            }
            current.append(item)
            bytes += size
        }
        if !current.isEmpty { chunks.append(current) }
        return chunks
    }

    /// Deletes one key.
    public func deleteEntry(_ key: String) async throws {
        try await mapped(.delete) { try await client.deleteValue(namespaceID: id, key: key) }
    }

    /// Deletes through `/bulk/delete` in requests of at most 10,000 keys.
    /// - Throws: ``CloudflareBulkError`` listing the keys that were not deleted, as ``writeEntries(_:)`` does.
    public func deleteEntries(_ keys: [String]) async throws {
        let chunks = stride(from: 0, to: keys.count, by: 10_000).map {
            Array(keys[$0..<min(keys.count, $0 + 10_000)])
        }
        try await mapped(.delete) {
            try await Self.send(chunks, key: { $0 }) { chunk in
                try await client.bulkDelete(namespaceID: id, keys: chunk).unsuccessfulKeys
            }
        }
    }

    /// Lists a page through the keys endpoint (whose smallest page is 10 keys).
    public func listEntries(_ request: KVListRequest) async throws -> KVListResult {
        try await mapped(.get) {
            try await client.listKeys(
                namespaceID: id, prefix: request.prefix, limit: max(10, request.limit), cursor: request.cursor)
        }
    }
}

/// Keys a bulk request reported as not written or not deleted.
public struct CloudflareBulkError: Error, Sendable, CustomStringConvertible {
    /// The keys, to retry.
    public let unsuccessfulKeys: [String]
    /// The failure that stopped the write part way, when one did (the keys of that request and of every later
    /// one are in ``unsuccessfulKeys``).
    public let underlying: (any Error)?

    init(unsuccessfulKeys: [String], underlying: (any Error)? = nil) {
        self.unsuccessfulKeys = unsuccessfulKeys
        self.underlying = underlying
    }

    /// `3 keys did not land: a, b, c`, followed by `; stopped by: <error>` when a failure cut the write short.
    public var description: String {
        let shown = unsuccessfulKeys.prefix(20).joined(separator: ", ")
        let more = unsuccessfulKeys.count > 20 ? ", …" : ""
        let cause = underlying.map { "; stopped by: \($0)" } ?? ""
        return "\(unsuccessfulKeys.count) key\(unsuccessfulKeys.count == 1 ? "" : "s") did not land: \(shown)\(more)"
            + cause
    }
}

extension CloudflareClient: KVNamespaceManager {
    /// Creates a namespace.
    public func createNamespace(title: String) async throws -> KVNamespaceInfo {
        try Self.validateTitle(title)
        return try await mappedNamespace {
            try Self.namespace(try await json("POST", url(""), body: ["title": .string(title)]).result)
        }
    }

    /// Every namespace, ordered by title.
    public func listNamespaces() async throws -> [KVNamespaceInfo] {
        var all: [KVNamespaceInfo] = []
        for try await info in namespaces() { all.append(info) }
        return all.sorted { $0.title == $1.title ? $0.id < $1.id : $0.title < $1.title }
    }

    /// The namespace with this id, or nil.
    public func namespaceInfo(id: String) async throws -> KVNamespaceInfo? {
        do {
            return try await getNamespace(id: id)
        } catch let error as CloudflareAPIError where error.code == 10013 || error.status == 404 {
            return nil
        }
    }

    /// Renames a namespace.
    public func renameNamespace(id: String, title: String) async throws {
        try Self.validateTitle(title)
        _ = try await mappedNamespace {
            try await json("PUT", url("/\(Self.segment(id))"), body: ["title": .string(title)])
        }
    }

    /// Deletes a namespace.
    public func deleteNamespace(id: String) async throws {
        _ = try await mappedNamespace { try await json("DELETE", url("/\(Self.segment(id))")) }
    }

    /// The namespace for reads and writes.
    public func namespace(id: String) -> any KVNamespace { CloudflareKVNamespace(client: self, id: id) }

    func mappedNamespace<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as CloudflareAPIError where error.code == 10013 || error.code == 10014 {
            throw KVNamespaceError(code: error.code!, status: error.status, message: error.message)
        }
    }
}
