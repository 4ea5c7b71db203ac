import EdgeKV
import EdgeKVConsistency
import EdgeKVSQLite
import EdgeKVTestSupport
import Testing

@Suite struct ConsistencySimulatorTests {
    /// Strong mode is the KV contract, unchanged.
    @Test(arguments: KVConformance.cases)
    func strongModeConforms(_ c: KVConformanceCase) async throws {
        try await c.run { clock in
            let base = try await SQLiteKVStore(inMemoryWithClock: clock).namespace(id: "strong")
            return ConsistencySimulator(base: base, configuration: .strong).namespace(at: "here")
        }
    }

    static func simulator(
        _ configuration: ConsistencySimulator.Configuration = .init()
    ) async throws -> (ConsistencySimulator, ManualClock) {
        let clock = ManualClock(seconds: 10_000)
        let base = try await SQLiteKVStore(inMemoryWithClock: clock).namespace(id: "ns")
        return (ConsistencySimulator(base: base, configuration: configuration), clock)
    }

    @Test func writesAreVisibleAtTheWriterAtOnceAndElsewhereAfterPropagation() async throws {
        let (sim, clock) = try await Self.simulator(.init(propagation: 60, cacheTtl: 0, writeLimit: false))
        let eu = sim.namespace(at: "eu")
        let us = sim.namespace(at: "us")
        try await eu.put("k", "v1")
        #expect(try await eu.get("k") == "v1")
        #expect(try await us.get("k") == nil)
        clock.advance(seconds: 59)
        #expect(try await us.get("k") == nil)
        clock.advance(seconds: 1)
        #expect(try await us.get("k") == "v1")
        #expect(try await sim.base.get("k") == "v1")  // the truth has it at once
    }

    @Test func deletesPropagateLikeWrites() async throws {
        let (sim, clock) = try await Self.simulator(.init(propagation: 30, cacheTtl: 0, writeLimit: false))
        try await sim.base.put("session", "alice")
        let eu = sim.namespace(at: "eu")
        let us = sim.namespace(at: "us")
        try await eu.delete("session")
        #expect(try await eu.get("session") == nil)
        #expect(try await us.get("session") == "alice")  // the classic: logged out here, still in there
        clock.advance(seconds: 30)
        #expect(try await us.get("session") == nil)
    }

    @Test func readsAreCachedForCacheTtlIncludingMisses() async throws {
        let (sim, clock) = try await Self.simulator(.init(propagation: 0, cacheTtl: 60, writeLimit: false))
        let eu = sim.namespace(at: "eu")
        let us = sim.namespace(at: "us")
        #expect(try await us.get("k") == nil)  // a miss, now cached at us
        try await eu.put("k", "v")
        #expect(try await eu.get("k") == "v")
        #expect(try await us.get("k") == nil)  // negative cache
        clock.advance(seconds: 60)
        #expect(try await us.get("k") == "v")
        try await eu.put("k", "v2")
        clock.advance(seconds: 1)
        #expect(try await us.get("k") == "v")  // positive cache
        #expect(try await eu.get("k") == "v2")  // the writer sees its own write
    }

    @Test func secondWriteWithinASecondIsRefused() async throws {
        let (sim, clock) = try await Self.simulator(.init(propagation: 0, cacheTtl: 0, writeLimit: true))
        let eu = sim.namespace(at: "eu")
        try await eu.put("k", "1")
        await expectKVError("KV PUT failed: 429 Too Many Requests") { try await eu.put("k", "2") }
        await expectKVError("KV DELETE failed: 429 Too Many Requests") { try await eu.delete("k") }
        try await eu.put("other", "x")  // per key
        clock.advance(milliseconds: 999)
        await expectKVError("KV PUT failed: 429 Too Many Requests") { try await sim.namespace(at: "us").put("k", "3") }
        clock.advance(milliseconds: 1)
        try await eu.put("k", "4")
        #expect(try await eu.get("k") == "4")
    }

    @Test func listIsEventuallyConsistent() async throws {
        let (sim, clock) = try await Self.simulator(.init(propagation: 60, cacheTtl: 0, writeLimit: false))
        try await sim.base.put("a", "1")
        try await sim.base.put("b", "1")
        let eu = sim.namespace(at: "eu")
        let us = sim.namespace(at: "us")
        try await eu.put("c", "1")
        try await eu.delete("a")
        #expect(try await eu.list().keys.map(\.name) == ["b", "c"])
        #expect(try await us.list().keys.map(\.name) == ["a", "b"])
        clock.advance(seconds: 60)
        #expect(try await us.list().keys.map(\.name) == ["b", "c"])
    }

    @Test func randomDelaysAreDeterministicForASeed() async throws {
        func visibleAfter(seed: UInt64) async throws -> Int {
            let (sim, clock) = try await Self.simulator(
                .init(propagation: 10, propagationJitter: 50, cacheTtl: 0, writeLimit: false, seed: seed))
            try await sim.namespace(at: "eu").put("k", "v")
            var seconds = 0
            while try await sim.namespace(at: "us").get("k") == nil {
                clock.advance(seconds: 1)
                seconds += 1
            }
            return seconds
        }
        let first = try await visibleAfter(seed: 7)
        #expect(first >= 10 && first <= 60)
        #expect(try await visibleAfter(seed: 7) == first)
    }
}
