import Crypto
import Edge
import EdgeKV
import EdgeSupport

/// Session data in the cookie, signed with HMAC-SHA256: readable by the client, not changeable.
///
/// Byte-compatible with @hattip/session's `SignedCookieStore`: the cookie value is
/// `b64u(HMAC-SHA256(key, E "." P)) "." E "." P`, where `E` is the expiry in milliseconds as minimal little-endian
/// bytes in base64url and `P` the JSON data, so a cookie signed by a hattip app with the same key verifies here and
/// the other way round. The first key signs; every key verifies (rotation: keep an old key for `maxAge` after
/// replacing it). Verification is constant-time, the expiry is checked strictly against the context clock, and
/// anything that fails is a fresh session.
///
/// Like any cookie store it cannot revoke: `destroy()` clears the client's cookie, but a copy of the cookie stays
/// valid until its embedded expiry.
public struct SignedCookieStore: SessionStore {
    /// The signing keys; the first one signs.
    public let keys: [SymmetricKey]
    /// An HMAC per key with the key already absorbed: copies of it sign and verify without deriving the padded
    /// inner and outer keys on every request.
    private let authenticators: [HMAC<SHA256>]

    /// Creates a store.
    /// - Throws: ``SessionError`` ``SessionError/Code/invalidKey`` when `keys` is empty or a key is empty.
    public init(keys: [SymmetricKey]) throws {
        guard !keys.isEmpty else {
            throw SessionError(.invalidKey, "no signing keys given; the first key signs, all keys verify")
        }
        if let index = keys.firstIndex(where: { $0.bitCount == 0 }) {
            throw SessionError(.invalidKey, "signing key #\(index + 1) is empty")
        }
        self.keys = keys
        authenticators = keys.map { HMAC<SHA256>(key: $0) }
    }

    /// Creates a store from base64 or unpadded base64url keys (the first one signs).
    /// - Throws: ``SessionError`` ``SessionError/Code/invalidKey`` as ``keys(fromBase64:allowShortKeys:)``.
    public init(base64Keys: [String], allowShortKeys: Bool = false) throws {
        try self.init(keys: Self.keys(fromBase64: base64Keys, allowShortKeys: allowShortKeys))
    }

    /// A new random 512-bit key (what WebCrypto's HMAC-SHA256 `generateKey` makes).
    public static func generateKey() -> SymmetricKey { CookieKeys.random(byteCount: 64) }

    /// A key as unpadded base64url (hattip's `exportKey`).
    public static func exportKey(_ key: SymmetricKey) -> String { CookieKeys.export(key) }

    /// Keys from base64 or unpadded base64url text (hattip's `generateKeysFromBase64`).
    /// - Throws: ``SessionError`` ``SessionError/Code/invalidKey`` for an empty list, text that is not base64, or
    ///   a key shorter than 32 bytes unless `allowShortKeys` is true.
    public static func keys(fromBase64 texts: [String], allowShortKeys: Bool = false) throws -> [SymmetricKey] {
        try CookieKeys.decode(texts, what: "signing").enumerated().map { index, bytes in
            if bytes.count < 32 && !allowShortKeys {
                throw SessionError(
                    .invalidKey,
                    "signing key #\(index + 1) is \(bytes.count) bytes; HMAC-SHA256 keys must be at least 32 bytes "
                        + "(make one with SignedCookieStore.generateKey())")
            }
            return SymmetricKey(data: bytes)
        }
    }

    /// Keys from secrets, hattip-compatible (`generateKeysFromSecrets`): the UTF-8 bytes of each secret are the
    /// HMAC key as they are, with no key derivation.
    /// - Parameter allowShortSecrets: accept secrets under 32 bytes, to read the cookies of an existing hattip app
    ///   that uses one. Such a secret is as weak as it is short.
    /// - Throws: ``SessionError`` ``SessionError/Code/invalidKey`` for an empty list or secret, or a secret shorter
    ///   than 32 bytes unless `allowShortSecrets` is true.
    public static func keys(fromSecrets secrets: [String], allowShortSecrets: Bool = false) throws -> [SymmetricKey] {
        guard !secrets.isEmpty else {
            throw SessionError(.invalidKey, "no signing secrets given; the first secret signs, all secrets verify")
        }
        return try secrets.enumerated().map { index, secret in
            let bytes = Array(secret.utf8)
            if bytes.isEmpty { throw SessionError(.invalidKey, "signing secret #\(index + 1) is empty") }
            if bytes.count < 32 && !allowShortSecrets {
                throw SessionError(
                    .invalidKey,
                    "signing secret #\(index + 1) is \(bytes.count) bytes; secrets must be at least 32 bytes, since "
                        + "hattip's format uses a secret's bytes directly as the HMAC key. Use a long random secret "
                        + "or a generated key, or pass allowShortSecrets: true to read an existing app's cookies")
            }
            return SymmetricKey(data: bytes)
        }
    }

    /// Cookie stores carry the data, not an id.
    public var storesDataServerSide: Bool { false }

    /// Verifies the cookie with each key in turn and checks its expiry; nil for anything else.
    public func load(_ id: String, context: Context) async throws -> StoredSession? {
        verify(id, nowMilliseconds: context.clock.nowMilliseconds())
    }

    /// Signs `E "." data` with the first key, `E` being now + `maxAge` on the context clock.
    public func save(_ id: String?, _ data: String, maxAge: Int, context: Context) async throws -> String {
        sign(data, expiresAt: context.clock.nowMilliseconds().saturatingAdd(Int64.milliseconds(seconds: maxAge)))
    }

    /// Nothing to delete: the middleware clears the cookie.
    public func destroy(_ id: String, context: Context) async throws {}

    func sign(_ data: String, expiresAt: Int64) -> String {
        var signed = HattipFormat.encodeExpiry(expiresAt)
        signed.reserveCapacity(signed.utf8.count + 1 + data.utf8.count)
        signed += "."
        signed += data
        var mac = authenticators[0]
        signed.withUTF8 { mac.update(data: UnsafeRawBufferPointer($0)) }
        var value = mac.finalize().withUnsafeBytes { Base64URL.encode($0) }
        value.reserveCapacity(value.utf8.count + 1 + signed.utf8.count)
        value += "."
        value += signed
        return value
    }

    func verify(_ value: String, nowMilliseconds: Int64) -> StoredSession? {
        guard let (signatureText, signed) = HattipFormat.splitAtFirstDot(Substring(value)),
            let signature = Base64URL.decode(signatureText), signature.count == SHA256.byteCount
        else { return nil }
        var message = signed
        return message.withUTF8 { bytes in
            for authenticator in authenticators {
                var mac = authenticator
                mac.update(data: UnsafeRawBufferPointer(bytes))
                if mac.finalize().withUnsafeBytes({ constantTimeEqual(signature, $0) }) {
                    return HattipFormat.payload(signed, nowMilliseconds: nowMilliseconds)
                }
            }
            return nil
        }
    }
}
