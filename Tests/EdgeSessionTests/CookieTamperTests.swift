import Edge
import EdgeKV
import Foundation
import HTTPTypes
import Testing

@testable import EdgeSession

/// One way to damage a cookie value.
struct Tamper: Sendable, CustomTestStringConvertible {
    var name: String
    var apply: @Sendable (String) -> String

    var testDescription: String { name }

    static func replacing(at offset: @escaping @Sendable (Int) -> Int, _ name: String) -> Tamper {
        Tamper(name: name) { value in
            var chars = Array(value)
            guard !chars.isEmpty else { return "x" }
            let i = offset(chars.count)
            chars[i] = chars[i] == "A" ? "B" : "A"
            return String(chars)
        }
    }

    static let all: [Tamper] = [
        Tamper(name: "empty") { _ in "" },
        Tamper(name: "a lone dot") { _ in "." },
        replacing(at: { _ in 0 }, "first character changed"),
        replacing(at: { $0 / 2 }, "middle character changed"),
        replacing(at: { $0 - 1 }, "last character changed"),
        replacing(at: { _ in 10 }, "signature or IV character changed"),
        Tamper(name: "truncated by one") { String($0.dropLast()) },
        Tamper(name: "truncated to half") { String($0.prefix($0.count / 2)) },
        Tamper(name: "first segment only") { String($0.prefix { $0 != "." }) },
        Tamper(name: "last segment dropped") { value in
            String(value[..<(value.lastIndex(of: ".") ?? value.endIndex)])
        },
        Tamper(name: "dots removed") { $0.replacingOccurrences(of: ".", with: "") },
        Tamper(name: "dot appended") { $0 + "." },
        Tamper(name: "character appended") { $0 + "x" },
        Tamper(name: "character prepended") { "x" + $0 },
        Tamper(name: "segments swapped") { value in
            let parts = value.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
            return parts.count == 2 ? "\(parts[1]).\(parts[0])" : value + "."
        },
        Tamper(name: "expiry moved later, not re-signed") { value in
            var parts = value.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3 else { return value + "A" }
            parts[1] = HattipFormat.encodeExpiry(4_000_000_000_000)
            return parts.joined(separator: ".")
        },
        Tamper(name: "padding inside a segment") { value in
            var chars = Array(value)
            chars.insert("=", at: min(5, chars.count))
            return String(chars)
        },
        Tamper(name: "non-ASCII prefix") { "é☃" + $0 },
        Tamper(name: "percent garbage") { _ in "%ZZ%E0%A4%A" },
        Tamper(name: "huge") { $0 + String(repeating: "A", count: 10_000) },
    ]
}

@Suite("tampered cookies")
struct CookieTamperTests {
    static func validCookie(_ harness: SessionHarness) async throws -> String {
        try await harness.store.save(nil, #"{"user":"alice","visits":7}"#, maxAge: 3600, context: harness.context())
    }

    // A tampered, truncated or malformed cookie is a fresh session, never a 500.
    @Test(arguments: [StoreKind.signed, .encrypted], Tamper.all)
    func tamperedCookiesDoNotLoad(kind: StoreKind, tamper: Tamper) async throws {
        let harness = try await SessionHarness(kind)
        let valid = try await Self.validCookie(harness)
        #expect(try await harness.store.load(valid, context: harness.context()) != nil)
        let damaged = tamper.apply(valid)
        #expect(damaged != valid)
        #expect(try await harness.store.load(damaged, context: harness.context()) == nil)

        var browser = Browser()
        browser.session = SetCookie.encodeURIComponent(damaged)
        let response = await harness.send(&browser, "/state")
        #expect(response.status == .ok)
        #expect(try response.decode(StateBody.self).fresh)
    }

    @Test(arguments: StoreKind.allCases, Tamper.all)
    func damagedCookiesNeverFailTheRequest(kind: StoreKind, tamper: Tamper) async throws {
        let harness = try await SessionHarness(kind)
        let valid = try await Self.validCookie(harness)
        var browser = Browser()
        browser.session = SetCookie.encodeURIComponent(tamper.apply(valid))
        #expect(await harness.send(&browser, "/").status == .ok)
        #expect(harness.errors.isEmpty)
    }

    @Test(arguments: [StoreKind.signed, .encrypted])
    func expiredAndForeignCookiesDoNotLoad(kind: StoreKind) async throws {
        let harness = try await SessionHarness(kind, maxAge: 60)
        let valid = try await harness.store.save(nil, "{}", maxAge: 60, context: harness.context())
        harness.clock.advance(seconds: 59)
        #expect(try await harness.store.load(valid, context: harness.context()) != nil)
        harness.clock.advance(seconds: 1)
        #expect(try await harness.store.load(valid, context: harness.context()) == nil)

        // Made with another key.
        let other: any SessionStore =
            kind == .signed
            ? try SignedCookieStore(keys: [SignedCookieStore.generateKey()])
            : try EncryptedCookieStore(keys: [EncryptedCookieStore.generateKey()])
        let foreign = try await other.save(nil, "{}", maxAge: 3600, context: harness.context())
        #expect(try await harness.store.load(foreign, context: harness.context()) == nil)
    }
}
