/// The base64 forms @hattip/session reads and writes: base64url without padding on output; on input also the
/// standard alphabet and `=` padding (hattip maps `-`/`_` back before `atob`).
///
/// Decoding is strict where hattip is lenient in ways no hattip output needs: characters outside both alphabets,
/// a wrong amount of padding, a dangling character and non-zero unused bits are all refused, so every accepted
/// text has exactly one meaning.
public enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    private static let decodeTable: [Int8] = {
        var table = [Int8](repeating: -1, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = Int8(i) }
        table[Int(UInt8(ascii: "+"))] = 62
        table[Int(UInt8(ascii: "/"))] = 63
        return table
    }()

    /// Encodes bytes as base64url without padding (hattip's `toBase64`).
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        if let encoded = bytes.withContiguousStorageIfAvailable({ encode(buffer: $0) }) { return encoded }
        return Array(bytes).withUnsafeBufferPointer { encode(buffer: $0) }
    }

    private static func encode(buffer input: UnsafeBufferPointer<UInt8>) -> String {
        String(unsafeUninitializedCapacity: (input.count * 4 + 2) / 3) { out in
            alphabet.withUnsafeBufferPointer { alphabet in
                var i = 0
                var o = 0
                func put(_ n: UInt32, _ shift: UInt32) {
                    out[o] = alphabet[Int(n >> shift & 63)]
                    o += 1
                }
                while i + 3 <= input.count {
                    let n = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
                    put(n, 18)
                    put(n, 12)
                    put(n, 6)
                    put(n, 0)
                    i += 3
                }
                switch input.count - i {
                case 1:
                    let n = UInt32(input[i]) << 16
                    put(n, 18)
                    put(n, 12)
                case 2:
                    let n = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8
                    put(n, 18)
                    put(n, 12)
                    put(n, 6)
                default: break
                }
                return o
            }
        }
    }

    /// Decodes base64url or standard base64, padded or not; nil for anything else.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count * 3 / 4)
        return decode(text, each: { out.append($0) }) ? out : nil
    }

    /// Decodes like ``decode(_:)``, handing each byte to `byte` instead of collecting them; false (after some bytes,
    /// perhaps) for text that is not base64.
    static func decode(_ text: some StringProtocol, each byte: (UInt8) -> Void) -> Bool {
        var utf8 = Substring(text).utf8
        if utf8.count % 4 == 0, utf8.last == UInt8(ascii: "=") {
            utf8 = utf8.dropLast()
            if utf8.last == UInt8(ascii: "=") { utf8 = utf8.dropLast() }
        }
        if utf8.count % 4 == 1 { return false }
        var accumulator: UInt32 = 0
        var bits = 0
        for c in utf8 {
            let v = decodeTable[Int(c)]
            if v < 0 { return false }
            accumulator = accumulator << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                byte(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                accumulator &= (1 << UInt32(bits)) - 1
            }
        }
        // Unused low bits must be zero: one canonical text per byte string.
        return accumulator == 0
    }
}
