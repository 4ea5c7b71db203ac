import EdgeKV
import Foundation

/// Export to and seeding from a JSON file in the format `kv bulk put` reads: an array of
/// `{"key", "value", "base64"?, "metadata"?, "expiration"?, "expiration_ttl"?}`.
///
/// Both stream. An export writes item by item, in key order, to a temporary file beside the destination and renames
/// it over the destination at the end, so a failure leaves the old file (or none), never half a file. A seed reads
/// the file twice, element by element: first to check every item (one invalid item means nothing is written), then
/// to write the items in chunks, each compared with the destination as ``KVSync/run(observer:)`` compares keys.
extension KVSync {
    /// Writes the source's keys (within ``Configuration/prefix``) to the JSON file at `path`, replacing it.
    ///
    /// The file ends up holding exactly the selected source keys; every key written counts as ``SyncAction/added``.
    /// Keys expiring within ``Configuration/minimumLifetime`` are skipped, as KV would refuse them when seeded.
    /// Under ``Configuration/dryRun`` nothing is written.
    /// - Throws: a listing or read of the source that fails, or a file that cannot be written (then the file at
    ///   `path` is as it was).
    public static func export(
        from source: any KVNamespace, toFile path: String, configuration: Configuration = .init(),
        observer: (@Sendable (SyncEvent) -> Void)? = nil
    ) async throws -> SyncReport {
        let sync = KVSync(from: source, to: source, configuration: configuration)
        var state = RunState(observer: observer)
        let writer = configuration.dryRun ? nil : try JSONArrayFileWriter(path: path)
        do {
            var lister = Lister(namespace: source, prefix: configuration.prefix ?? "", pageSize: configuration.pageSize)
            while let page = try await lister.nextPage() {
                let now = source.clock.nowSeconds()
                var wanted: [String] = []
                for key in page {
                    if let reason = sync.tooSoon(key.expiration, now: now) {
                        state.emit(SyncEvent(key: key.name, action: .skipped, reason: reason))
                    } else {
                        wanted.append(key.name)
                    }
                }
                let entries = wanted.isEmpty ? [:] : try await sync.read(source, wanted)
                for name in wanted {
                    guard let entry = entries[name] else {
                        state.emit(SyncEvent(key: name, action: .skipped, reason: "gone from the source while syncing"))
                        continue
                    }
                    if let reason = sync.tooSoon(entry.expiration, now: now) {
                        state.emit(SyncEvent(key: name, action: .skipped, reason: reason))
                        continue
                    }
                    try writer?.append(SyncFileItem.serialize(key: name, entry: entry))
                    state.emit(SyncEvent(key: name, action: .added, bytes: entry.value.count))
                }
            }
            try writer?.commit()
        } catch {
            writer?.discard()
            throw error
        }
        return state.report
    }

    /// Writes the items of the JSON file at `path` (within ``Configuration/prefix``) to `destination`.
    ///
    /// A key repeated in the file takes its last item. With ``Configuration/delete``, destination keys the file
    /// lacks are deleted afterwards (the file's keys are then held in memory, without their values).
    /// - Throws: ``SyncFileError`` for a file that is missing or not a valid array of items (then nothing was
    ///   written); what ``KVSync/run(observer:)`` throws.
    public static func seed(
        fromFile path: String, to destination: any KVNamespace, configuration: Configuration = .init(),
        observer: (@Sendable (SyncEvent) -> Void)? = nil
    ) async throws -> SyncReport {
        let prefix = configuration.prefix ?? ""
        // Every item is checked before anything is written.
        var problems: [String] = []
        var invalid = 0
        try SyncFileItem.read(path) { index, value in
            do {
                _ = try SyncFileItem(value, now: 0)
            } catch {
                invalid += 1
                if problems.count < 20 { problems.append("[\(index)]: \(error)") }
            }
        }
        if invalid > 0 {
            throw SyncFileError(
                path: path,
                reason: "\(invalid) invalid item\(invalid == 1 ? "" : "s"), nothing written:\n"
                    + problems.joined(separator: "\n") + (invalid > problems.count ? "\n…" : ""))
        }

        let sync = KVSync(from: destination, to: destination, configuration: configuration)
        var state = RunState(observer: observer)
        var seen: Set<String>? = configuration.delete ? [] : nil
        var batch: [SyncFileItem] = []
        var positions: [String: Int] = [:]
        do {
            // The second pass writes a chunk at a time between reads.
            let reader = try SyncFileItem.Reader(path)
            while let (_, value) = try reader.next() {
                let item = try SyncFileItem(value, now: destination.clock.nowSeconds())
                guard item.key.hasPrefix(prefix) else { continue }
                seen?.insert(item.key)
                if let at = positions[item.key] {
                    batch[at] = item  // a later item wins
                } else {
                    positions[item.key] = batch.count
                    batch.append(item)
                }
                if batch.count >= configuration.pageSize {
                    try await sync.seedChunk(batch, &state)
                    batch = []
                    positions = [:]
                }
            }
            if !batch.isEmpty { try await sync.seedChunk(batch, &state) }
            try await sync.flush(&state, writes: true, deletes: false)
            try await sync.settle(&state)
            if let seen {
                var lister = Lister(namespace: destination, prefix: prefix, pageSize: KVLimits.maxListLimit)
                while let next = try await lister.peek() {
                    lister.advance()
                    if !seen.contains(next.name) { try await sync.enqueueDelete(next.name, &state) }
                }
                try await sync.flush(&state, writes: false, deletes: true)
            }
            try await sync.settle(&state)
        } catch {
            try? await sync.settle(&state)
            state.release()
            throw error
        }
        state.release()
        return state.report
    }

