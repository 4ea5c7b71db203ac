/// Parses `Cookie` request headers the way the `cookie` npm package (v1) does, which hattip uses.
public enum CookieParser {
    /// Name/value pairs of one `Cookie` header, in order. Pairs without `=` are skipped, names and values are
    /// trimmed, one pair of surrounding double quotes is removed, and a value with `%` is percent-decoded when it
    /// decodes (else kept raw). Never fails, whatever the input.
    ///
    /// The header is split on Unicode scalars, as the JavaScript parser splits on code units: a `;` or `=` followed
    /// by a combining mark still separates.
    public static func parse(_ header: String) -> [(name: String, value: String)] {
        var result: [(name: String, value: String)] = []
        for part in header.unicodeScalars.split(separator: ";", omittingEmptySubsequences: true) {
            guard let eq = part.firstIndex(of: "=") else { continue }
            let name = trim(part[..<eq])
            guard !name.isEmpty else { continue }
            var value = trim(part[part.index(after: eq)...])
            if value.count >= 2, value.first == "\"", value.last == "\"" {
                value = value.dropFirst().dropLast()
            }
            result.append((String(name), decode(String(value))))
        }
        return result
    }

    /// The cookies of one header with the first occurrence of each name kept.
    public static func parseFirstWins(_ header: String) -> [String: String] {
        var cookies: [String: String] = [:]
        for (name, value) in parse(header) where cookies[name] == nil { cookies[name] = value }
        return cookies
    }

    /// Drops spaces and tabs at both ends.
    static func trim(_ s: Substring.UnicodeScalarView) -> Substring.UnicodeScalarView {
        var s = s
        while let first = s.first, first == " " || first == "\t" { s.removeFirst() }
        while let last = s.last, last == " " || last == "\t" { s.removeLast() }
        return s
    }

    /// `decodeURIComponent` when the value has `%`; the raw value when decoding fails.
    static func decode(_ value: String) -> String {
        guard value.contains("%") else { return value }
        return percentDecode(value) ?? value
    }

    /// Strict percent-decoding of UTF-8, like `decodeURIComponent`: nil for a bad escape or invalid UTF-8.
    static func percentDecode(_ value: String) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(value.utf8.count)
        var it = Array(value.utf8)[...]
        while let c = it.popFirst() {
            guard c == UInt8(ascii: "%") else {
                bytes.append(c)
                continue
            }
            guard let h = it.popFirst(), let l = it.popFirst(), let hv = hex(h), let lv = hex(l) else { return nil }
            bytes.append(hv << 4 | lv)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    static func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
