/// A Workers KV namespace: the storage side of the binding.
///
/// Conformers say where bytes live; the binding's meaning — validation, limits, error texts, the typed reads and
/// writes — lives once in the extension on this protocol, so every backend behaves the same. Callers use
/// `get`, `getWithMetadata`, `put`, `delete` and `list`; the requirements below receive validated input.
///
/// Conformers must:
/// - hide expired entries from every read and from `list` as soon as the ``clock`` passes their expiry;
/// - list keys in the order of their UTF-8 bytes, with literal prefixes and opaque cursors that mean
///   "strictly after the last key of the previous page";
/// - make a write visible to later reads (the consistency simulator is the exception, by design).
public protocol KVNamespace: Sendable {
    /// The clock expiry decisions are made against.
    var clock: any KVClock { get }

    /// Reads one entry; nil when missing or expired.
    func readEntry(_ key: String) async throws -> KVEntry?

    /// Reads one entry where the caller does not need its metadata: a backend may skip fetching it, so the entry's
    /// metadata can be nil although the key has some. Nil when missing or expired. The default implementation reads
    /// the whole entry.
    func readEntrySkippingMetadata(_ key: String) async throws -> KVEntry?

    /// Reads several entries at once; missing or expired keys are absent from the result.
    /// The default implementation reads them one by one.
    func readEntries(_ keys: [String]) async throws -> [String: KVEntry]

    /// Stores a validated write, replacing any entry under the key.
    func writeEntry(_ key: String, _ write: KVWrite) async throws

    /// Stores several validated writes. Backends that can should apply them atomically.
    /// The default implementation writes them one by one.
    func writeEntries(_ writes: [(key: String, write: KVWrite)]) async throws

    /// Removes an entry; removing a missing key succeeds.
    func deleteEntry(_ key: String) async throws

    /// Removes several entries. The default implementation removes them one by one.
    func deleteEntries(_ keys: [String]) async throws

    /// Lists one page of keys.
    /// - Throws: ``KVError`` `400 Invalid cursor` for a cursor this backend did not make.
    func listEntries(_ request: KVListRequest) async throws -> KVListResult
}

extension KVNamespace {
    /// Reads the whole entry.
    public func readEntrySkippingMetadata(_ key: String) async throws -> KVEntry? {
        try await readEntry(key)
    }

    /// Reads the keys one at a time.
    public func readEntries(_ keys: [String]) async throws -> [String: KVEntry] {
        var result: [String: KVEntry] = [:]
        for key in keys where result[key] == nil {
            if let entry = try await readEntry(key) { result[key] = entry }
        }
        return result
    }

    /// Writes the entries one at a time.
    public func writeEntries(_ writes: [(key: String, write: KVWrite)]) async throws {
        for (key, write) in writes { try await writeEntry(key, write) }
    }

    /// Deletes the keys one at a time.
    public func deleteEntries(_ keys: [String]) async throws {
        for key in keys { try await deleteEntry(key) }
    }
}