    /// Compares a chunk of file items with the destination and queues the writes.
    private func seedChunk(_ items: [SyncFileItem], _ state: inout RunState) async throws {
        let now = destination.clock.nowSeconds()
        var wanted: [SyncFileItem] = []
        for item in items {
            if let reason = tooSoon(item.entry.expiration, now: now) {
                state.emit(SyncEvent(key: item.key, action: .skipped, reason: reason))
            } else {
                wanted.append(item)
            }
        }
        guard !wanted.isEmpty else { return }
        let existing = try await read(destination, wanted.map(\.key))
        for item in wanted {
            let action: SyncAction =
                switch existing[item.key] {
                case nil: .added
                case item.entry?: .unchanged
                default: .changed
                }
            if action == .unchanged || configuration.dryRun {
                state.emit(
                    SyncEvent(key: item.key, action: action, bytes: action == .unchanged ? 0 : item.entry.value.count))
                continue
            }
            let write = KVWrite(
                value: item.entry.value, metadata: item.entry.metadata, expiration: item.entry.expiration)
            try await enqueueWrite(Item(key: item.key, write: write, action: action), &state)
        }
    }
}

/// A JSON file given to a sync that cannot be used, and why; nothing was written.
public struct SyncFileError: Error, Sendable, CustomStringConvertible {
    /// The file.
    public var path: String
    /// What is wrong with it.
    public var reason: String

    /// The message.
    public var description: String { "\(path): \(reason)" }
}

/// One item of a sync file.
struct SyncFileItem {
    static let fields: Set<String> = ["key", "value", "base64", "metadata", "expiration", "expiration_ttl"]

    let key: String
    let entry: KVEntry

    /// Checks an item; `now` turns an `expiration_ttl` into an expiration.
    init(_ item: JSONValue, now: Int64) throws {
        guard let object = item.objectValue else { throw ItemError("each item must be an object") }
        if let unknown = object.keys.filter({ !Self.fields.contains($0) }).sorted().first {
            throw ItemError("unknown field \"\(unknown)\" (fields: \(Self.fields.sorted().joined(separator: ", ")))")
        }
        guard let key = object["key"]?.stringValue else { throw ItemError("\"key\" must be a string") }
        try KVValidation.validateKey(key, for: .put)
        guard let text = object["value"]?.stringValue else { throw ItemError("\"value\" must be a string") }
        let value: [UInt8]
        switch object["base64"] {
        case nil, .null, .bool(false): value = Array(text.utf8)
        case .bool(true):
            guard let data = Data(base64Encoded: text) else { throw ItemError("\"value\" is not valid base64") }
            value = Array(data)
        default: throw ItemError("\"base64\" must be true or false")
        }
        try KVValidation.validateValueLength(value.count)
        let metadata = object["metadata"].flatMap { $0 == .null ? nil : $0 }
        try KVValidation.validateMetadata(metadata)
        var expiration = try Self.integer(object["expiration"], "expiration")
        if let ttl = try Self.integer(object["expiration_ttl"], "expiration_ttl") {
            guard expiration == nil else { throw ItemError("give \"expiration\" or \"expiration_ttl\", not both") }
            expiration = now.addingReportingOverflow(ttl).partialValue
        }
        self.key = key
        self.entry = KVEntry(value: value, metadata: metadata, expiration: expiration)
    }

