import EdgeKV
import EdgeSupport
import Foundation
import Synchronization

/// Makes Workers KV's eventual consistency and write limit testable over any namespace.
///
/// The wrapped namespace holds the truth. Each named location sees a write made elsewhere only after the
/// propagation delay, serves reads from its own cache for `cacheTtl` (misses are cached too), and sees its own
/// writes and deletes at once. A second write to a key within a second fails with `KV PUT failed: 429 Too Many
/// Requests`. Everything runs on the namespace's clock, so a manual clock makes it deterministic.
public final class ConsistencySimulator: Sendable {
    /// How the simulated service behaves.
    public struct Configuration: Sendable {
        /// Seconds before a write is visible at other locations; with ``propagationJitter`` a random delay in
        /// `propagation ... propagation + jitter` is drawn per write from ``seed``.
        public var propagation: Double
        /// Extra random delay in seconds (0 for a fixed delay).
        public var propagationJitter: Double
        /// Seconds a location keeps a read (hits and misses).
        public var cacheTtl: Double
        /// Whether a second write to a key within one second fails with 429.
        public var writeLimit: Bool
        /// The seed of the random delays.
        public var seed: UInt64
        /// The most reads one location keeps cached; past it the oldest leaves first.
        public var maxCachedEntriesPerLocation: Int
        /// The most reads all locations keep cached together; past it the oldest leaves first.
        public var maxCachedEntries: Int
        /// About how many bytes of values, keys and location names the cached reads may hold together; past it the
        /// oldest leaves first.
        public var maxCachedBytes: Int

        /// Production-like defaults: 60 s propagation, 60 s cache, the write limit on; at most 10,000 cached reads
        /// per location, 100,000 and 256 MiB in all.
        public init(
            propagation: Double = 60, propagationJitter: Double = 0, cacheTtl: Double = 60, writeLimit: Bool = true,
            seed: UInt64 = 1, maxCachedEntriesPerLocation: Int = 10_000, maxCachedEntries: Int = 100_000,
            maxCachedBytes: Int = 256 * 1024 * 1024
        ) {
            self.propagation = propagation
            self.propagationJitter = propagationJitter
            self.cacheTtl = cacheTtl
            self.writeLimit = writeLimit
            self.seed = seed
            self.maxCachedEntriesPerLocation = maxCachedEntriesPerLocation
            self.maxCachedEntries = maxCachedEntries
            self.maxCachedBytes = maxCachedBytes
        }

        /// Strongly consistent: no delay, no cache, no write limit (what Miniflare does).
        public static let strong = Configuration(propagation: 0, cacheTtl: 0, writeLimit: false)
    }

    /// The namespace underneath.
    public let base: any KVNamespace
    /// The behaviour.
    public let configuration: Configuration
    private let state: Mutex<State>

    struct Version {
        /// nil for a delete.
        var entry: KVEntry?
        var at: Int64
        var location: String
        var visibleElsewhereAt: Int64
    }

    struct History {
        /// What every location saw before the first logged write.
        var baseline: KVEntry?
        var versions: [Version]
    }

    /// Keys by their exact bytes: Swift's `String` equality would merge canonically equivalent keys (NFC and NFD
    /// spellings), which KV keeps apart.
    struct Key: Hashable {
        let bytes: [UInt8]
        init(_ key: String) { bytes = Array(key.utf8) }
        var name: String { String(decoding: bytes, as: UTF8.self) }
    }

    struct State {
        var histories: [Key: History] = [:]
        var cache: ReadCache
        var lastWrite: [Key: Int64] = [:]
        var rng: SplitMix64
    }

    /// Wraps `base`.
    public init(base: any KVNamespace, configuration: Configuration = Configuration()) {
        self.base = base
        self.configuration = configuration
        state = Mutex(
            State(
                cache: ReadCache(
                    maxPerLocation: configuration.maxCachedEntriesPerLocation,
                    maxTotal: configuration.maxCachedEntries, maxBytes: configuration.maxCachedBytes),
                rng: SplitMix64(seed: configuration.seed)))
    }

    /// How many reads are cached, over all locations, and at how many locations.
    var cachedReads: (entries: Int, locations: Int) {
        state.withLock { ($0.cache.count, $0.cache.locations.count) }
    }

    /// The namespace as code running at `location` sees it.
    public func namespace(at location: String) -> SimulatedKVNamespace {
        SimulatedKVNamespace(simulator: self, location: location)
    }

    /// The longest location name ``isValidLocation(_:)`` accepts.
    public static let maxLocationLength = 64

    /// Whether `name` is a location name a client may choose: 1 to 64 ASCII letters, digits, `_` or `-` (a
    /// country code as `CF-IPCountry` sends it, a colo like `LHR`, or a name such as `eu-west`).
    ///
    /// The simulator keeps a location's name with each of its cached reads and writes, so a server that takes the
    /// location from a request checks it first.
    public static func isValidLocation(_ name: String) -> Bool {
        let bytes = name.utf8
        guard (1...maxLocationLength).contains(bytes.count) else { return false }
        return bytes.allSatisfy { c in
            switch c {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
                return true
            default:
                return false
            }
        }
    }

    var now: Int64 { base.clock.nowMilliseconds() }

    /// A configured delay in milliseconds, held to 0 ... 10⁹ s (a NaN is 0) so that no setting can trap.
    func milliseconds(_ seconds: Double) -> Int64 {
        guard seconds.isFinite, seconds > 0 else { return 0 }
        return Int64((min(seconds, 1e9) * 1000).rounded())
    }

    // MARK: Reads

