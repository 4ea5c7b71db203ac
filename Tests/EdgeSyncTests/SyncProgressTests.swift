import EdgeKV
import EdgeKVSQLite
import EdgeSync
import Foundation
import Synchronization
import Testing

/// What a sync reports as it goes — one event per key, in key order, with the bytes copied — and the source count
/// that `edgekv sync` shows progress against.
@Suite struct SyncProgressTests {
    /// The events an observer received, in order.
    final class Events: Sendable {
        let all = Mutex<[SyncEvent]>([])
        var observer: @Sendable (SyncEvent) -> Void { { event in self.all.withLock { $0.append(event) } } }
        var list: [SyncEvent] { all.withLock { $0 } }
    }

    @Test func theSourceCountFollowsEveryPageAndThePrefixAndLeavesExpiredKeysOut() async throws {
        let clock = ManualClock(seconds: SystemClock().nowSeconds())
        let store = try await SQLiteKVStore(inMemoryWithClock: clock)
        let source = store.namespace(id: "SRC")
        let now = clock.nowSeconds()
        var entries: [String: KVEntry] = [:]
        for i in 0..<2_345 { entries[String(format: "p/%05d", i)] = KVEntry(value: Array("v".utf8)) }
        for i in 0..<678 { entries[String(format: "q/%05d", i)] = KVEntry(value: Array("v".utf8)) }
        for i in 0..<5 { entries["p/old\(i)"] = KVEntry(value: Array("v".utf8), expiration: now + 100) }
        try await seed(source, entries)
        let destination = store.namespace(id: "DST")

        #expect(try await KVSync(from: source, to: destination).countSourceKeys() == 3_028)
        let prefixed = KVSync(from: source, to: destination, configuration: .init(prefix: "p/"))
        #expect(try await prefixed.countSourceKeys() == 2_350)
        #expect(
            try await KVSync(from: source, to: destination, configuration: .init(prefix: "r/")).countSourceKeys() == 0)
        clock.advance(seconds: 100)
        #expect(try await prefixed.countSourceKeys() == 2_345)
        #expect(try await KVSync(from: source, to: destination).countSourceKeys() == 3_023)
    }

    @Test func everyKeyIsReportedOnceInKeyOrderWithTheBytesCopied() async throws {
        try await SyncServer.with { api in
            let clock = ManualClock(seconds: SystemClock().nowSeconds())
            let source = try await SQLiteKVStore(inMemoryWithClock: clock).namespace(id: "SRC")
            let now = clock.nowSeconds()
            // 1,200 source keys: most new, every 10th already there, every 10th (+1) there with another value,
            // every 100th (+2) expiring too soon to copy; destination-only keys fall between them.
            var sourceEntries: [String: KVEntry] = [:]
            var destinationEntries: [String: KVEntry] = [:]
            var expected: [String: SyncAction] = [:]
            for i in 0..<1_200 {
                let key = String(format: "k%05d", i * 2)
                let entry = KVEntry(value: Array(repeating: UInt8(ascii: "a") + UInt8(i % 26), count: 1 + i % 40))
                if i % 100 == 2 {
                    sourceEntries[key] = KVEntry(value: entry.value, expiration: now + 30)
                    expected[key] = .skipped
                    continue
                }
                sourceEntries[key] = entry
                switch i % 10 {
                case 0:
                    destinationEntries[key] = entry
                    expected[key] = .unchanged
                case 1:
                    destinationEntries[key] = KVEntry(value: Array("old".utf8))
                    expected[key] = .changed
                default:
                    expected[key] = .added
                }
                if i % 7 == 0 {
                    let stray = String(format: "k%05d", i * 2 + 1)
                    destinationEntries[stray] = KVEntry(value: Array("stray".utf8))
                    expected[stray] = .deleted
                }
            }
            destinationEntries["zz-after-the-last"] = KVEntry(value: [1])
            expected["zz-after-the-last"] = .deleted
            try await seed(source, sourceEntries)
            try await seed(api.namespace, destinationEntries)

            // Small pages and chunks: many requests in flight one after another, while unchanged keys are decided
            // at once.
            let sync = KVSync(
                from: source, to: api.remote(),
                configuration: .init(delete: true, pageSize: 70, maxChunkItems: 45, retryDelay: .milliseconds(10)))
            #expect(try await sync.countSourceKeys() == 1_200)
            let events = Events()
            let report = try await sync.run(observer: events.observer)

            let seen = events.list
            #expect(seen.map(\.key) == expected.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
            #expect(Dictionary(seen.map { ($0.key, $0.action) }, uniquingKeysWith: { a, _ in a }) == expected)
            for event in seen {
                let copied = event.action == .added || event.action == .changed
                #expect(event.bytes == (copied ? sourceEntries[event.key]!.value.count : 0), "\(event)")
                #expect((event.reason != nil) == (event.action == .skipped), "\(event)")
            }
            #expect(report.bytes == seen.reduce(0) { $0 + $1.bytes })
            #expect(report.bytes > 0)
            let counts = Dictionary(grouping: expected.values, by: { $0 }).mapValues(\.count)
            #expect(
                report.summary
                    == "added \(counts[.added] ?? 0), changed \(counts[.changed] ?? 0), "
                    + "deleted \(counts[.deleted] ?? 0), unchanged \(counts[.unchanged] ?? 0), "
                    + "skipped \(counts[.skipped] ?? 0)")
            #expect(report.failures.isEmpty)
            // Every source key has exactly one event: what the progress total counts.
            #expect(seen.filter { $0.action != .deleted }.count == 1_200)
        }
    }
}
