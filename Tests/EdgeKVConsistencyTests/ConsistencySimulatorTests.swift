import EdgeKV
import EdgeKVSQLite
import EdgeKVTestSupport
import Testing

@testable import EdgeKVConsistency

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

    /// Seconds after which each of `count` writes made in `eu` (one key each, in order) is visible in `us`, with a
    /// delay of 10 s plus up to 50 s of jitter drawn from `seed`.
    static func jitteredDelays(seed: UInt64, count: Int = 8) async throws -> [Int] {
        let (sim, clock) = try await Self.simulator(
            .init(propagation: 10, propagationJitter: 50, cacheTtl: 0, writeLimit: false, seed: seed))
        for key in 0..<count { try await sim.namespace(at: "eu").put("k\(key)", "v") }
        var visibleAfter = [Int?](repeating: nil, count: count)
        // Every delay is at most 60 s: one step past that, a write not yet visible is a failure, not a longer wait.
        for second in 0...61 {
            for key in 0..<count where visibleAfter[key] == nil {
                if try await sim.namespace(at: "us").get("k\(key)") != nil { visibleAfter[key] = second }
            }
            if visibleAfter.allSatisfy({ $0 != nil }) { break }
            clock.advance(seconds: 1)
        }
        return try visibleAfter.enumerated().map { key, seconds in
            try #require(seconds, "seed \(seed): k\(key) was not visible in us 61 s after its write")
        }
    }

    @Test func randomDelaysFollowTheSeed() async throws {
        let first = try await Self.jitteredDelays(seed: 7)
        #expect(first.allSatisfy { (10...60).contains($0) }, "\(first)")
        // Drawn per write: eight writes with one delay would mean the jitter is not random at all.
        #expect(Set(first).count > 1, "\(first)")
        #expect(try await Self.jitteredDelays(seed: 7) == first, "the same seed gives the same delays")
        // A simulator that ignored its seed would give these seeds the same delays as seed 7.
        for seed: UInt64 in [8, 1234] {
            let other = try await Self.jitteredDelays(seed: seed)
            #expect(other.allSatisfy { (10...60).contains($0) }, "\(other)")
            #expect(other != first, "seed \(seed) gave seed 7's delays \(first)")
        }
    }

    // MARK: Bounds

    @Test func cachedReadsLeaveOnceTheirTtlIsUpOnTheNextReadOrWrite() async throws {
        let (sim, clock) = try await Self.simulator(.init(propagation: 0, cacheTtl: 60, writeLimit: false))
        for location in 0..<50 {
            for key in 0..<20 { _ = try await sim.namespace(at: "l\(location)").get("k\(key)") }
        }
        #expect(sim.cachedReads == (1000, 50))
        clock.advance(seconds: 30)
        _ = try await sim.namespace(at: "late").get("k0")
        #expect(sim.cachedReads == (1001, 51), "nothing is due yet")
        clock.advance(seconds: 30)
        _ = try await sim.namespace(at: "next").get("k0")
        #expect(sim.cachedReads == (2, 2), "the first thousand are due: only late's and next's reads are left")
        clock.advance(seconds: 60)
        try await sim.namespace(at: "writer").put("k1", "v")
        #expect(sim.cachedReads == (0, 0), "a write sweeps too")
    }

    @Test func theOldestCachedReadOfALocationLeavesPastItsBound() async throws {
        let (sim, _) = try await Self.simulator(
            .init(propagation: 0, cacheTtl: 60, writeLimit: false, maxCachedEntriesPerLocation: 2))
        let us = sim.namespace(at: "us")
        for key in ["a", "b", "c"] { #expect(try await us.get(key) == nil) }
        #expect(sim.cachedReads == (2, 1))
        // The truth changes underneath: a cached miss still answers nil, an evicted one reads the truth.
        for key in ["a", "b", "c"] { try await sim.base.put(key, "v") }
        #expect(try await us.get("c") == nil)
        #expect(try await us.get("a") == "v")  // evicted first
        #expect(try await us.get("c") == nil)  // still cached: "b" left for "a"
        #expect(try await us.get("b") == "v")
        #expect(sim.cachedReads == (2, 1))
    }

    @Test func theOldestCachedReadOverallLeavesPastTheTotalBound() async throws {
        let (sim, _) = try await Self.simulator(
            .init(propagation: 0, cacheTtl: 60, writeLimit: false, maxCachedEntries: 3))
        for location in ["l1", "l2", "l3", "l4"] { #expect(try await sim.namespace(at: location).get("k") == nil) }
        #expect(sim.cachedReads == (3, 3))
        try await sim.base.put("k", "v")
        #expect(try await sim.namespace(at: "l4").get("k") == nil)
        #expect(try await sim.namespace(at: "l1").get("k") == "v")  // evicted first
        for location in 0..<1000 { _ = try await sim.namespace(at: "many\(location)").get("k") }
        #expect(sim.cachedReads == (3, 3))
    }

    @Test func theOldestCachedReadLeavesPastTheByteBound() async throws {
        let (sim, _) = try await Self.simulator(
            .init(propagation: 0, cacheTtl: 60, writeLimit: false, maxCachedBytes: 2_500))
        let big = String(repeating: "x", count: 1_000)
        for key in ["a", "b", "c"] { try await sim.base.put(key, big) }
        let us = sim.namespace(at: "us")
        for key in ["a", "b", "c"] { #expect(try await us.get(key) == big) }
        #expect(sim.cachedReads == (2, 1))
        for key in ["a", "b", "c"] { try await sim.base.put(key, "new") }
        #expect(try await us.get("c") == big)  // cached
        #expect(try await us.get("a") == "new")  // evicted first
    }

    @Test func aLocationReadAgainAndAgainStaysBounded() async throws {
        // Reads, writes that drop cached reads, and expiry leave stale places in the eviction order; they must not
        // pile up either.
        let (sim, clock) = try await Self.simulator(
            .init(propagation: 0, cacheTtl: 1, writeLimit: false, maxCachedEntriesPerLocation: 5, maxCachedEntries: 8))
        for round in 0..<3000 {
            let here = sim.namespace(at: "l\(round % 3)")
            _ = try await here.get("k\(round % 7)")
            if round % 2 == 0 { try await here.put("k\(round % 7)", "v\(round)") }
            if round % 100 == 0 { clock.advance(milliseconds: 700) }
            let (entries, locations) = sim.cachedReads
            #expect(entries <= 8 && locations <= 3)
        }
        clock.advance(seconds: 2)
        _ = try await sim.namespace(at: "l0").get("k0")
        #expect(sim.cachedReads == (1, 1))
    }

    @Test(arguments: [
        ("us", true), ("US", true), ("eu-west", true), ("LHR", true), ("a_b-9", true), ("default", true),
        (String(repeating: "x", count: 64), true), ("", false), (String(repeating: "x", count: 65), false),
        ("us east", false), ("ü", false), ("a/b", false), ("a.b", false), ("us\n", false),
    ])
    func locationNames(name: String, valid: Bool) {
        #expect(ConsistencySimulator.isValidLocation(name) == valid)
    }
}

/// Values at the edges of `Int64` from the base namespace, the clock or the configuration never trap.
@Suite struct ConsistencyArithmeticTests {
    @Test func anExpiryAtTheEndOfTimeIsRead() async throws {
        let (sim, clock) = try await ConsistencySimulatorTests.simulator(.init(propagation: 0, cacheTtl: 60))
        let here = sim.namespace(at: "here")
        try await here.put("far", "v", options: KVPutOptions(expiration: .max))
        #expect(try await here.get("far") == "v")
        clock.advance(seconds: 1_000_000_000_000)
        #expect(try await here.get("far") == "v")
        clock.advance(seconds: .max)  // the clock stops at the end of time, where the entry ends too
        #expect(clock.nowMilliseconds() == .max)
        _ = try await here.get("far")
    }

    @Test(arguments: [Double.infinity, .nan, -5, 1e300])
    func aDelayOutsideAnyUsefulRangeIsClamped(seconds: Double) async throws {
        let (sim, clock) = try await ConsistencySimulatorTests.simulator(
            .init(propagation: seconds, cacheTtl: seconds, writeLimit: true))
        let eu = sim.namespace(at: "eu")
        try await eu.put("k", "v")
        #expect(try await eu.get("k") == "v")
        clock.advance(seconds: 2)
        try await eu.put("k", "w")
        _ = try await sim.namespace(at: "us").get("k")
    }
}