    func read(_ name: String, at location: String) async throws -> KVEntry? {
        let now = now
        let key = Key(name)
        if let hit = state.withLock({ $0.cache.entry(at: location, key, now: now) }) {
            return Self.live(hit.value, now)
        }
        let logged = state.withLock { $0.histories[key] }
        let entry: KVEntry?
        if let logged {
            entry = Self.visible(logged, at: location, now: now)
        } else {
            entry = try await base.readEntry(name)
        }
        let ttl = milliseconds(configuration.cacheTtl)
        if ttl > 0 {
            state.withLock { $0.cache.insert(entry, for: key, at: location, until: now.saturatingAdd(ttl), now: now) }
        }
        return Self.live(entry, now)
    }

    static func visible(_ history: History, at location: String, now: Int64) -> KVEntry? {
        let seen = history.versions.last { $0.location == location || $0.visibleElsewhereAt <= now }
        return seen.map(\.entry) ?? history.baseline
    }

    static func live(_ entry: KVEntry?, _ now: Int64) -> KVEntry? {
        guard let entry else { return nil }
        if let e = entry.expiration, Int64.milliseconds(seconds: e) <= now { return nil }
        return entry
    }

    // MARK: Writes

    func write(_ name: String, _ entry: KVEntry?, at location: String, operation: KVOperation) async throws {
        let now = now
        let key = Key(name)
        if configuration.writeLimit {
            let limited = state.withLock { s in
                if let last = s.lastWrite[key], now.saturatingSubtract(last) < 1000 { return true }
                s.lastWrite[key] = now
                return false
            }
            if limited { throw KVError(operation, status: 429, "Too Many Requests") }
        }
        let needsBaseline = state.withLock { $0.histories[key] == nil }
        let baseline = needsBaseline ? try await base.readEntry(name) : nil
        state.withLock { s in
            var delay = configuration.propagation
            if configuration.propagationJitter > 0 {
                delay += Double(s.rng.next() % 1_000_000) / 1_000_000 * configuration.propagationJitter
            }
            let version = Version(
                entry: entry, at: now, location: location, visibleElsewhereAt: now.saturatingAdd(milliseconds(delay)))
            if s.histories[key] == nil { s.histories[key] = History(baseline: baseline, versions: []) }
            s.histories[key]!.versions.append(version)
            // The writer's own location sees its write at once, whatever it had cached.
            s.cache.remove(key, at: location)
            s.cache.sweep(now: now)
            Self.compact(&s.histories[key]!, now: now)
        }
    }

    /// Folds versions visible everywhere into the baseline.
    static func compact(_ history: inout History, now: Int64) {
        while history.versions.count > 1, history.versions[1].visibleElsewhereAt <= now,
            history.versions[0].visibleElsewhereAt <= now
        {
            history.baseline = history.versions.removeFirst().entry
        }
    }

    // MARK: List

    func list(_ request: KVListRequest, at location: String) async throws -> KVListResult {
        let now = now
        var keys: [Key: KVListKey] = [:]
        var cursor: String?
        repeat {
            let page = try await base.listEntries(KVListRequest(prefix: request.prefix, limit: 1000, cursor: cursor))
            for k in page.keys { keys[Key(k.name)] = k }
            cursor = page.listComplete ? nil : page.cursor
        } while cursor != nil
        let histories = state.withLock { $0.histories }
        let prefix = Array(request.prefix.utf8)
        for (key, history) in histories where key.bytes.starts(with: prefix) {
            if let entry = Self.live(Self.visible(history, at: location, now: now), now) {
                keys[key] = KVListKey(name: key.name, expiration: entry.expiration, metadata: entry.metadata)
            } else {
                keys[key] = nil
            }
        }
        var sorted = keys.values.sorted { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }
        if let after = request.cursor, !after.isEmpty {
            guard let data = Data(base64Encoded: after) else { throw KVError(.get, status: 400, "Invalid cursor") }
            let bound = Array(data)
            sorted.removeAll { !bound.lexicographicallyPrecedes(Array($0.name.utf8)) }
        }
        let page = Array(sorted.prefix(request.limit))
        let more = sorted.count > request.limit
        return KVListResult(
            keys: page, listComplete: !more,
            cursor: more ? page.last.map { Data($0.name.utf8).base64EncodedString() } : nil)
    }
}

/// The simulated namespace at one location.
public struct SimulatedKVNamespace: KVNamespace {
    /// The simulator.
    public let simulator: ConsistencySimulator
    /// The location.
    public let location: String

    /// The underlying namespace's clock.
    public var clock: any KVClock { simulator.base.clock }

    /// Reads through this location's cache and propagation state.
    public func readEntry(_ key: String) async throws -> KVEntry? {
        try await simulator.read(key, at: location)
    }

    /// Writes to the truth at once, visible here now and elsewhere after the delay.
    public func writeEntry(_ key: String, _ write: KVWrite) async throws {
        let now = clock.nowMilliseconds()
        let expirationMs = write.expirationMilliseconds(at: now)
        try await simulator.write(
            key,
            KVEntry(
                value: write.value, metadata: write.metadata,
                expiration: expirationMs.map { Int64.floorSeconds(milliseconds: $0) }),
            at: location, operation: .put)
        try await simulator.base.writeEntry(key, write)
    }

    /// Deletes from the truth at once, invisible here now and elsewhere after the delay.
    public func deleteEntry(_ key: String) async throws {
        try await simulator.write(key, nil, at: location, operation: .delete)
        try await simulator.base.deleteEntry(key)
    }

    /// Lists what this location sees.
    public func listEntries(_ request: KVListRequest) async throws -> KVListResult {
        try await simulator.list(request, at: location)
    }
}
