import EdgeSupport
import Foundation

/// SplitMix64: a small, fast generator whose sequence depends only on its seed, so a failing fuzz case can be
/// replayed from the seed and the iteration number it reports.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func int(_ range: Range<Int>) -> Int { Int.random(in: range, using: &self) }
    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &self) < p }
    mutating func pick<T>(_ items: [T]) -> T { items[int(0..<items.count)] }
    mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255, using: &self) } }
}

/// Inputs for the fuzz tests: well-formed bodies (whose effect the tests can predict) and byte-level mutations of
/// them (which must only ever be refused with a 4xx or accepted).
enum FuzzInput {
    /// Keys drawn from a small set so writes, reads and deletes collide.
    static let keys = ["a", "b", "k/1", "a b", "ключ", "+", "%", "😀", "x.y"]

    /// Tokens that tend to matter to parsers.
    static let multipartTokens = [
        "\r\n", "\r\n\r\n", "--", "\r\n--", ";", "=", "\"", ":", "name=", "name=\"value\"", "name=\"metadata\"",
        "filename=\"x\"", "Content-Disposition: form-data", "Content-Type: text/plain", "\u{0}", "\n", "\r",
    ]
    static let jsonTokens = [
        "{", "}", "[", "]", ",", ":", "\"", "\\", "\\u", "\\ud800", "null", "true", "1e999", "-", "0",
        "9223372036854775808",
        "\"key\"", "\"value\"", "\"base64\":true", "\"expiration_ttl\":", "\"metadata\":", " ", "\u{0}", "\u{FF}",
    ]

    static func key(_ g: inout SeededGenerator) -> String {
        if g.chance(0.9) { return g.pick(keys) }
        return g.pick(["", ".", "..", String(repeating: "k", count: g.int(500..<520)), "\u{0}", "a\u{FFFD}b"])
    }

    /// Random bytes, text, or bytes that look like multipart framing.
    static func value(_ g: inout SeededGenerator, boundary: String) -> [UInt8] {
        switch g.int(0..<5) {
        case 0: return []
        case 1: return g.bytes(g.int(1..<64))
        case 2: return Array("value-\(g.int(0..<1000))".utf8)
        case 3: return Array("\r\n--\(boundary)x\r\n--\(boundary.dropLast())--\r\n".utf8) + g.bytes(g.int(0..<8))
        default: return g.bytes(g.int(1_000..<20_000))
        }
    }

    /// A random JSON value as text (valid JSON), nested up to `depth`.
    static func json(_ g: inout SeededGenerator, depth: Int = 3) -> String {
        switch g.int(0..<(depth > 0 ? 8 : 6)) {
        case 0: return "null"
        case 1: return g.chance(0.5) ? "true" : "false"
        case 2: return g.pick(["0", "-1", "42", "1.5", "-0.0", "1e3", "1E-7", "12345678901234567890", "1e308"])
        case 3: return g.pick([#""""#, #""s""#, #""é\n\u0041\ud83d\ude00""#, #""\ud800""#, #""\"quoted\"""#])
        case 4: return "\"\(g.int(0..<1_000_000))\""
        case 5: return g.pick(["[]", "{}"])
        case 6: return "[" + (0..<g.int(0..<4)).map { _ in json(&g, depth: depth - 1) }.joined(separator: ",") + "]"
        default:
            return "{"
                + (0..<g.int(0..<4)).map { i in "\"f\(i)\":" + json(&g, depth: depth - 1) }.joined(separator: ", ")
                + "}"
        }
    }

    /// Applies 1…`max` byte-level mutations: flips, insertions of `tokens`, deletions, truncation, duplication.
    static func mutate(_ input: [UInt8], _ g: inout SeededGenerator, tokens: [String], max: Int = 4) -> [UInt8] {
        var bytes = input
        for _ in 0..<g.int(1..<(max + 1)) {
            let position = bytes.isEmpty ? 0 : g.int(0..<(bytes.count + 1))
            switch g.int(0..<7) {
            case 0 where !bytes.isEmpty:
                bytes[min(position, bytes.count - 1)] ^= UInt8(1 << g.int(0..<8))
            case 1:
                bytes.insert(contentsOf: Array(g.pick(tokens).utf8), at: position)
            case 2 where !bytes.isEmpty:
                let end = min(bytes.count, position + g.int(1..<16))
                bytes.removeSubrange(min(position, end)..<end)
            case 3:
                bytes = Array(bytes.prefix(position))
            case 4 where !bytes.isEmpty:
                let start = g.int(0..<bytes.count)
                let slice = bytes[start..<min(bytes.count, start + g.int(1..<64))]
                bytes.insert(contentsOf: slice, at: position)
            case 5:
                bytes.insert(contentsOf: g.bytes(g.int(1..<8)), at: position)
            default:
                bytes.insert(
                    contentsOf: Array(String(repeating: g.pick(tokens), count: g.int(2..<200)).utf8), at: position)
            }
        }
        return bytes
    }
}
