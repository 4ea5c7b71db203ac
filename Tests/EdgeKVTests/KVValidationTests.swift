import EdgeKV
import Foundation
import Testing

@Suite struct KVValidationTests {
    @Test(arguments: [
        ("", KVOperation.get, "Key name cannot be empty."),
        (".", .put, "\".\" is not allowed as a key name."),
        ("..", .delete, "\"..\" is not allowed as a key name."),
        (
            String(repeating: "k", count: 513), .get,
            "KV GET failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512."
        ),
        (
            String(repeating: "é", count: 257), .put,
            "KV PUT failed: 414 UTF-8 encoded length of 514 exceeds key length limit of 512."
        ),
    ])
    func rejectsKeys(_ key: String, _ operation: KVOperation, _ text: String) {
        #expect {
            try KVValidation.validateKey(key, for: operation)
        } throws: { error in
            (error as? KVError)?.description == text
        }
    }

    @Test(arguments: ["a", "...", " ", "/", String(repeating: "k", count: 512), "\u{0}"])
    func acceptsKeys(_ key: String) throws {
        try KVValidation.validateKey(key, for: .put)
    }

    @Test(arguments: [
        (
            Int64?.some(0), Int64?.none,
            "KV PUT failed: 400 Invalid expiration_ttl of 0. Please specify integer greater than 0."
        ),
        (59, nil, "KV PUT failed: 400 Invalid expiration_ttl of 59. Expiration TTL must be at least 60."),
        (
            nil, 999,
            "KV PUT failed: 400 Invalid expiration of 999. Please specify integer greater than the current number of seconds since the UNIX epoch."
        ),
        (
            nil, 1059,
            "KV PUT failed: 400 Invalid expiration of 1059. Expiration times must be at least 60 seconds in the future."
        ),
    ])
    func rejectsExpiry(_ ttl: Int64?, _ expiration: Int64?, _ text: String) {
        #expect {
            _ = try KVValidation.validateExpiry(expiration: expiration, expirationTtl: ttl, nowSeconds: 1000)
        } throws: { error in
            (error as? KVError)?.description == text
        }
    }

    @Test func ttlWinsAndIsKept() throws {
        let both = try KVValidation.validateExpiry(expiration: 5, expirationTtl: 60, nowSeconds: 1000)
        #expect(both.ttl == 60)
        #expect(both.expiration == nil)
        let absolute = try KVValidation.validateExpiry(expiration: 1060, expirationTtl: nil, nowSeconds: 1000)
        #expect(absolute.expiration == 1060)
        let write = KVWrite(value: [], expirationTtl: 60)
        #expect(write.expirationMilliseconds(at: 1_000_500) == 1_060_500)
        #expect(KVWrite(value: [], expiration: 2000).expirationMilliseconds(at: 1_000_500) == 2_000_000)
        #expect(KVWrite(value: []).expirationMilliseconds(at: 1_000_500) == nil)
    }

    @Test func listLimitsAndDefaults() throws {
        #expect(try KVValidation.validateList(KVListOptions()) == KVListRequest(prefix: "", limit: 1000, cursor: nil))
        #expect(try KVValidation.validateList(KVListOptions(limit: -3)).limit == 1000)
        #expect(
            try KVValidation.validateList(KVListOptions(prefix: "p", limit: 7, cursor: "c"))
                == KVListRequest(prefix: "p", limit: 7, cursor: "c"))
        #expect(
            throws: KVError(
                .get, status: 400, "Invalid key_count_limit of 1001. Please specify an integer less than 1000.")
        ) {
            try KVValidation.validateList(KVListOptions(limit: 1001))
        }
    }

    @Test func metadataAndValueSizes() throws {
        try KVValidation.validateMetadata(.string(String(repeating: "m", count: 1022)))  // 1024 with quotes
        #expect(throws: KVError(.put, status: 413, "Metadata length of 1025 exceeds limit of 1024.")) {
            try KVValidation.validateMetadata(.string(String(repeating: "m", count: 1023)))
        }
        // Multi-byte characters count in UTF-8 bytes: 2 quotes + 342 × 3 bytes = 1028.
        #expect(throws: KVError.self) { try KVValidation.validateMetadata(.string(String(repeating: "€", count: 342))) }
        try KVValidation.validateValueLength(26_214_400)
        #expect(throws: KVError(.put, status: 413, "Value length of 26214401 exceeds limit of 26214400.")) {
            try KVValidation.validateValueLength(26_214_401)
        }
    }

    @Test func errorKinds() {
        let typeError = KVError.typeError(.get, "Key name cannot be empty.")
        #expect(typeError.isTypeError)
        #expect(typeError.description == "Key name cannot be empty.")
        let failure = KVError(.put, status: 429, "Too Many Requests")
        #expect(!failure.isTypeError)
        #expect(failure.description == "KV PUT failed: 429 Too Many Requests")
    }
}

@Suite struct ManualClockTests {
    @Test func movesOnlyWhenTold() {
        let clock = ManualClock(seconds: 1000)
        #expect(clock.nowMilliseconds() == 1_000_000)
        clock.advance(seconds: 61)
        #expect(clock.nowSeconds() == 1061)
        clock.advance(milliseconds: 999)
        #expect(clock.nowSeconds() == 1061)
        clock.advance(milliseconds: 1)
        #expect(clock.nowSeconds() == 1062)
        clock.set(seconds: 5)
        #expect(clock.nowMilliseconds() == 5000)
        #expect(ManualClock(milliseconds: -1).nowSeconds() == -1)
    }

    @Test func systemClockIsNow() async throws {
        func wallMilliseconds() -> Double { Date().timeIntervalSince1970 * 1000 }
        let clock = SystemClock()
        // Bracketed by the wall clock read through Foundation, to the millisecond: a clock that was stuck, in
        // seconds, or off by a time zone would fall outside.
        let before = wallMilliseconds().rounded(.down)
        let now = clock.nowMilliseconds()
        let after = wallMilliseconds().rounded(.up)
        #expect(Double(now) >= before && Double(now) <= after, "\(now) not in \(before)...\(after)")
        #expect(clock.nowSeconds() >= Int64(before / 1000) && clock.nowSeconds() <= Int64(after / 1000))
        // And it moves.
        try await Task.sleep(for: .milliseconds(20))
        #expect(clock.nowMilliseconds() >= now + 20)
    }
}
