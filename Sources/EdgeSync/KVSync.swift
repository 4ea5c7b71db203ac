import EdgeKV
import EdgeKVCloudflare
import Foundation

/// Copies keys with their values, metadata and expiration from one ``KVNamespace`` to another.
///
/// The sync streams: it walks both namespaces' listings side by side in key order, one page (at most 1000 keys)
/// of the source at a time, so memory holds a page of values and the write chunks in flight, never a namespace.
/// For each source key it decides:
/// - **added** when the destination lacks it; **changed** when the listed metadata or expiration differ, or the
///   value bytes differ (the destination's value is read only when the listings agree); **unchanged** otherwise;
/// - **skipped** when it expires within ``Configuration/minimumLifetime`` (60 s: KV refuses such writes), or when
///   it vanished from the source between the listing and the read;
/// - with ``Configuration/delete``, destination keys the source lacks are **deleted**.
///
/// Writes go through the destination's `writeEntries` in chunks within 10,000 items and
/// ``Configuration/maxChunkBytes`` (`/bulk` for Workers KV, one transaction locally), one chunk in flight while the
/// next page is read. Expiration travels as an absolute time. Every step is an upsert or a delete by key, so a
/// sync interrupted anywhere can simply be run again: it converges to the destination equal to the source for
/// the selected keys. Keys a bulk request reports as unsuccessful, and chunks that fail, are retried
/// ``Configuration/attempts`` times; a chunk the API rejects as invalid is split in halves to find the keys at
/// fault. What still fails is reported in ``SyncReport/failures`` with the reason.
///
/// Entries are read with the source's bulk read (``KVNamespace/readEntries(_:)``), which for Workers KV returns
/// exact bytes (see `CloudflareKVNamespace.readEntries`).
public struct KVSync: Sendable {
    /// How a sync runs.
    public struct Configuration: Sendable {
        /// Only keys starting with these exact characters.
        public var prefix: String?
        /// Decide and report, but write nothing.
        public var dryRun: Bool
        /// Also delete destination keys the source lacks (within the prefix).
        public var delete: Bool
        /// Keys expiring sooner than this many seconds from now are skipped (KV refuses them).
        public var minimumLifetime: Int64
        /// Keys per listing page (1…1000).
        public var pageSize: Int
        /// Items per write request (at most 10,000, the bulk limit).
        public var maxChunkItems: Int
        /// Value bytes per write request (the bulk limit is 100 MB of JSON; base64 adds a third for binary values).
        public var maxChunkBytes: Int
        /// Attempts per chunk (and per key reported unsuccessful), the first included.
        public var attempts: Int
        /// The wait before the first retry; it doubles for each further one.
        public var retryDelay: Duration

        /// Creates a configuration.
        public init(
            prefix: String? = nil, dryRun: Bool = false, delete: Bool = false, minimumLifetime: Int64 = 60,
            pageSize: Int = 1000, maxChunkItems: Int = 10_000, maxChunkBytes: Int = 8_000_000, attempts: Int = 3,
            retryDelay: Duration = .milliseconds(500)
        ) {
            self.prefix = prefix
            self.dryRun = dryRun
            self.delete = delete
            self.minimumLifetime = minimumLifetime
            self.pageSize = min(max(pageSize, 1), KVLimits.maxListLimit)
            self.maxChunkItems = min(max(maxChunkItems, 1), 10_000)
            self.maxChunkBytes = min(max(maxChunkBytes, 1), 70_000_000)
            self.attempts = max(attempts, 1)
            self.retryDelay = retryDelay
        }
    }

    /// Where keys come from.
    public let source: any KVNamespace
    /// Where keys go.
    public let destination: any KVNamespace
    /// How the sync runs.
    public let configuration: Configuration

    /// Creates a sync from `source` to `destination`.
    public init(from source: any KVNamespace, to destination: any KVNamespace, configuration: Configuration = .init()) {
        self.source = source
        self.destination = destination
        self.configuration = configuration
    }

