/// The pieces of @hattip/session's cookie formats (`crypto.ts`): the expiry `E`, the split at the first `.`, and
/// the signed (`b64u(HMAC) "." E "." P`) and encrypted (`b64u(iv) "." b64u(ciphertext ‖ tag)` of `E "." P`) layouts.
package enum HattipFormat {
    /// `E`: milliseconds since the epoch as minimal little-endian bytes (at most 8), base64url without padding.
    /// 1735689900000 → `4A8uH5QB`.
    package static func encodeExpiry(_ milliseconds: Int64) -> String {
        precondition(milliseconds >= 0, "an expiry before 1970 cannot be encoded")
        let n = UInt64(milliseconds)
        // Up to 8 bytes on the stack, never an array.
        return withUnsafeBytes(of: n.littleEndian) { bytes in
            Base64URL.encode(bytes.prefix((n.bitWidth - n.leadingZeroBitCount + 7) / 8))
        }
    }

    /// Reads `E`; nil unless it is 1…8 bytes of a value that fits in `Int64`.
    static func decodeExpiry(_ text: some StringProtocol) -> Int64? {
        var n: UInt64 = 0
        var count = 0
        let valid = Base64URL.decode(text) { byte in
            if count < 8 { n |= UInt64(byte) << (8 * UInt64(count)) }
            count += 1
        }
        guard valid, (1...8).contains(count) else { return nil }
        return n <= UInt64(Int64.max) ? Int64(n) : nil
    }

    /// Splits at the first `.`; nil when there is none.
    ///
    /// Searches the UTF-8 bytes, as hattip splits code units: a `Character` search costs grapheme breaking on every
    /// request and would miss a `.` that a combining mark follows.
    package static func splitAtFirstDot(_ text: Substring) -> (head: Substring, tail: Substring)? {
        guard let dot = text.utf8.firstIndex(of: UInt8(ascii: ".")) else { return nil }
        return (text[..<dot], text[text.utf8.index(after: dot)...])
    }

    /// Splits `E "." P` and checks the expiry strictly against now, as hattip does (`date > new Date()`).
    static func payload(_ plain: Substring, nowMilliseconds: Int64) -> StoredSession? {
        guard let (expiryText, data) = splitAtFirstDot(plain), let expiry = decodeExpiry(expiryText),
            expiry > nowMilliseconds
        else { return nil }
        return StoredSession(data: String(data), expiresAt: expiry)
    }
}
