/// A syntax error in a JSONC document, with its 1-based line and column (in Unicode scalars).
struct JSONCSyntaxError: Error, Equatable {
    var line: Int
    var column: Int
    var message: String
}

/// Reads JSON with comments, the dialect of `wrangler.json` and `wrangler.jsonc`: `//` and `/* */`
/// comments outside strings are whitespace, and a comma may trail the last member of an object or array.
///
/// Written by hand rather than stripping comments for `JSONSerialization`, so that syntax errors carry
/// the exact line and column, and integers, floats and booleans stay distinct.
struct JSONCReader {
    /// Containers nested deeper than this are rejected instead of exhausting the stack.
    static let maximumDepth = 512

    private let bytes: [UInt8]
    private var offset = 0

    private init(_ text: String) {
        bytes = Array(text.utf8)
    }

    /// Parses a whole document: one value surrounded by whitespace and comments.
    static func parse(_ text: String) throws(JSONCSyntaxError) -> ConfigValue {
        var reader = JSONCReader(text)
        let value = try reader.parseValue(depth: 0)
        try reader.skipTrivia()
        if reader.offset < reader.bytes.count {
            throw reader.unexpectedCharacter(expected: "end of file")
        }
        return value
    }

    // MARK: - Values

    private mutating func parseValue(depth: Int) throws(JSONCSyntaxError) -> ConfigValue {
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

    private mutating func parseObject(depth: Int) throws(JSONCSyntaxError) -> ConfigValue {
        guard depth <= Self.maximumDepth else {
            throw error("objects and arrays are nested more than \(Self.maximumDepth) deep")
        }
        offset += 1  // {
        var members: [String: ConfigValue] = [:]
        while true {
            try skipTrivia()
            if peek() == UInt8(ascii: "}") {
                offset += 1
                return .table(members)
            }
            guard peek() == UInt8(ascii: "\"") else {
                throw unexpectedCharacter(expected: "a string key or '}'")
            }
            let key = try parseString()
            try skipTrivia()
            guard peek() == UInt8(ascii: ":") else {
                throw unexpectedCharacter(expected: "':'")
            }
            offset += 1
            // A repeated key replaces the earlier value, as in JavaScript.
            members[key] = try parseValue(depth: depth)
            try skipTrivia()
            switch peek() {
            case UInt8(ascii: ","):
                offset += 1
            case UInt8(ascii: "}"):
                offset += 1
                return .table(members)
            default:
                throw unexpectedCharacter(expected: "',' or '}'")
            }
        }
    }

    private mutating func parseArray(depth: Int) throws(JSONCSyntaxError) -> ConfigValue {
        guard depth <= Self.maximumDepth else {
            throw error("objects and arrays are nested more than \(Self.maximumDepth) deep")
        }
        offset += 1  // [
        var elements: [ConfigValue] = []
        while true {
            try skipTrivia()
            if peek() == UInt8(ascii: "]") {
                offset += 1
                return .array(elements)
            }
            elements.append(try parseValue(depth: depth))
            try skipTrivia()
            switch peek() {
            case UInt8(ascii: ","):
                offset += 1
            case UInt8(ascii: "]"):
                offset += 1
                return .array(elements)
            default:
                throw unexpectedCharacter(expected: "',' or ']'")
            }
        }
    }

    private mutating func parseString() throws(JSONCSyntaxError) -> String {
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

    private mutating func parseEscape(into utf8: inout [UInt8]) throws(JSONCSyntaxError) {
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
            // A high surrogate must be followed by an escaped low surrogate.
            guard peek() == UInt8(ascii: "\\"), peek(at: offset + 1) == UInt8(ascii: "u") else {
                throw error("unpaired surrogate in \\u escape", at: escapeStart)
            }
            offset += 2
            let low = try parseHex4(escapeStart: offset - 2)
            guard (0xDC00..<0xE000).contains(low) else {
                throw error("unpaired surrogate in \\u escape", at: escapeStart)
            }
            value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
        }
        guard let scalar = Unicode.Scalar(value) else {
            throw error("unpaired surrogate in \\u escape", at: escapeStart)
        }
        UTF8.encode(scalar) { utf8.append($0) }
    }

    private mutating func parseHex4(escapeStart: Int) throws(JSONCSyntaxError) -> UInt32 {
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

    private mutating func parseNumber() throws(JSONCSyntaxError) -> ConfigValue {
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
        if isInteger, let integer = Int(text) {
            return .integer(integer)
        }
        guard let double = Double(text) else {
            throw error("invalid number \(text)", at: start)
        }
        return .float(double)
    }

    private mutating func skipDigits() throws(JSONCSyntaxError) {
        guard let byte = peek(), isDigit(byte) else {
            throw unexpectedCharacter(expected: "a digit")
        }
        while let byte = peek(), isDigit(byte) {
            offset += 1
        }
    }

    private mutating func parseLiteral(_ word: String, _ value: ConfigValue) throws(JSONCSyntaxError) -> ConfigValue {
        for expected in word.utf8 {
            guard peek() == expected else {
                throw unexpectedCharacter(expected: "'\(word)'")
            }
            offset += 1
        }
        return value
    }

    // MARK: - Whitespace and comments

    /// Skips whitespace, `// line` comments and `/* block */` comments.
    private mutating func skipTrivia() throws(JSONCSyntaxError) {
        while let byte = peek() {
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                offset += 1
            case UInt8(ascii: "/") where peek(at: offset + 1) == UInt8(ascii: "/"):
                while let byte = peek(), byte != UInt8(ascii: "\n"), byte != UInt8(ascii: "\r") {
                    offset += 1
                }
            case UInt8(ascii: "/") where peek(at: offset + 1) == UInt8(ascii: "*"):
                let start = offset
                offset += 2
                while !(peek() == UInt8(ascii: "*") && peek(at: offset + 1) == UInt8(ascii: "/")) {
                    guard peek() != nil else {
                        throw error("unterminated block comment", at: start)
                    }
                    offset += 1
                }
                offset += 2
            default:
                return
            }
        }
    }

    // MARK: - Helpers

    private func peek() -> UInt8? {
        peek(at: offset)
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

    /// "unexpected character 'x', expected ..." at the current offset, or "unexpected end of file".
    private func unexpectedCharacter(expected: String) -> JSONCSyntaxError {
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

    private func error(_ message: String, at index: Int? = nil) -> JSONCSyntaxError {
        let target = min(index ?? offset, bytes.count)
        var line = 1
        var column = 1
        for byte in bytes[..<target] {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                // Count scalars, not bytes: continuation bytes of multi-byte characters do not advance.
                column += 1
            }
        }
        return JSONCSyntaxError(line: line, column: column, message: message)
    }
}
