/// A value type a ``JSONReader`` can build: one constructor per JSON kind.
///
/// Enum cases with these names witness the requirements directly (`case int(Int64)` is `static func int`).
package protocol JSONReadable {
    /// JSON `null`.
    static var null: Self { get }
    /// `true` or `false`.
    static func bool(_ value: Bool) -> Self
    /// A number without fraction or exponent that fits in 64 bits.
    static func int(_ value: Int64) -> Self
    /// Any other number.
    static func double(_ value: Double) -> Self
    /// A string, escapes resolved.
    static func string(_ value: String) -> Self
    /// An array.
    static func array(_ elements: [Self]) -> Self
    /// An object; a repeated key keeps its last value, as in JavaScript.
    static func object(_ members: [String: Self]) -> Self
}

/// The dialect a ``JSONReader`` accepts.
package struct JSONDialect: Sendable, Equatable {
    /// `//` and `/* */` comments outside strings count as whitespace.
    package var allowsComments: Bool
    /// A comma may follow the last member of an object or array.
    package var allowsTrailingCommas: Bool
    /// A `\u` escape of a lone surrogate is an error; otherwise it reads as U+FFFD, which is what a Worker's
    /// `TextEncoder` writes for the string `JSON.parse` returns.
    package var rejectsLoneSurrogates: Bool

    /// RFC 8259 JSON, as `JSON.parse` reads it.
    package static let json = JSONDialect(
        allowsComments: false, allowsTrailingCommas: false, rejectsLoneSurrogates: false)

    /// JSON with comments, the dialect of `wrangler.json` and `wrangler.jsonc`. A lone surrogate is refused:
    /// it cannot be part of a name or id, and replacing it would change the value silently.
    package static let jsonc = JSONDialect(
        allowsComments: true, allowsTrailingCommas: true, rejectsLoneSurrogates: true)
}

/// Why a JSON text could not be read, and where.
package struct JSONSyntaxError: Error, Sendable, Hashable {
    /// The byte offset of the problem in the input.
    package var offset: Int
    /// What was wrong, such as `unexpected character '}', expected ',' or ']'`.
    package var message: String

    /// The 1-based line and column of ``offset`` in `bytes`, columns counted in Unicode scalars.
    package func lineAndColumn(in bytes: [UInt8]) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        for byte in bytes[..<min(offset, bytes.count)] {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                // Continuation bytes of multi-byte characters do not advance the column.
                column += 1
            }
        }
        return (line, column)
    }
}