    /// Counts the source keys the sync will look at (a listing pass, for progress totals).
    public func countSourceKeys() async throws -> Int {
        var lister = Lister(namespace: source, prefix: configuration.prefix ?? "", pageSize: KVLimits.maxListLimit)
        var count = 0
        while let page = try await lister.nextPage() { count += page.count }
        return count
    }

    /// Runs the sync.
    /// - Parameter observer: called with each key's outcome as it becomes final, on the sync's task.
    /// - Returns: the totals and the keys that failed.
    /// - Throws: what makes going on pointless — a listing or read that fails after the client's retries,
    ///   credentials refused, a namespace that does not exist. Whatever was written stays written; run again.
    public func run(observer: (@Sendable (SyncEvent) -> Void)? = nil) async throws -> SyncReport {
        var state = RunState(observer: observer)
        let prefix = configuration.prefix ?? ""
        var from = Lister(namespace: source, prefix: prefix, pageSize: configuration.pageSize)
        var to = Lister(namespace: destination, prefix: prefix, pageSize: KVLimits.maxListLimit)
        do {
            while let page = try await from.nextPage() {
                guard let upper = page.last?.name else { continue }
                let names = Set(page.map(\.name))
                var matched: [String: KVListKey] = [:]
                var doomed: [String] = []
                // Destination keys up to the page's last key: matches, or (with --delete) keys to remove.
                while let next = try await to.peek(), !upper.utf8.lexicographicallyPrecedes(next.name.utf8) {
                    to.advance()
                    if names.contains(next.name) {
                        matched[next.name] = next
                    } else if configuration.delete {
                        doomed.append(next.name)
                    }
                }
                state.expect(Self.merged(page.map(\.name), doomed))
                for key in doomed { try await enqueueDelete(key, &state) }
                try await process(page, matched: matched, &state)
                // Events wait for the keys before them; send what is pending rather than hold many of them.
                if state.held.count > configuration.maxChunkItems {
                    try await flush(&state, writes: true, deletes: true)
                }
            }
            if configuration.delete {
                while let next = try await to.peek() {
                    to.advance()
                    state.expect([next.name])
                    try await enqueueDelete(next.name, &state)
                }
            }
            try await flush(&state, writes: true, deletes: true)
            try await settle(&state)
        } catch {
            // Let the request in flight finish, so that what it wrote is accounted for, then stop.
            try? await settle(&state)
            state.release()
            throw error
        }
        state.release()
        return state.report
    }

    /// Two key lists, each in key (UTF-8) order, as one in key order.
    static func merged(_ a: [String], _ b: [String]) -> [String] {
        guard !b.isEmpty else { return a }
        var result: [String] = []
        result.reserveCapacity(a.count + b.count)
        var i = 0
        var j = 0
        while i < a.count || j < b.count {
            if j == b.count || (i < a.count && a[i].utf8.lexicographicallyPrecedes(b[j].utf8)) {
                result.append(a[i])
                i += 1
            } else {
                result.append(b[j])
                j += 1
            }
        }
        return result
    }

    // MARK: Deciding

    private func process(_ page: [KVListKey], matched: [String: KVListKey], _ state: inout RunState) async throws {
        let now = source.clock.nowSeconds()
        var wanted: [String] = []
        for key in page {
            if let reason = tooSoon(key.expiration, now: now) {
                state.emit(SyncEvent(key: key.name, action: .skipped, reason: reason))
            } else {
                wanted.append(key.name)
            }
        }
        guard !wanted.isEmpty else { return }
        let entries = try await read(source, wanted)
        // The destination's values are needed only where the listings cannot tell the entries apart.
        var compare: [String] = []
        for name in wanted {
            guard let entry = entries[name], let there = matched[name] else { continue }
            if there.metadata == entry.metadata && there.expiration == entry.expiration { compare.append(name) }
        }
        let existing = compare.isEmpty ? [:] : try await read(destination, compare)
        for name in wanted {
            guard let entry = entries[name] else {
                state.emit(SyncEvent(key: name, action: .skipped, reason: "gone from the source while syncing"))
                continue
            }
            if let reason = tooSoon(entry.expiration, now: now) {
                state.emit(SyncEvent(key: name, action: .skipped, reason: reason))
                continue
            }
            let action: SyncAction
            if matched[name] == nil {
                action = .added
            } else if let there = existing[name], there.value == entry.value, there.metadata == entry.metadata,
                there.expiration == entry.expiration
            {
                action = .unchanged
            } else {
                action = .changed
            }
            if action == .unchanged || configuration.dryRun {
                state.emit(SyncEvent(key: name, action: action, bytes: action == .unchanged ? 0 : entry.value.count))
                continue
            }
            let write = KVWrite(value: entry.value, metadata: entry.metadata, expiration: entry.expiration)
            try await enqueueWrite(Item(key: name, write: write, action: action), &state)
        }
    }

