import Foundation

// The Workers binding surface: what `env.NAMESPACE.get/put/delete/list` do, with their checks.
extension KVNamespace {
    /// Reads a key's entry — value, expiration and, with `metadata`, its metadata — checked as `get` checks it; nil
    /// when the key is missing or expired. Without `metadata` a backend may skip fetching it (the entry's metadata
    /// can then be nil although the key has some).
    /// - Throws: ``KVError`` for an invalid key or `cacheTtl`.
    public func getEntry(_ key: String, metadata: Bool = true, cacheTtl: Int? = nil) async throws -> KVEntry? {
        try KVValidation.validateKey(key, for: .get)
        try KVValidation.validateCacheTtl(cacheTtl, for: .get)
        return try await metadata ? readEntry(key) : readEntrySkippingMetadata(key)
    }

    /// Reads a value as UTF-8 text (`get(key)` / `get(key, "text")`); nil when the key is missing or expired.
    /// - Throws: ``KVError`` for an invalid key or `cacheTtl`.
    public func get(_ key: String, cacheTtl: Int? = nil) async throws -> String? {
        try await getEntry(key, metadata: false, cacheTtl: cacheTtl).map { String(decoding: $0.value, as: UTF8.self) }
    }

    /// Reads a value and decodes it from JSON (`get(key, "json")`).
    /// - Throws: ``KVError`` for an invalid key, or the decoder's error when the value is not the JSON expected.
    public func get<T: Decodable>(_ key: String, as type: T.Type, cacheTtl: Int? = nil) async throws -> T? {
        guard let e = try await getEntry(key, metadata: false, cacheTtl: cacheTtl) else { return nil }
        return try decodeJSON(type, from: e.value)
    }

    /// Reads a value's bytes (`get(key, "arrayBuffer")`).
    /// - Throws: ``KVError`` for an invalid key or `cacheTtl`.
    public func getBytes(_ key: String, cacheTtl: Int? = nil) async throws -> [UInt8]? {
        try await getEntry(key, metadata: false, cacheTtl: cacheTtl)?.value
    }

    /// Reads a value as a stream of chunks (`get(key, "stream")`).
    /// - Throws: ``KVError`` for an invalid key or `cacheTtl`.
    public func getStream(
        _ key: String, cacheTtl: Int? = nil, chunkSize: Int = 64 * 1024
    ) async throws -> AsyncThrowingStream<[UInt8], any Error>? {
        guard let e = try await getEntry(key, metadata: false, cacheTtl: cacheTtl) else { return nil }
        return Self.chunks(of: e.value, size: chunkSize)
    }

    /// Reads a value as text with its metadata; nil when the key is missing.
    public func getWithMetadata(_ key: String, cacheTtl: Int? = nil) async throws -> KVValueWithMetadata<String>? {
        try await getEntry(key, cacheTtl: cacheTtl).map {
            KVValueWithMetadata(value: String(decoding: $0.value, as: UTF8.self), metadata: $0.metadata)
        }
    }

    /// Reads a value as bytes with its metadata; nil when the key is missing.
    public func getBytesWithMetadata(
        _ key: String, cacheTtl: Int? = nil
    ) async throws -> KVValueWithMetadata<[UInt8]>? {
        try await getEntry(key, cacheTtl: cacheTtl).map { KVValueWithMetadata(value: $0.value, metadata: $0.metadata) }
    }

    /// Reads and decodes a JSON value with its metadata; nil when the key is missing.
    public func getWithMetadata<T: Decodable & Sendable>(
        _ key: String, as type: T.Type, cacheTtl: Int? = nil
    ) async throws -> KVValueWithMetadata<T>? {
        guard let e = try await getEntry(key, cacheTtl: cacheTtl) else { return nil }
        return KVValueWithMetadata(value: try decodeJSON(type, from: e.value), metadata: e.metadata)
    }

    // MARK: Bulk reads

    private func bulk(_ keys: [String], type: KVBulkType, cacheTtl: Int?) async throws -> [String: KVEntry] {
        try KVValidation.validateBulkKeys(keys)
        try KVValidation.validateCacheTtl(cacheTtl, for: .getBulk)
        let entries = try await readEntries(keys)
        try KVValidation.validateBulkSize(entries.values.reduce(0) { $0 + $1.value.count })
        if type == .json {
            for e in entries.values where (try? JSONValue(parsing: e.value)) == nil {
                throw KVValidation.nonJSONBulkValue
            }
        }
        return entries
    }

    /// Reads up to 100 keys as text at once; a missing key maps to nil.
    /// - Throws: ``KVError`` `GET_BULK failed: …` for 0 or more than 100 keys, or more than 25 MB of values.
    public func get(_ keys: [String], cacheTtl: Int? = nil) async throws -> [String: String?] {
        let entries = try await bulk(keys, type: .text, cacheTtl: cacheTtl)
        return Dictionary(keys.map { k in (k, entries[k].map { String(decoding: $0.value, as: UTF8.self) }) }) { a, _ in
            a
        }
    }

