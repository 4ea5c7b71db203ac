import Edge
import EdgeKV
import EdgeKVTestSupport
import EdgeSupport
import Foundation
import HTTPTypes
import Testing

@testable import EdgeSession

@Suite("randomized cookie decoding")
struct CookieDecoderFuzzTests {
    static let seed: UInt64 = 0x5E55_1011_ED6E_0006
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=.%{}\":, é☃\u{0}")

    static func randomText(_ rng: inout SplitMix64) -> String {
        let length = Int.random(in: 0...120, using: &rng)
        return String((0..<length).map { _ in alphabet.randomElement(using: &rng)! })
    }

    /// A valid cookie with a few random edits (replace, insert, delete, truncate, duplicate a segment).
    static func mutate(_ value: String, _ rng: inout SplitMix64) -> String {
        var chars = Array(value)
        for _ in 0..<Int.random(in: 1...3, using: &rng) {
            switch Int.random(in: 0..<5, using: &rng) {
            case 0 where !chars.isEmpty:
                chars[Int.random(in: 0..<chars.count, using: &rng)] = alphabet.randomElement(using: &rng)!
            case 1: chars.insert(alphabet.randomElement(using: &rng)!, at: Int.random(in: 0...chars.count, using: &rng))
            case 2 where !chars.isEmpty: chars.remove(at: Int.random(in: 0..<chars.count, using: &rng))
            case 3: chars = Array(chars.prefix(Int.random(in: 0...chars.count, using: &rng)))
            default: chars += Array("." + String(chars.prefix { $0 != "." }))
            }
        }
        return String(chars)
    }

    // No input crashes a decoder; no damaged cookie loads anything but the data it was made with.
    @Test func decodersSurviveRandomInput() throws {
        var rng = SplitMix64(seed: Self.seed)
        let signed = try SignedCookieStore(base64Keys: [TestKeys.signing])
        let encrypted = try EncryptedCookieStore(base64Keys: [TestKeys.encryption])
        let now = testEpoch * 1000
        let payload = #"{"user":"alice","visits":7}"#
        let validSigned = signed.sign(payload, expiresAt: now + 3_600_000)
        let validEncrypted = try encrypted.seal(payload, expiresAt: now + 3_600_000, iv: Array(repeating: 9, count: 16))
        var loaded = 0
        for round in 0..<6000 {
            let input: String
            switch round % 3 {
            case 0: input = Self.randomText(&rng)
            case 1: input = Self.mutate(validSigned, &rng)
            default: input = Self.mutate(validEncrypted, &rng)
            }
            _ = Base64URL.decode(input)
            _ = HattipFormat.decodeExpiry(input)
            _ = SessionID.isWellFormed(input)
            for result in [signed.verify(input, nowMilliseconds: now), encrypted.open(input, nowMilliseconds: now)] {
                guard let result else { continue }
                loaded += 1
                #expect(result.data == payload, "round \(round): \(String(reflecting: input)) loaded \(result.data)")
            }
        }
        // Mutations that only re-spell the same bytes (e.g. `-` as `+`) may load; they must load the same data.
        #expect(loaded < 600)
    }

    // The same inputs through the middleware: always a response, never a 500.
    @Test(arguments: StoreKind.allCases)
    func middlewareSurvivesRandomCookies(kind: StoreKind) async throws {
        var rng = SplitMix64(seed: Self.seed)
        let harness = try await SessionHarness(kind)
        let valid = try await harness.store.save(nil, #"{"visits":7}"#, maxAge: 3600, context: harness.context())
        for round in 0..<150 {
            let raw = round % 2 == 0 ? Self.randomText(&rng) : Self.mutate(valid, &rng)
            var browser = Browser()
            browser.session = SetCookie.encodeURIComponent(raw)
            let response = await harness.send(&browser, "/")
            #expect(response.status == .ok, "round \(round): \(String(reflecting: raw))")
        }
        #expect(harness.errors.isEmpty)
    }
}
