import EdgeKV
import EdgeKVTestSupport
import EdgeSupport

/// One request the crash oracle sends.
struct FuzzRequest: Sendable, CustomStringConvertible {
    var method: String
    var target: String
    var headers: [(name: String, value: String)]
    var body: [UInt8]?

    var description: String {
        let head = ([method + " " + target] + headers.map { "\($0.name): \($0.value)" }).joined(separator: "\n  ")
        guard let body else { return head }
        let shown = String(decoding: body.prefix(300), as: UTF8.self)
        return head + "\n  body (\(body.count) bytes): " + shown.debugDescription
    }
}

/// Seeded mutations of valid requests: what a hostile client sends, the same on every run with the same seed.
struct RequestMutator {
    var random: SplitMix64

    init(seed: UInt64) { random = SplitMix64(seed: seed) }

    /// Values that break naive code: integer edges, non-numbers, escapes, NUL, deep nesting, long runs.
    static let tokens: [String] = [
        "9223372036854775807", "-9223372036854775808", "9223372036854775808", "18446744073709551616", "1e400",
        "-1", "0", "1.5", "NaN", "null", "true", "[]", "{}", "\"\"", "\u{0}", "%00", "%", "%zz", "%ff%fe", "../",
        "..%2f", "\u{FFFD}", "\\ud800", "\"\\ud800\"", "\u{1F600}", String(repeating: "[", count: 600),
        String(repeating: "{\"a\":", count: 300), String(repeating: "a", count: 5000),
        String(repeating: "%41", count: 700),
        ",", ":", "\"", "\\", "\r\n", ";", "=", "+", " ", "\t", "\u{7F}", "\u{85}",
    ]

    mutating func int(_ bound: Int) -> Int { Int(random.next() % UInt64(bound)) }
    mutating func chance(_ percent: Int) -> Bool { int(100) < percent }
    mutating func pick<T>(_ items: [T]) -> T { items[int(items.count)] }

    /// One to three byte-level edits: flip a bit, insert a token, delete or duplicate a range, truncate.
    mutating func mutate(_ bytes: [UInt8]) -> [UInt8] {
        var out = bytes
        for _ in 0...int(3) {
            let at = out.isEmpty ? 0 : int(out.count + 1)
            switch int(6) {
            case 0 where !out.isEmpty:
                let i = int(out.count)
                out[i] ^= UInt8(1 << int(8))
            case 1:
                out.insert(contentsOf: Array(pick(Self.tokens).utf8), at: min(at, out.count))
            case 2 where !out.isEmpty:
                let start = int(out.count)
                out.removeSubrange(start..<min(out.count, start + 1 + int(16)))
            case 3 where !out.isEmpty && out.count < 100_000:
                let start = int(out.count)
                let slice = out[start..<min(out.count, start + 1 + int(64))]
                out.insert(contentsOf: Array(slice), at: min(at, out.count))
            case 4:
                out = Array(out.prefix(at))
            default:
                out.insert(contentsOf: Array(pick(Self.tokens).utf8), at: min(at, out.count))
            }
        }
        return out
    }

    mutating func mutate(_ text: String) -> String { String(decoding: mutate(Array(text.utf8)), as: UTF8.self) }

    /// A header value that stays on one line (a line break would only test the client's framing).
    mutating func headerValue(_ text: String) -> String {
        String(
            String(decoding: mutate(Array(text.utf8)), as: UTF8.self).filter { $0 != "\r" && $0 != "\n" }.prefix(8000))
    }

    /// A path with its segments and query mutated now and then.
    mutating func target(_ path: String) -> String {
        switch int(10) {
        case 0: return mutate(path)
        case 1: return path + "?" + mutate("limit=10&cursor=abc&prefix=a")
        case 2: return path + "/" + pick(Self.tokens).filter { $0 != " " && $0 != "\r" && $0 != "\n" }
        case 3: return pick(["//", "/%2e%2e/", "/" + String(repeating: "x", count: 4000), "*", path + "%00junk"])
        default: return path
        }
    }

    mutating func method(_ method: String) -> String {
        chance(8) ? pick(["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "FOO"]) : method
    }

    /// Extra headers a client may send, some of them contradicting the body's framing.
    mutating func extraHeaders() -> [(name: String, value: String)] {
        var out: [(name: String, value: String)] = []
        if chance(15) {
            let (name, value) = pick([
                ("X-EdgeKV-Location", "eu"), ("CF-IPCountry", "US"), ("X-Forwarded-Proto", "https"),
                ("Content-Type", "application/json"), ("Content-Type", "multipart/form-data; boundary=b"),
                ("CF-Connecting-IP", "203.0.113.7"), ("Accept", "*/*"), ("Authorization", "Bearer x"),
                ("X-Auth-Key", "k"), ("X-Auth-Email", "a@b.c"), ("Expect", "100-continue"), ("Range", "bytes=0-1"),
            ])
            out.append((name, headerValue(value)))
        }
        if chance(2) { out.append(("Content-Length", pick(["abc", "-1", "99999999999999999999999", "1, 2"]))) }
        return out
    }
}