    /// Why a key with this expiry is skipped, or nil to copy it.
    func tooSoon(_ expiration: Int64?, now: Int64) -> String? {
        guard let expiration, expiration < now + configuration.minimumLifetime else { return nil }
        let left = expiration - now
        return left <= 0
            ? "expired" : "expires in \(left) s; KV needs at least \(configuration.minimumLifetime) s"
    }

    // MARK: Reading

    /// Reads entries through the namespace's own bulk read (for Workers KV, `/bulk/get` with exact bytes).
    func read(_ namespace: any KVNamespace, _ keys: [String]) async throws -> [String: KVEntry] {
        try await namespace.readEntries(keys)
    }

    // MARK: Writing

    /// A write (or, with no `write`, a delete) waiting to be sent.
    struct Item: Sendable {
        let key: String
        let write: KVWrite?
        let action: SyncAction
    }

    func enqueueWrite(_ item: Item, _ state: inout RunState) async throws {
        let size = item.write?.value.count ?? 0
        if !state.writes.isEmpty
            && (state.writes.count >= configuration.maxChunkItems
                || state.writeBytes + size > configuration.maxChunkBytes)
        {
            try await flush(&state, writes: true, deletes: false)
        }
        state.writes.append(item)
        state.writeBytes += size
    }

    func enqueueDelete(_ key: String, _ state: inout RunState) async throws {
        if configuration.dryRun {
            state.emit(SyncEvent(key: key, action: .deleted))
            return
        }
        if state.deletes.count >= 10_000 { try await flush(&state, writes: false, deletes: true) }
        state.deletes.append(Item(key: key, write: nil, action: .deleted))
    }

    /// Sends the pending chunks, after the request in flight has finished (one in flight at a time).
    func flush(_ state: inout RunState, writes: Bool, deletes: Bool) async throws {
        for kind in [writes ? state.writes : [], deletes ? state.deletes : []] where !kind.isEmpty {
            try await settle(&state)
            let sync = self
            state.inFlight = Task { try await sync.deliver(kind) }
        }
        if writes {
            state.writes = []
            state.writeBytes = 0
        }
        if deletes { state.deletes = [] }
    }

    /// Waits for the request in flight and records its outcome.
    func settle(_ state: inout RunState) async throws {
        guard let task = state.inFlight else { return }
        state.inFlight = nil
        for event in try await task.value { state.emit(event) }
    }