    /// Reads up to 100 JSON values at once; a missing key maps to nil.
    /// - Throws: ``KVError`` `GET_BULK failed: 400 At least one of the requested keys corresponds to a non-json
    ///   value` when a value is not JSON, and the key-count and size errors.
    public func get<T: Decodable>(_ keys: [String], as type: T.Type, cacheTtl: Int? = nil) async throws -> [String: T?]
    {
        let entries = try await bulk(keys, type: .json, cacheTtl: cacheTtl)
        var result: [String: T?] = [:]
        for k in keys { result.updateValue(try entries[k].map { try decodeJSON(type, from: $0.value) }, forKey: k) }
        return result
    }

    /// Reads up to 100 keys with their metadata; a missing key maps to nil.
    public func getWithMetadata(
        _ keys: [String], type: KVBulkType = .text, cacheTtl: Int? = nil
    ) async throws -> [String: KVValueWithMetadata<JSONValue>?] {
        let entries = try await bulk(keys, type: type, cacheTtl: cacheTtl)
        var result: [String: KVValueWithMetadata<JSONValue>?] = [:]
        for k in keys {
            let item = try entries[k].map { e in
                let value: JSONValue =
                    type == .json ? try JSONValue(parsing: e.value) : .string(String(decoding: e.value, as: UTF8.self))
                return KVValueWithMetadata(value: value, metadata: e.metadata)
            }
            result.updateValue(item, forKey: k)
        }
        return result
    }

    // MARK: Writes

    /// Stores bytes under a key.
    /// - Throws: ``KVError`` for an invalid key, a value over 25 MiB, metadata over 1024 bytes or a bad expiry.
    public func put(_ key: String, bytes: [UInt8], options: KVPutOptions = KVPutOptions()) async throws {
        let write = try KVValidation.validatePut(key, value: bytes, options: options, clock: clock)
        try await writeEntry(key, write)
    }

    /// Stores text (as UTF-8) under a key.
    /// - Throws: ``KVError`` as ``put(_:bytes:options:)``.
    public func put(_ key: String, _ value: String, options: KVPutOptions = KVPutOptions()) async throws {
        try await put(key, bytes: Array(value.utf8), options: options)
    }

    /// Stores a value encoded as JSON.
    /// - Throws: ``KVError`` as ``put(_:bytes:options:)``, or the encoder's error.
    public func put<T: Encodable>(_ key: String, json value: T, options: KVPutOptions = KVPutOptions()) async throws {
        try await put(key, bytes: Array(try JSONEncoder().encode(value)), options: options)
    }

    /// Stores the bytes of a stream. The key is checked before the stream is read, and at most the size limit
    /// is kept in memory: a longer stream is drained and refused with its full length in the error.
    /// - Throws: ``KVError`` as ``put(_:bytes:options:)``, or the stream's own error.
    public func put<S: AsyncSequence>(
        _ key: String, stream: S, options: KVPutOptions = KVPutOptions()
    ) async throws where S.Element == [UInt8] {
        try KVValidation.validateKey(key, for: .put)
        var buffer: [UInt8] = []
        var total = 0
        for try await chunk in stream {
            total += chunk.count
            if total <= KVLimits.maxValueBytes { buffer.append(contentsOf: chunk) }
        }
        try KVValidation.validateValueLength(total)
        try await put(key, bytes: buffer, options: options)
    }

    /// Deletes a key; deleting a missing key succeeds.
    /// - Throws: ``KVError`` for an invalid key.
    public func delete(_ key: String) async throws {
        try KVValidation.validateKey(key, for: .delete)
        try await deleteEntry(key)
    }

    // MARK: List

    /// Lists one page of keys in UTF-8 byte order.
    /// - Throws: ``KVError`` for a limit over 1000, a prefix over 512 bytes or a cursor that is not this
    ///   namespace's.
    public func list(_ options: KVListOptions = KVListOptions()) async throws -> KVListResult {
        try await listEntries(try KVValidation.validateList(options))
    }

    /// Lists one page of keys.
    public func list(prefix: String? = nil, limit: Int? = nil, cursor: String? = nil) async throws -> KVListResult {
        try await list(KVListOptions(prefix: prefix, limit: limit, cursor: cursor))
    }

    /// Every key with the prefix, following cursors to the end; with `cursor`, the keys after the page it came from.
    /// The stream throws ``KVError`` as ``list(_:)`` does.
    public func listAll(prefix: String? = nil, cursor: String? = nil) -> AsyncThrowingStream<KVListKey, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    var cursor = cursor
                    repeat {
                        let page = try await list(prefix: prefix, cursor: cursor)
                        for key in page.keys { continuation.yield(key) }
                        cursor = page.listComplete ? nil : page.cursor
                    } while cursor != nil
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    // MARK: Helpers

    private func decodeJSON<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        if type == JSONValue.self { return try JSONValue(parsing: bytes) as! T }
        return try JSONDecoder().decode(type, from: Data(bytes))
    }

    static func chunks(of bytes: [UInt8], size: Int) -> AsyncThrowingStream<[UInt8], any Error> {
        let size = max(1, size)
        return AsyncThrowingStream { continuation in
            var offset = 0
            while offset < bytes.count {
                let end = min(bytes.count, offset + size)
                continuation.yield(Array(bytes[offset..<end]))
                offset = end
            }
            continuation.finish()
        }
    }
}
