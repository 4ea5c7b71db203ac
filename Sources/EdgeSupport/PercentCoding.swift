/// Percent-encoding and -decoding of UTF-8 text, with the set of bytes kept as they are chosen by the caller.
package enum PercentCoding {
    /// The ASCII bytes an encoding keeps as they are; every other byte becomes `%XX` (upper-case hex).
    package struct Kept: Sendable {
        private let table: [Bool]

        /// ASCII letters, digits and these punctuation characters.
        package init(alphanumericsAnd punctuation: String) {
            table = (0..<128).map { byte in
                let c = UInt8(byte)
                return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                    || punctuation.utf8.contains(c)
            }
        }

        /// Whether `byte` is kept as it is.
        package func contains(_ byte: UInt8) -> Bool { byte < 128 && table[Int(byte)] }

        /// What JavaScript's `encodeURIComponent` keeps: `A-Z a-z 0-9 - _ . ! ~ * ' ( )`.
        package static let uriComponent = Kept(alphanumericsAnd: "-_.!~*'()")
        /// What a URL path segment keeps (RFC 3986 `pchar` without `%`): a `/` in it is encoded.
        package static let pathSegment = Kept(alphanumericsAnd: "-._~!$&'()*+,;=:@")
        /// What a query value keeps (RFC 3986 unreserved).
        package static let unreserved = Kept(alphanumericsAnd: "-._~")
    }

    /// `text` with every UTF-8 byte that `kept` does not hold written as `%XX`; the string itself when nothing needs
    /// encoding.
    package static func encode(_ text: String, keeping kept: Kept) -> String {
        var escapes = 0
        for c in text.utf8 where !kept.contains(c) { escapes += 1 }
        guard escapes > 0 else { return text }
        func hex(_ n: UInt8) -> UInt8 { n < 10 ? UInt8(ascii: "0") + n : UInt8(ascii: "A") + n - 10 }
        // Byte by byte into a string of the exact size: this runs for every cookie written and request sent.
        return String(unsafeUninitializedCapacity: text.utf8.count + 2 * escapes) { out in
            var i = 0
            for c in text.utf8 {
                if kept.contains(c) {
                    out[i] = c
                    i += 1
                } else {
                    out[i] = UInt8(ascii: "%")
                    out[i + 1] = hex(c >> 4)
                    out[i + 2] = hex(c & 0x0F)
                    i += 3
                }
            }
            return i
        }
    }

    /// Strict percent-decoding, like JavaScript's `decodeURIComponent`: nil for a `%` not followed by two hex digits
    /// or for bytes that are not UTF-8. `+` stays `+`.
    package static func decode(_ bytes: UnsafeRawBufferPointer) -> String? {
        // Decoded into scratch space on the stack, then validated as UTF-8 once.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: bytes.count) { out -> String? in
            var n = 0
            var i = 0
            while i < bytes.count {
                let c = bytes[i]
                guard c == UInt8(ascii: "%") else {
                    out[n] = c
                    n += 1
                    i += 1
                    continue
                }
                guard i + 2 < bytes.count, let h = hex(bytes[i + 1]), let l = hex(bytes[i + 2]) else { return nil }
                out[n] = h << 4 | l
                n += 1
                i += 3
            }
            let decoded = UnsafeBufferPointer(rebasing: out[..<n])
            // ASCII needs no validation (the usual case: JSON and base64 in session cookies).
            if decoded.allSatisfy({ $0 < 0x80 }) { return String(decoding: decoded, as: UTF8.self) }
            return String(validating: decoded, as: UTF8.self)
        }
    }

    /// ``decode(_:)-(UnsafeRawBufferPointer)`` of a string's UTF-8.
    package static func decode(_ text: some StringProtocol) -> String? {
        var text = String(text)
        return text.withUTF8 { decode(UnsafeRawBufferPointer($0)) }
    }

    private static func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