    /// Sends one chunk with retries; returns every key's outcome.
    /// - Throws: for credentials refused or a missing namespace (nothing later could succeed either).
    private func deliver(_ items: [Item]) async throws -> [SyncEvent] {
        var events: [SyncEvent] = []
        var pending = items
        var reason = ""
        for attempt in 1...configuration.attempts {
            if attempt > 1 { try await Task.sleep(for: configuration.retryDelay * (1 << min(attempt - 2, 10))) }
            if pending.first?.write != nil {
                // Time passed since the decision: a key now too close to its expiry would fail the whole request.
                let now = destination.clock.nowSeconds()
                pending = pending.filter { item in
                    guard let reason = tooSoon(item.write?.expiration, now: now) else { return true }
                    events.append(SyncEvent(key: item.key, action: .skipped, reason: reason))
                    return false
                }
            }
            guard !pending.isEmpty else { break }
            do {
                if pending[0].write != nil {
                    try await destination.writeEntries(pending.map { ($0.key, $0.write!) })
                } else {
                    try await destination.deleteEntries(pending.map(\.key))
                }
                events += pending.map(Self.done)
                pending = []
                break
            } catch let error as CloudflareBulkError {
                let failed = Set(error.unsuccessfulKeys)
                events += pending.filter { !failed.contains($0.key) }.map(Self.done)
                pending = pending.filter { failed.contains($0.key) }
                reason = error.underlying.map { "\($0)" } ?? "the API reported the key as unsuccessful"
            } catch let error as KVError {
                // The request was refused as invalid: retrying it whole cannot help. Halve it to find the culprits.
                guard pending.count > 1 else {
                    events.append(SyncEvent(key: pending[0].key, action: .failed, reason: "\(error)"))
                    pending = []
                    break
                }
                let half = pending.count / 2
                events += try await deliver(Array(pending[..<half]))
                events += try await deliver(Array(pending[half...]))
                pending = []
                break
            } catch let error as KVNamespaceError {
                throw error
            } catch let error as CloudflareAPIError where error.status == 401 || error.status == 403 {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                reason = "\(error)"
            }
        }
        events += pending.map { SyncEvent(key: $0.key, action: .failed, reason: reason) }
        return events
    }

    private static func done(_ item: Item) -> SyncEvent {
        SyncEvent(key: item.key, action: item.action, bytes: item.write?.value.count ?? 0)
    }

    /// The mutable state of one run, owned by its task.
    struct RunState {
        let observer: (@Sendable (SyncEvent) -> Void)?
        var report = SyncReport()
        var writes: [Item] = []
        var writeBytes = 0
        var deletes: [Item] = []
        var inFlight: Task<[SyncEvent], any Error>?
        /// Keys whose outcome the observer gets in this order (see ``expect(_:)``), from ``head`` on.
        var order: [String] = []
        var head = 0
        /// Outcomes that wait for an earlier key's.
        var held: [String: SyncEvent] = [:]

        init(observer: (@Sendable (SyncEvent) -> Void)?) { self.observer = observer }

        /// Makes the observer get these keys' outcomes in this order, after those of keys expected before. Writes
        /// finish later than unchanged keys are decided; without this the observer would see the keys grouped.
        mutating func expect(_ keys: [String]) { order += keys }

        mutating func emit(_ event: SyncEvent) {
            report.record(event)
            guard head < order.count else {
                observer?(event)
                return
            }
            held[event.key] = event
            while head < order.count, let next = held.removeValue(forKey: order[head]) {
                observer?(next)
                head += 1
            }
            if head == order.count || head > 4096 {
                order.removeFirst(head)
                head = 0
            }
        }

        /// Hands over what is still held (nothing, when every expected key had its outcome).
        mutating func release() {
            let rest = order[head...].compactMap { held.removeValue(forKey: $0) }
            order = []
            head = 0
            for event in rest + held.values.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
                observer?(event)
            }
            held = [:]
        }
    }
}

/// Walks a namespace's listing page by page (a page may be empty while the listing goes on).
struct Lister {
    let namespace: any KVNamespace
    let prefix: String
    let pageSize: Int
    private var cursor: String?
    private var complete = false
    private var buffer: [KVListKey] = []
    private var index = 0

    init(namespace: any KVNamespace, prefix: String, pageSize: Int) {
        self.namespace = namespace
        self.prefix = prefix
        self.pageSize = pageSize
    }

    /// The next page; nil at the end.
    mutating func nextPage() async throws -> [KVListKey]? {
        if index < buffer.count {
            defer {
                buffer = []
                index = 0
            }
            return Array(buffer[index...])
        }
        guard !complete else { return nil }
        let page = try await namespace.listEntries(KVListRequest(prefix: prefix, limit: pageSize, cursor: cursor))
        cursor = page.cursor
        complete = page.listComplete || page.cursor == nil
        return page.keys
    }

    /// The next key without consuming it; nil at the end.
    mutating func peek() async throws -> KVListKey? {
        while index >= buffer.count {
            guard let page = try await nextPage() else { return nil }
            buffer = page
            index = 0
        }
        return buffer[index]
    }

    /// Consumes the key ``peek()`` returned.
    mutating func advance() { index += 1 }
}
