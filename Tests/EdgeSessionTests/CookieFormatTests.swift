import Edge
import EdgeKV
import EdgeKVTestSupport
import Foundation
import HTTPTypes
import Testing

@testable import EdgeSession

/// A hattip-format cookie with everything that went into it.
struct CookieVector: Sendable, CustomTestStringConvertible {
    var name: String
    /// Keys as base64url (signed vectors may use a raw secret instead).
    var key: String
    var secret: String?
    var expiresAt: Int64
    var payload: String
    var iv: String?
    var cookie: String

    var testDescription: String { name }
}

/// Vectors made with WebCrypto exactly as @hattip/session's crypto.ts does (`sign`, `encrypt`, `dateToBase64`),
/// with a fixed clock and, for encryption, a fixed IV. The first is the reference's worked example.
let signedVectors = [
    CookieVector(
        name: "reference example: secret \"secret\", {\"count\":1}", key: "", secret: "secret",
        expiresAt: 1_735_689_900_000, payload: #"{"count":1}"#,
        cookie: #"2moJBW11FmyMuMfTg5IQa24Pd2dfrI4TH1Ik11Lcwjg.4A8uH5QB.{"count":1}"#),
    CookieVector(
        name: "64-byte key, dots and non-ASCII in the payload", key: TestKeys.signing, expiresAt: 1_767_229_200_000,
        payload: #"{"name":"Zoë ☃","user":"a.b"}"#,
        cookie: #"hSHwjKvlsJp49vwe_E7sr4UY_fIZ4oWbsUv51z_TO40.gJYRd5sB.{"name":"Zoë ☃","user":"a.b"}"#),
]

let encryptedVectors = [
    CookieVector(
        name: "AES-256, 16-byte IV", key: TestKeys.encryption, expiresAt: 1_767_229_200_000,
        payload: #"{"user":"alice","visits":3}"#, iv: "oKGio6SlpqeoqaqrrK2urw",
        cookie: "oKGio6SlpqeoqaqrrK2urw.zwI1hqnEL9fZLqc443tkJ-BFn_75FbaVVTs7qw0K5c-Drf3OI273VsmeKAEEjp9DguUlCg"),
    CookieVector(
        name: "AES-128 key (accepted for existing cookies)", key: "QEFCQ0RFRkdISUpLTE1OTw",
        expiresAt: 1_767_229_200_000, payload: #"{"a":"x.y"}"#, iv: "oKGio6SlpqeoqaqrrK2urw",
        cookie: "oKGio6SlpqeoqaqrrK2urw.PRH8VlayMRnQl82B291olQ8oWlY1DYx3XzmM7zCqlg97gm_J"),
]

func signedStore(_ vector: CookieVector) throws -> SignedCookieStore {
    if let secret = vector.secret {
        return try SignedCookieStore(keys: SignedCookieStore.keys(fromSecrets: [secret], allowShortSecrets: true))
    }
    return try SignedCookieStore(base64Keys: [vector.key])
}

@Suite("hattip cookie formats")
struct CookieFormatTests {
    @Test(arguments: [
        (Int64(1_735_689_900_000), "4A8uH5QB"), (8_640_000_000_000_000, "AADcwgiyHg"), (1_767_229_200_000, "gJYRd5sB"),
        (1, "AQ"), (256, "AAE"), (Int64.max, "_________38"),
    ])
    func expiryBytesMatchHattip(milliseconds: Int64, text: String) {
        #expect(HattipFormat.encodeExpiry(milliseconds) == text)
        #expect(HattipFormat.decodeExpiry(text) == milliseconds)
    }

    @Test(arguments: ["", "AAAAAAAAAAAA", "__________8", "4A8uH5QBx", "4A8u H5QB", "4A8u.H5QB", "4A8uH5R"])
    func malformedExpiryIsRefused(text: String) {
        // Empty, more than 8 bytes, over Int64.max, a dangling character, foreign characters, non-zero unused bits.
        #expect(HattipFormat.decodeExpiry(text) == nil)
    }

    @Test func base64AcceptsBothAlphabetsAndPaddingButOnlyCanonicalText() {
        let bytes: [UInt8] = [0xfb, 0xff, 0xbf, 0x01]
        #expect(Base64URL.encode(bytes) == "-_-_AQ")
        #expect(Base64URL.decode("-_-_AQ") == bytes)
        #expect(Base64URL.decode("+/+/AQ==") == bytes)
        #expect(Base64URL.decode("+/+/AQ") == bytes)
        for bad in ["-_-_AQ=", "-_-_AR", "-_-_A", "-_-_AQ===", "-_-_A Q", "-_-_AQ.", "é"] {
            #expect(Base64URL.decode(bad) == nil, "\(bad)")
        }
    }

    @Test(arguments: signedVectors)
    func signedCookiesMatchHattipBothWays(vector: CookieVector) throws {
        let store = try signedStore(vector)
        #expect(store.sign(vector.payload, expiresAt: vector.expiresAt) == vector.cookie)
        let loaded = try #require(store.verify(vector.cookie, nowMilliseconds: vector.expiresAt - 1))
        #expect(loaded == StoredSession(data: vector.payload, expiresAt: vector.expiresAt))
        #expect(store.verify(vector.cookie, nowMilliseconds: vector.expiresAt) == nil)
    }

    @Test(arguments: encryptedVectors)
    func encryptedCookiesMatchHattipBothWays(vector: CookieVector) throws {
        let store = try EncryptedCookieStore(base64Keys: [vector.key])
        let ivText = try #require(vector.iv)
        let iv = try #require(Base64URL.decode(ivText))
        #expect(try store.seal(vector.payload, expiresAt: vector.expiresAt, iv: iv) == vector.cookie)
        let loaded = try #require(store.open(vector.cookie, nowMilliseconds: vector.expiresAt - 1))
        #expect(loaded == StoredSession(data: vector.payload, expiresAt: vector.expiresAt))
        #expect(store.open(vector.cookie, nowMilliseconds: vector.expiresAt) == nil)
    }

    /// The reference's example end to end: the wire cookie a hattip app sends is read, and the same session saved
    /// here gives the same `Set-Cookie` value byte for byte.
    @Test func signedCookieOnTheWireMatchesHattipEndToEnd() async throws {
        struct Counter: Codable, Sendable { var count = 0 }
        let store = try SignedCookieStore(
            keys: SignedCookieStore.keys(fromSecrets: ["secret"], allowShortSecrets: true))
        var options = SessionOptions(store: store, defaultData: Counter())
        options.maxAge = 300
        let clock = ManualClock(milliseconds: 1_735_689_600_000)
        let runtime = EdgeRuntime(middleware: [try session(options)], clock: clock) { _, context in
            let session = try context.session(Counter.self)
            if session.isFresh { session.data.count = 1 }
            return .text("count=\(session.data.count)")
        }
        let wire = "2moJBW11FmyMuMfTg5IQa24Pd2dfrI4TH1Ik11Lcwjg.4A8uH5QB.%7B%22count%22%3A1%7D"

        let fresh = await runtime.handle(Request("/"))
        #expect(fresh.setCookie()?.description == "session=\(wire); Max-Age=300; Path=/; HttpOnly; SameSite=Lax")

        let returning = await runtime.handle(Request("/", headers: [.cookie: "session=\(wire)"]))
        #expect(returning.body.bufferedBytes == Array("count=1".utf8))
        #expect(returning.setCookie() == nil)
    }

    @Test func encryptedCookieFromHattipLoadsThroughTheMiddleware() async throws {
        let vector = encryptedVectors[0]
        let store = try EncryptedCookieStore(base64Keys: [vector.key])
        let clock = ManualClock(milliseconds: vector.expiresAt - 60_000)
        let runtime = EdgeRuntime(
            middleware: [try session(SessionOptions(store: store, defaultData: AppData()))], clock: clock,
            handler: testApp)
        let response = await runtime.handle(Request("/state", headers: [.cookie: "session=\(vector.cookie)"]))
        #expect(try response.decode(StateBody.self) == StateBody(fresh: false, visits: 3, user: "alice"))
    }

    @Test func unsignedCookiesAreHattipsPlainJSON() async throws {
        let runtime = EdgeRuntime(
            middleware: [try session(SessionOptions(store: UnsignedCookieStore(), defaultData: AppData()))],
            clock: ManualClock(seconds: testEpoch), handler: testApp)
        let first = await runtime.handle(Request("/"))
        #expect(first.setCookie()?.value == "%7B%22visits%22%3A1%7D")
        let second = await runtime.handle(Request("/", headers: [.cookie: "session=%7B%22visits%22%3A41%7D"]))
        #expect(try second.decode([String: Int].self) == ["visits": 42])
    }

    @Test func theUnsignedStoresHookRefusesCookies() async throws {
        let store = UnsignedCookieStore { json in !json.contains("admin") }
        let runtime = EdgeRuntime(
            middleware: [try session(SessionOptions(store: store, defaultData: AppData()))], handler: testApp)
        let refused = await runtime.handle(
            Request("/state", headers: [.cookie: "session=%7B%22user%22%3A%22admin%22%2C%22visits%22%3A0%7D"]))
        #expect(try refused.decode(StateBody.self).fresh)
        let accepted = await runtime.handle(
            Request("/state", headers: [.cookie: "session=%7B%22user%22%3A%22bob%22%2C%22visits%22%3A0%7D"]))
        #expect(try accepted.decode(StateBody.self).user == "bob")
    }

    // Key rotation: the first key signs or encrypts, every key reads.
    @Test func rotatedKeysStillReadOldCookies() throws {
        let old = SignedCookieStore.generateKey()
        let new = SignedCookieStore.generateKey()
        let before = try SignedCookieStore(keys: [old]).sign("{}", expiresAt: 2_000_000_000_000)
        let rotated = try SignedCookieStore(keys: [new, old])
        #expect(rotated.verify(before, nowMilliseconds: 0)?.data == "{}")
        let after = rotated.sign("{}", expiresAt: 2_000_000_000_000)
        #expect(try SignedCookieStore(keys: [new]).verify(after, nowMilliseconds: 0) != nil)
        #expect(try SignedCookieStore(keys: [old]).verify(after, nowMilliseconds: 0) == nil)

        let oldAES = EncryptedCookieStore.generateKey()
        let newAES = EncryptedCookieStore.generateKey()
        let iv = [UInt8](repeating: 7, count: 16)
        let sealed = try EncryptedCookieStore(keys: [oldAES]).seal("{}", expiresAt: 2_000_000_000_000, iv: iv)
        let rotatedAES = try EncryptedCookieStore(keys: [newAES, oldAES])
        #expect(rotatedAES.open(sealed, nowMilliseconds: 0)?.data == "{}")
        let resealed = try rotatedAES.seal("{}", expiresAt: 2_000_000_000_000, iv: iv)
        #expect(try EncryptedCookieStore(keys: [newAES]).open(resealed, nowMilliseconds: 0) != nil)
        #expect(try EncryptedCookieStore(keys: [oldAES]).open(resealed, nowMilliseconds: 0) == nil)
    }

    // hattip flaw 14: secrets are used as HMAC keys with no KDF. Compatible here, but short secrets are refused.
    @Test func shortSecretsAreRefusedUnlessAllowed() throws {
        let error = try #require(throws: SessionError.self) { try SignedCookieStore.keys(fromSecrets: ["secret"]) }
        #expect(error.code == .invalidKey)
        #expect(error.description.contains("at least 32 bytes"))
        #expect(!error.description.contains("\"secret\""))
        #expect(try SignedCookieStore.keys(fromSecrets: ["secret"], allowShortSecrets: true).count == 1)
        #expect(try SignedCookieStore.keys(fromSecrets: [String(repeating: "k", count: 32)]).count == 1)
        #expect(throws: SessionError.self) { try SignedCookieStore.keys(fromSecrets: []) }
        #expect(throws: SessionError.self) { try SignedCookieStore.keys(fromSecrets: [""], allowShortSecrets: true) }
    }

    @Test func keysFromBase64AcceptBothAlphabetsWithOrWithoutPadding() throws {
        let url = try SignedCookieStore.keys(fromBase64: [TestKeys.signing])
        let standard = try SignedCookieStore.keys(
            fromBase64: [Data(Base64URL.decode(TestKeys.signing)!).base64EncodedString()])
        #expect(SignedCookieStore.exportKey(url[0]) == TestKeys.signing)
        #expect(SignedCookieStore.exportKey(standard[0]) == TestKeys.signing)
        #expect(
            EncryptedCookieStore.exportKey(try EncryptedCookieStore.keys(fromBase64: [TestKeys.encryption])[0])
                == TestKeys.encryption)
    }

    @Test(arguments: ["not base64!", "A", "AB=", "", "   "])
    func malformedKeysAreRefusedWithoutEchoingThem(text: String) throws {
        for make in [
            { _ = try SignedCookieStore(base64Keys: [TestKeys.signing, text]) },
            { _ = try EncryptedCookieStore(base64Keys: [TestKeys.encryption, text]) },
        ] as [() throws -> Void] {
            let error = try #require(throws: SessionError.self, performing: make)
            #expect(error.code == .invalidKey)
            #expect(error.description.contains("#2"))
            if !text.trimmingCharacters(in: .whitespaces).isEmpty { #expect(!error.description.contains(text)) }
        }
    }

    @Test func keySizesAreChecked() throws {
        let short = Base64URL.encode([UInt8](repeating: 1, count: 16))
        #expect(throws: SessionError.self) { try SignedCookieStore(base64Keys: [short]) }
        #expect(try SignedCookieStore(base64Keys: [short], allowShortKeys: true).keys.count == 1)
        #expect(throws: SessionError.self) {
            try EncryptedCookieStore(base64Keys: [Base64URL.encode([UInt8](repeating: 1, count: 20))])
        }
        #expect(throws: SessionError.self) { try SignedCookieStore(keys: []) }
        #expect(throws: SessionError.self) { try EncryptedCookieStore(keys: []) }
    }

    @Test func generatedKeysExportAndImportStably() throws {
        let signing = SignedCookieStore.exportKey(SignedCookieStore.generateKey())
        #expect(signing.count == 86)  // 64 bytes
        #expect(SignedCookieStore.exportKey(try SignedCookieStore.keys(fromBase64: [signing])[0]) == signing)
        let encryption = EncryptedCookieStore.exportKey(EncryptedCookieStore.generateKey())
        #expect(encryption.count == 43)  // 32 bytes
        #expect(
            EncryptedCookieStore.exportKey(try EncryptedCookieStore.keys(fromBase64: [encryption])[0]) == encryption)
        #expect(SignedCookieStore.exportKey(SignedCookieStore.generateKey()) != signing)
    }
}
