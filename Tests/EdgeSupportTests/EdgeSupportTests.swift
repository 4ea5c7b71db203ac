import EdgeSupport
import Foundation
import Synchronization
import Testing

@Suite struct WorkerThreadTests {
    @Test func runsWorkOnItsOwnThreadInOrder() async throws {
        let thread = WorkerThread(name: "test-worker")
        defer { thread.stop() }
        #expect(!thread.isCurrent)
        let order = Mutex<[Int]>([])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<100 {
                // Each is submitted after the previous one returned: the thread keeps submission order.
                try await thread.run {
                    precondition(thread.isCurrent)
                    order.withLock { $0.append(i) }
                }
            }
            try await group.waitForAll()
        }
        #expect(order.withLock { $0 } == Array(0..<100))
        #expect(try await thread.run { thread.isCurrent })
    }

    @Test func errorsReachTheCaller() async throws {
        struct Refused: Error {}
        let thread = WorkerThread(name: "test-worker")
        defer { thread.stop() }
        await #expect(throws: Refused.self) { try await thread.run { throw Refused() } }
        #expect(try await thread.run { 42 } == 42)
    }

    /// A task that prefers the thread runs its calls inline: no hop, the work sees itself on the thread.
    @Test func aTaskPreferringTheThreadRunsOnIt() async throws {
        let thread = WorkerThread(name: "test-worker")
        defer { thread.stop() }
        let onThread = await withTaskExecutorPreference(thread) { @Sendable in thread.isCurrent }
        #expect(onThread)
    }

    /// Stopping lets queued work finish first.
    @Test func stopFinishesQueuedWork() async throws {
        final class Count: Sendable { let value = Mutex(0) }
        let thread = WorkerThread(name: "test-worker")
        let done = Count()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    try await thread.run {
                        usleep(1_000)
                        done.value.withLock { $0 += 1 }
                    }
                }
            }
            try await group.waitForAll()
        }
        thread.stop()
        #expect(done.value.withLock { $0 } == 20)
    }
}

@Suite struct SupportHelperTests {
    /// The reference sequence of SplitMix64 for seed 1234567 (Vigna's splitmix64.c).
    @Test func splitMix64MatchesTheReference() {
        var g = SplitMix64(seed: 1_234_567)
        let first = (0..<5).map { _ in g.next() }
        #expect(
            first == [
                6_457_827_717_110_365_317, 3_203_168_211_198_807_973, 9_817_491_932_198_370_423,
                4_593_380_528_125_082_431, 16_408_922_859_458_223_821,
            ])
    }

    @Test(arguments: [
        ("a b", "a%20b"), ("é/ü?", "%C3%A9%2F%C3%BC%3F"), ("-_.!~*'()", "-_.!~*'()"),
        ("{\"a\":1}", "%7B%22a%22%3A1%7D"),
    ])
    func uriComponentEncodingIsJavaScripts(input: String, encoded: String) {
        #expect(PercentCoding.encode(input, keeping: .uriComponent) == encoded)
        #expect(PercentCoding.decode(encoded) == input)
    }

    @Test func pathSegmentsKeepSubDelimitersAndEncodeSlash() {
        #expect(PercentCoding.encode("a/b c+d:@", keeping: .pathSegment) == "a%2Fb%20c+d:@")
        #expect(PercentCoding.encode("a=b&c", keeping: .unreserved) == "a%3Db%26c")
    }

    @Test(arguments: ["%", "%4", "%zz", "%C3", "%FF"])
    func strictDecodingRefusesBadEscapesAndInvalidUTF8(input: String) {
        #expect(PercentCoding.decode(input) == nil)
    }

    @Test func plusStaysPlus() { #expect(PercentCoding.decode("a+b%2B") == "a+b+") }

    @Test func imfDatesRoundTripAndRefuseImpossibleTimes() throws {
        let date = Date(timeIntervalSince1970: 784_111_777)
        #expect(IMFDate.format(date) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(IMFDate.parse("Sun, 06 Nov 1994 08:49:37 GMT") == date)
        #expect(IMFDate.parse("Sun, 06-Nov-94 08:49:37 GMT") == date)
        for bad in [
            "Thu, 31 Feb 2026 00:00:00 GMT", "Thu, 01 Jan 2026 24:00:00 GMT", "soon", "Thu, 01 Jan 2026 00:00:00 PST",
        ] {
            #expect(IMFDate.parse(bad) == nil, "\(bad)")
        }
    }

    @Test func byteSearchFindsRunsAnywhere() {
        let haystack = Array("--a--b\r\n--boundary--".utf8)
        #expect(ByteSearch.firstIndex(of: Array("\r\n--".utf8), in: haystack, from: 0) == 6)
        #expect(ByteSearch.firstIndex(of: Array("--".utf8), in: haystack, from: 1) == 3)
        #expect(!ByteSearch.contains(haystack, Array("---".utf8)))
        #expect(!ByteSearch.contains([], [1]))
        #expect(ByteSearch.contains([0xEF, 0xBF, 0xBD], [0xEF, 0xBF, 0xBD]))
    }

    @Test func constantTimeEqualityComparesLengthAndEveryByte() {
        #expect(constantTimeEqual(Array("token".utf8), Array("token".utf8)))
        #expect(!constantTimeEqual(Array("token".utf8), Array("tokeN".utf8)))
        #expect(!constantTimeEqual(Array("token".utf8), Array("token2".utf8)))
        #expect(!constantTimeEqual(Array("".utf8), Array("x".utf8)))
        #expect(constantTimeEqual([UInt8](), [UInt8]()))
    }

    @Test func jsonStringsAreEscapedAsJavaScriptDoes() {
        #expect(JSONString.quoted("a\"b\\c\n\u{01}é") == #""a\"b\\c\n\u0001é""#)
    }
}
