import EdgeSupport

/// Parses `Cookie` request headers the way the `cookie` npm package (v1) does, which hattip uses.
public enum CookieParser {
    /// Name/value pairs of one `Cookie` header, in order. Pairs without `=` are skipped, names and values are
    /// trimmed, one pair of surrounding double quotes is removed, and a value with `%` is percent-decoded when it
    /// decodes (else kept raw). Never fails, whatever the input.
    ///
    /// The header is split on its UTF-8 bytes, as the JavaScript parser splits on code units: `;`, `=`, spaces, tabs
    /// and quotes are ASCII, which never occurs inside a multi-byte character, so a `;` or `=` followed by a
    /// combining mark still separates.
    public static func parse(_ header: String) -> [(name: String, value: String)] {
        var result: [(name: String, value: String)] = []
        forEachPair(header) { name, value in
            result.append((String(decoding: name, as: UTF8.self), decode(value)))
            return false
        }
        return result
    }

    /// The cookies of one header with the first occurrence of each name kept.
    public static func parseFirstWins(_ header: String) -> [String: String] {
        var cookies: [String: String] = [:]
        parseFirstWins(header, into: &cookies)
        return cookies
    }

    /// Adds the cookies of one header to `cookies`, keeping a name's value when it is already there.
    public static func parseFirstWins(_ header: String, into cookies: inout [String: String]) {
        forEachPair(header) { name, value in
            let name = String(decoding: name, as: UTF8.self)
            if cookies[name] == nil { cookies[name] = decode(value) }
            return false
        }
    }

    /// The value of the first cookie named `name` in one header, decoded as ``parse(_:)`` decodes it; nothing else
    /// in the header is decoded.
    public static func firstValue(named name: String, in header: String) -> String? {
        var name = name
        return name.withUTF8 { wanted in
            var found: String?
            forEachPair(header) { candidate, value in
                guard candidate.elementsEqual(wanted) else { return false }
                found = decode(value)
                return true
            }
            return found
        }
    }

    /// Adds the cookies of one header to `cookies` as they are on the wire — neither percent-decoded nor unquoted,
    /// as a client's jar holds them and `Set-Cookie` carries them — keeping a name's value when it is already there.
    public static func parseRawFirstWins(_ header: String, into cookies: inout [String: String]) {
        forEachPair(header, unquote: false) { name, value in
            let name = String(decoding: name, as: UTF8.self)
            if cookies[name] == nil { cookies[name] = String(decoding: value, as: UTF8.self) }
            return false
        }
    }

    /// The `Cookie` header a client sends for these pairs, in order: `name=value; name=value`, values as given.
    public static func header(_ pairs: [(name: String, value: String)]) -> String {
        pairs.map { $0.name + "=" + $0.value }.joined(separator: "; ")
    }

    /// Calls `body` with the trimmed name and raw value (without one pair of surrounding quotes when `unquote`) of
    /// each pair, in order, until it returns true.
    static func forEachPair(
        _ header: String, unquote: Bool = true,
        _ body: (Slice<UnsafeBufferPointer<UInt8>>, Slice<UnsafeBufferPointer<UInt8>>) -> Bool
    ) {
        var header = header
        header.withUTF8 { bytes in
            var start = 0
            while start < bytes.count {
                var end = start
                while end < bytes.count, bytes[end] != UInt8(ascii: ";") { end += 1 }
                defer { start = end + 1 }
                guard let eq = bytes[start..<end].firstIndex(of: UInt8(ascii: "=")) else { continue }
                let name = trim(bytes[start..<eq])
                guard !name.isEmpty else { continue }
                var value = trim(bytes[(eq + 1)..<end])
                if unquote, value.count >= 2, value.first == UInt8(ascii: "\""), value.last == UInt8(ascii: "\"") {
                    value = value.dropFirst().dropLast()
                }
                if body(name, value) { return }
            }
        }
    }

    /// Drops spaces and tabs at both ends.
    static func trim(_ s: Slice<UnsafeBufferPointer<UInt8>>) -> Slice<UnsafeBufferPointer<UInt8>> {
        var s = s
        while let first = s.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") { s.removeFirst() }
        while let last = s.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") { s.removeLast() }
        return s
    }

    /// `decodeURIComponent` when the value has `%`; the raw value when decoding fails.
    static func decode(_ value: Slice<UnsafeBufferPointer<UInt8>>) -> String {
        guard value.contains(UInt8(ascii: "%")) else { return String(decoding: value, as: UTF8.self) }
        return PercentCoding.decode(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: value)))
            ?? String(decoding: value, as: UTF8.self)
    }
}
