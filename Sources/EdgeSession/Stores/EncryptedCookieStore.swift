import Crypto
import Edge
import EdgeKV

/// Session data in the cookie, encrypted and authenticated with AES-GCM: the client can neither read nor change it.
///
/// Byte-compatible with @hattip/session's `EncryptedCookieStore`: the cookie value is `b64u(iv) "." b64u(ciphertext
/// ‖ tag)` with a random 16-byte IV, a 128-bit tag and no associated data, over the plaintext `E "." P` (`E` the
/// expiry as in ``SignedCookieStore``). The first key encrypts; every key is tried on read. Keys are 256-bit
/// (128- and 192-bit keys are accepted, as WebCrypto does, to read existing cookies). The expiry is checked strictly
/// against the context clock; anything that fails is a fresh session.
public struct EncryptedCookieStore: SessionStore {
    /// The AES keys; the first one encrypts.
    public let keys: [SymmetricKey]

    /// The IV length hattip uses (WebCrypto accepts it; GCM derives the counter block with GHASH).
    static let ivByteCount = 16
    static let tagByteCount = 16

    /// Creates a store.
    /// - Throws: ``SessionError`` ``SessionError/Code/invalidKey`` when `keys` is empty or a key is not 128, 192 or
    ///   256 bits.
    public init(keys: [SymmetricKey]) throws {
        guard !keys.isEmpty else {
            throw SessionError(.invalidKey, "no encryption keys given; the first key encrypts, all keys decrypt")
        }
        if let index = keys.firstIndex(where: { ![128, 192, 256].contains($0.bitCount) }) {
            throw SessionError(
                .invalidKey,
                "encryption key #\(index + 1) is \(keys[index].bitCount / 8) bytes; AES keys are 32 bytes (16 or 24 "
                    + "accepted for existing cookies)")
        }
        self.keys = keys
    }

    /// Creates a store from base64 or unpadded base64url keys (the first one encrypts).
    /// - Throws: ``SessionError`` ``SessionError/Code/invalidKey`` as ``keys(fromBase64:)``.
    public init(base64Keys: [String]) throws {
        try self.init(keys: Self.keys(fromBase64: base64Keys))
    }

    /// A new random 256-bit key.
    public static func generateKey() -> SymmetricKey { CookieKeys.random(byteCount: 32) }

    /// A key as unpadded base64url (hattip's `exportKey`).
    public static func exportKey(_ key: SymmetricKey) -> String { CookieKeys.export(key) }

    /// Keys from base64 or unpadded base64url text (hattip's `generateKeysFromBase64`).
    /// - Throws: ``SessionError`` ``SessionError/Code/invalidKey`` for an empty list, text that is not base64, or
    ///   a key that is not 16, 24 or 32 bytes.
    public static func keys(fromBase64 texts: [String]) throws -> [SymmetricKey] {
        try CookieKeys.decode(texts, what: "encryption").enumerated().map { index, bytes in
            guard [16, 24, 32].contains(bytes.count) else {
                throw SessionError(
                    .invalidKey,
                    "encryption key #\(index + 1) is \(bytes.count) bytes; AES keys are 32 bytes (16 or 24 accepted "
                        + "for existing cookies; make one with EncryptedCookieStore.generateKey())")
            }
            return SymmetricKey(data: bytes)
        }
    }

    /// Cookie stores carry the data, not an id.
    public var storesDataServerSide: Bool { false }

    /// Decrypts the cookie with each key in turn and checks its expiry; nil for anything else.
    public func load(_ id: String, context: Context) async throws -> StoredSession? {
        open(id, nowMilliseconds: context.clock.nowMilliseconds())
    }

    /// Encrypts `E "." data` with the first key and a random IV, `E` being now + `maxAge` on the context clock.
    public func save(_ id: String?, _ data: String, maxAge: Int, context: Context) async throws -> String {
        try seal(
            data, expiresAt: context.clock.nowMilliseconds().saturatingAdd(Int64.milliseconds(seconds: maxAge)),
            iv: secureRandomBytes(Self.ivByteCount))
    }

    /// Nothing to delete: the middleware clears the cookie.
    public func destroy(_ id: String, context: Context) async throws {}

    func seal(_ data: String, expiresAt: Int64, iv: [UInt8]) throws -> String {
        let plaintext = Array((HattipFormat.encodeExpiry(expiresAt) + "." + data).utf8)
        let box = try AES.GCM.seal(plaintext, using: keys[0], nonce: AES.GCM.Nonce(data: iv))
        return Base64URL.encode(iv) + "." + Base64URL.encode(Array(box.ciphertext) + Array(box.tag))
    }

    func open(_ value: String, nowMilliseconds: Int64) -> StoredSession? {
        guard let (ivText, sealedText) = HattipFormat.splitAtFirstDot(Substring(value)),
            let iv = Base64URL.decode(ivText), (12...64).contains(iv.count),
            let sealed = Base64URL.decode(sealedText), sealed.count >= Self.tagByteCount,
            let nonce = try? AES.GCM.Nonce(data: iv),
            let box = try? AES.GCM.SealedBox(
                nonce: nonce, ciphertext: sealed.dropLast(Self.tagByteCount), tag: sealed.suffix(Self.tagByteCount))
        else { return nil }
        for key in keys {
            guard let plaintext = try? AES.GCM.open(box, using: key),
                let text = String(validating: Array(plaintext), as: UTF8.self)
            else { continue }
            if let session = HattipFormat.payload(Substring(text), nowMilliseconds: nowMilliseconds) {
                return session
            }
        }
        return nil
    }
}