    static func integer(_ value: JSONValue?, _ name: String) throws -> Int64? {
        switch value {
        case nil, .null: return nil
        case .int(let i): return i
        default: throw ItemError("\"\(name)\" must be an integer")
        }
    }

    /// The item's JSON text: text values as they are, others in base64 with `"base64": true`.
    static func serialize(key: String, entry: KVEntry) -> String {
        var text = "{\"key\":" + JSONValue.string(key).serialized
        if let string = String(validating: entry.value, as: UTF8.self) {
            text += ",\"value\":" + JSONValue.string(string).serialized
        } else {
            text += ",\"value\":" + JSONValue.string(Data(entry.value).base64EncodedString()).serialized
            text += ",\"base64\":true"
        }
        if let metadata = entry.metadata { text += ",\"metadata\":" + metadata.serialized }
        if let expiration = entry.expiration { text += ",\"expiration\":\(expiration)" }
        return text + "}"
    }

    struct ItemError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// Calls `handle` with every element of the file's array, reading it in chunks.
    static func read(_ path: String, _ handle: (Int, JSONValue) throws -> Void) throws {
        let reader = try Reader(path)
        while let (index, value) = try reader.next() { try handle(index, value) }
    }

    /// The elements of a file's array, one at a time, reading the file in chunks.
    final class Reader {
        let path: String
        let file: FileHandle
        var parser = JSONElementReader(maxElements: .max)
        var ready: [(Int, JSONValue)] = []
        var position = 0
        var ended = false

        init(_ path: String) throws {
            self.path = path
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                let file = FileHandle(forReadingAtPath: path)
            else { throw SyncFileError(path: path, reason: "no such file, or it cannot be read; nothing was changed") }
            self.file = file
        }

        deinit { try? file.close() }

        func next() throws -> (Int, JSONValue)? {
            while position == ready.count {
                ready = []
                position = 0
                guard !ended else { return nil }
                let chunk = try file.read(upToCount: 1 << 16) ?? Data()
                do {
                    if chunk.isEmpty {
                        ended = true
                        try parser.finish()
                    } else {
                        try parser.consume(Array(chunk)) { event in
                            if case .element(let index, let value) = event { ready.append((index, value)) }
                        }
                    }
                } catch let failure as JSONElementReader.Failure {
                    let reason =
                        switch failure {
                        case .malformed(let offset, let why): "invalid JSON at byte \(offset): \(why)"
                        default: "must contain a JSON array of items"
                        }
                    throw SyncFileError(path: path, reason: reason + "; nothing was changed")
                }
            }
            defer { position += 1 }
            return ready[position]
        }
    }
}

/// Writes a JSON array element by element to a temporary file beside `path`, renamed over `path` at the end.
final class JSONArrayFileWriter {
    let path: String
    let temporary: String
    let file: FileHandle
    var buffer: [UInt8] = Array("[".utf8)
    var count = 0
    var closed = false

    init(path: String) throws {
        let url = URL(fileURLWithPath: path)
        self.path = path
        temporary =
            url.deletingLastPathComponent().appendingPathComponent(
                ".\(url.lastPathComponent).\(UUID().uuidString).partial"
            ).path
        guard FileManager.default.createFile(atPath: temporary, contents: nil),
            let file = FileHandle(forWritingAtPath: temporary)
        else {
            throw SyncFileError(path: path, reason: "cannot create a file in \(url.deletingLastPathComponent().path)")
        }
        self.file = file
    }

    func append(_ element: String) throws {
        buffer += Array(((count == 0 ? "\n" : ",\n") + element).utf8)
        count += 1
        if buffer.count >= 1 << 20 { try drain() }
    }

    private func drain() throws {
        try file.write(contentsOf: buffer)
        buffer = []
    }

    /// Ends the array, makes the file durable and puts it in place.
    func commit() throws {
        buffer += Array((count == 0 ? "]\n" : "\n]\n").utf8)
        try drain()
        try file.synchronize()
        closed = true
        try file.close()
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw SyncFileError(path: path, reason: "cannot be replaced: \(reason)")
        }
    }

    /// Removes the temporary file.
    func discard() {
        if !closed { try? file.close() }
        unlink(temporary)
    }
}