/// The one JSON parser: strict JSON for KV values and metadata, JSONC for wrangler configuration.
///
/// Written by hand so that errors carry an exact position and integers stay distinct from floating point.
/// Containers nested deeper than ``maximumDepth`` are refused instead of exhausting the stack.
package struct JSONReader<Value: JSONReadable> {
    /// The deepest nesting of objects and arrays accepted.
    package static var maximumDepth: Int { 512 }

    private let bytes: [UInt8]
    private let dialect: JSONDialect
    private var offset = 0

    private init(_ bytes: [UInt8], _ dialect: JSONDialect) {
        self.bytes = bytes
        self.dialect = dialect
    }

    /// Parses a whole document: one value with nothing but whitespace (and comments, when allowed) around it.
    package static func parse(_ bytes: [UInt8], dialect: JSONDialect = .json) throws(JSONSyntaxError) -> Value {
        var reader = JSONReader(bytes, dialect)
        let value = try reader.parseValue(depth: 0)
        try reader.skipTrivia()
        if reader.offset < reader.bytes.count {
            throw reader.unexpectedCharacter(expected: "end of file")
        }
        return value
    }

    // MARK: - Values

    private mutating func parseValue(depth: Int) throws(JSONSyntaxError) -> Value {
        try skipTrivia()
        guard let byte = peek() else {
            throw error("unexpected end of file, expected a value")
        }
        switch byte {
        case UInt8(ascii: "{"):
            return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["):
            return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""):
            return .string(try parseString())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try parseNumber()
        case UInt8(ascii: "t"):
            return try parseLiteral("true", .bool(true))
        case UInt8(ascii: "f"):
            return try parseLiteral("false", .bool(false))
        case UInt8(ascii: "n"):
            return try parseLiteral("null", .null)
        default:
            throw unexpectedCharacter(expected: "a value")
        }
    }

    private mutating func parseObject(depth: Int) throws(JSONSyntaxError) -> Value {
        guard depth <= Self.maximumDepth else {
            throw error("objects and arrays are nested more than \(Self.maximumDepth) deep")
        }
        offset += 1  // {
        var members: [String: Value] = [:]
        var afterComma = false
        while true {
            try skipTrivia()
            if peek() == UInt8(ascii: "}"), !afterComma || dialect.allowsTrailingCommas {
                offset += 1
                return .object(members)
            }
            guard peek() == UInt8(ascii: "\"") else {
                throw unexpectedCharacter(
                    expected: afterComma && !dialect.allowsTrailingCommas ? "a string key" : "a string key or '}'")
            }
            let key = try parseString()
            try skipTrivia()
            guard peek() == UInt8(ascii: ":") else {
                throw unexpectedCharacter(expected: "':'")
            }
            offset += 1
            members[key] = try parseValue(depth: depth)
            try skipTrivia()
            switch peek() {
            case UInt8(ascii: ","):
                offset += 1
                afterComma = true
            case UInt8(ascii: "}"):
                offset += 1
                return .object(members)
            default:
                throw unexpectedCharacter(expected: "',' or '}'")
            }
        }
    }

    private mutating func parseArray(depth: Int) throws(JSONSyntaxError) -> Value {
        guard depth <= Self.maximumDepth else {
            throw error("objects and arrays are nested more than \(Self.maximumDepth) deep")
        }
        offset += 1  // [
        var elements: [Value] = []
        var afterComma = false
        while true {
            try skipTrivia()
            if peek() == UInt8(ascii: "]"), !afterComma || dialect.allowsTrailingCommas {
                offset += 1
                return .array(elements)
            }
            elements.append(try parseValue(depth: depth))
            try skipTrivia()
            switch peek() {
            case UInt8(ascii: ","):
                offset += 1
                afterComma = true
            case UInt8(ascii: "]"):
                offset += 1
                return .array(elements)
            default:
                throw unexpectedCharacter(expected: "',' or ']'")
            }
        }
    }

    private mutating func parseString() throws(JSONSyntaxError) -> String {
        let start = offset
        offset += 1  // opening quote
        var utf8: [UInt8] = []
        while true {
            guard let byte = peek(), byte != UInt8(ascii: "\n"), byte != UInt8(ascii: "\r") else {
                throw error("unterminated string", at: start)
            }
            switch byte {
            case UInt8(ascii: "\""):
                offset += 1
                return String(decoding: utf8, as: UTF8.self)
            case UInt8(ascii: "\\"):
                offset += 1
                try parseEscape(into: &utf8)
            case 0..<0x20:
                throw error("control character U+00\(hexByte(byte)) must be escaped in a string")
            default:
                utf8.append(byte)
                offset += 1
            }
        }
    }

    private mutating func parseEscape(into utf8: inout [UInt8]) throws(JSONSyntaxError) {
        let escapeStart = offset - 1
        guard let byte = peek() else {
            throw error("unterminated string")
        }
        offset += 1
        let simple: UInt8? =
            switch byte {
            case UInt8(ascii: "\""): UInt8(ascii: "\"")
            case UInt8(ascii: "\\"): UInt8(ascii: "\\")
            case UInt8(ascii: "/"): UInt8(ascii: "/")
            case UInt8(ascii: "b"): 0x08
            case UInt8(ascii: "f"): 0x0C
            case UInt8(ascii: "n"): UInt8(ascii: "\n")
            case UInt8(ascii: "r"): UInt8(ascii: "\r")
            case UInt8(ascii: "t"): UInt8(ascii: "\t")
            default: nil
            }
        if let simple {
            utf8.append(simple)
            return
        }
        guard byte == UInt8(ascii: "u") else {
            throw error("invalid escape sequence in string", at: escapeStart)
        }
        var value = try parseHex4(escapeStart: escapeStart)
        if (0xD800..<0xDC00).contains(value) {
            let lowStart = offset
            if peek() == UInt8(ascii: "\\"), peek(at: offset + 1) == UInt8(ascii: "u") {
                offset += 2
                let low = try parseHex4(escapeStart: lowStart)
                if (0xDC00..<0xE000).contains(low) {
                    value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
                } else {
                    // Not a pair: the second escape is read on its own.
                    offset = lowStart
                }
            }
        }
        guard let scalar = Unicode.Scalar(value) else {
            if dialect.rejectsLoneSurrogates {
                throw error("unpaired surrogate in \\u escape", at: escapeStart)
            }
            UTF8.encode("\u{FFFD}") { utf8.append($0) }
            return
        }
        UTF8.encode(scalar) { utf8.append($0) }
    }

    private mutating func parseHex4(escapeStart: Int) throws(JSONSyntaxError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = peek(), let digit = hexValue(byte) else {
                throw error("\\u must be followed by four hexadecimal digits", at: escapeStart)
            }
            value = value * 16 + digit
            offset += 1
        }
        return value
    }

    private mutating func parseNumber() throws(JSONSyntaxError) -> Value {
        let start = offset
        var isInteger = true
        if peek() == UInt8(ascii: "-") {
            offset += 1
        }
        if peek() == UInt8(ascii: "0") {
            offset += 1
        } else {
            try skipDigits()
        }
        if peek() == UInt8(ascii: ".") {
            isInteger = false
            offset += 1
            try skipDigits()
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            isInteger = false
            offset += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") {
                offset += 1
            }
            try skipDigits()
        }
        let text = String(decoding: bytes[start..<offset], as: UTF8.self)
        if isInteger, let integer = Int64(text) {
            return .int(integer)
        }
        guard let double = Double(text) else {
            throw error("invalid number \(text)", at: start)
        }
        return .double(double)
    }

    private mutating func skipDigits() throws(JSONSyntaxError) {
        guard let byte = peek(), isDigit(byte) else {
            throw unexpectedCharacter(expected: "a digit")
        }
        while let byte = peek(), isDigit(byte) {
            offset += 1
        }
    }

    private mutating func parseLiteral(_ word: String, _ value: Value) throws(JSONSyntaxError) -> Value {
        for expected in word.utf8 {
            guard peek() == expected else {
                throw unexpectedCharacter(expected: "'\(word)'")
            }
            offset += 1
        }
        return value
    }

    // MARK: - Whitespace and comments

    /// Skips whitespace and, when the dialect allows them, `// line` and `/* block */` comments.
    private mutating func skipTrivia() throws(JSONSyntaxError) {
        while let byte = peek() {
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                offset += 1
            case UInt8(ascii: "/") where dialect.allowsComments && peek(at: offset + 1) == UInt8(ascii: "/"):
                offset += 2
                while let byte = peek(), byte != UInt8(ascii: "\n"), byte != UInt8(ascii: "\r") {
                    offset += 1
                }
            case UInt8(ascii: "/") where dialect.allowsComments && peek(at: offset + 1) == UInt8(ascii: "*"):
                let start = offset
                offset += 2
                while true {
                    guard let byte = peek() else {
                        throw error("unterminated block comment", at: start)
                    }
                    if byte == UInt8(ascii: "*"), peek(at: offset + 1) == UInt8(ascii: "/") {
                        offset += 2
                        break
                    }
                    offset += 1
                }
            default:
                return
            }
        }
    }

    // MARK: - Bytes

    private func peek() -> UInt8? {
        offset < bytes.count ? bytes[offset] : nil
    }

    private func peek(at index: Int) -> UInt8? {
        index < bytes.count ? bytes[index] : nil
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    private func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    private func hexByte(_ byte: UInt8) -> String {
        let hex = String(byte, radix: 16, uppercase: true)
        return hex.count == 1 ? "0" + hex : hex
    }

    // MARK: - Errors

    /// "unexpected character 'x', expected ..." at the current offset, or "unexpected end of file, expected ...".
    private func unexpectedCharacter(expected: String) -> JSONSyntaxError {
        guard offset < bytes.count else {
            return error("unexpected end of file, expected \(expected)")
        }
        return error("unexpected character \(characterDescription(at: offset)), expected \(expected)")
    }

    /// The character starting at byte `index`, quoted, or its code point when it is not printable.
    private func characterDescription(at index: Int) -> String {
        var end = index + 1
        while end < bytes.count, bytes[end] & 0xC0 == 0x80 {
            end += 1
        }
        let text = String(decoding: bytes[index..<end], as: UTF8.self)
        guard let scalar = text.unicodeScalars.first else { return "''" }
        if scalar == "'" {
            return "\"'\""
        }
        if scalar.properties.generalCategory == .control || (scalar != " " && scalar.properties.isWhitespace) {
            let hex = String(scalar.value, radix: 16, uppercase: true)
            return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        }
        return "'\(text)'"
    }

    private func error(_ message: String, at index: Int? = nil) -> JSONSyntaxError {
        JSONSyntaxError(offset: min(index ?? offset, bytes.count), message: message)
    }
}
