/// Reads the elements of a JSON array from a body that arrives in chunks, handing each element over as soon as it is
/// complete.
///
/// A bulk body is never held as one tree: only the element being read is buffered, each element is parsed on its own
/// (strictly, by ``JSONValue``), and the element past ``maxElements`` stops the read the moment it starts. The array
/// is either the whole body (`[…]`) or one member of a top-level object (`{"keys": […], "type": "text"}`); the
/// object's other members are parsed whole, up to ``maxMemberBytes`` each.
///
/// The reader only finds where top-level elements and members begin and end (strings, escapes and nesting); the
/// bytes between are then parsed strictly, so any text it accepts is valid JSON.
package struct JSONElementReader {
    /// What the reader hands over.
    package enum Event {
        /// An element of the array, with its position.
        case element(index: Int, value: JSONValue)
        /// Another member of the top-level object (object form only).
        case member(name: String, value: JSONValue)
    }

    /// Why a body was refused.
    package enum Failure: Error, Equatable {
        /// The body is not the expected array (or object holding the array).
        case wrongShape
        /// The array has more than ``JSONElementReader/maxElements`` elements.
        case tooManyElements
        /// A member other than the array is larger than ``JSONElementReader/maxMemberBytes``.
        case memberTooLarge
        /// The array member appears twice.
        case duplicateArray
        /// The text is not JSON: where in the body, and why.
        case malformed(offset: Int, reason: String)
    }

    enum State {
        case start
        case beforeElement(first: Bool)
        case inElement
        case beforeName(first: Bool)
        case inName
        case beforeColon
        case beforeMemberValue
        case inMemberValue
        case afterArrayMember
        case end
    }

    /// When set, the body is an object and the array is its member of this name.
    package let arrayMember: String?
    /// The most elements the array may have.
    package let maxElements: Int
    /// The largest other member (its name and value, in bytes of JSON text).
    package let maxMemberBytes: Int

    var state = State.start
    /// The text of the element, name or member value being read.
    var buffer: [UInt8] = []
    /// Where ``buffer`` starts in the body.
    var bufferStart = 0
    /// Nesting inside the element or member value being read.
    var depth = 0
    var inString = false
    var escaped = false
    /// Bytes of the body consumed before the current chunk.
    var consumed = 0
    var elements = 0
    var memberName = ""
    package var sawArray = false

    /// A reader of `[…]` (`arrayMember` nil) or of `{"arrayMember": […], …}`.
    package init(arrayMember: String? = nil, maxElements: Int, maxMemberBytes: Int = 64 * 1024) {
        self.arrayMember = arrayMember
        self.maxElements = maxElements
        self.maxMemberBytes = maxMemberBytes
    }

    static let quote = UInt8(ascii: "\"")
    static let backslash = UInt8(ascii: "\\")
    static let comma = UInt8(ascii: ",")
    static let colon = UInt8(ascii: ":")
    static let openArray = UInt8(ascii: "[")
    static let closeArray = UInt8(ascii: "]")
    static let openObject = UInt8(ascii: "{")
    static let closeObject = UInt8(ascii: "}")

    static func isWhitespace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 }

    func malformed(_ reason: String, at offset: Int) -> Failure {
        .malformed(offset: offset, reason: reason)
    }

    /// Reads the next chunk of the body, calling `handle` for every element or member it completes.
    /// - Throws: ``Failure`` for a body that is refused, or what `handle` throws.
    package mutating func consume(_ chunk: [UInt8], _ handle: (Event) throws -> Void) throws {
        try chunk.withUnsafeBufferPointer { bytes in
            var i = 0
            while i < bytes.count {
                i = try step(bytes, from: i, handle)
            }
        }
        consumed += chunk.count
    }

    /// Checks that the body ended where a complete document ends.
    /// - Throws: ``Failure/malformed(offset:reason:)`` otherwise.
    package func finish() throws {
        guard case .end = state else { throw malformed("unexpected end of input", at: consumed) }
    }

    /// Handles the byte at `i` (and, inside an element or member, the run of bytes after it); returns where to go on.
    mutating func step(
        _ bytes: UnsafeBufferPointer<UInt8>, from i: Int, _ handle: (Event) throws -> Void
    ) throws
        -> Int
    {
        let c = bytes[i]
        let offset = consumed + i
        switch state {
        case .inElement, .inMemberValue:
            return try scanValue(bytes, from: i, handle)
        case .inName:
            return try scanName(bytes, from: i)
        default:
            break
        }
        if Self.isWhitespace(c) { return i + 1 }
        switch state {
        case .start:
            if arrayMember == nil, c == Self.openArray {
                state = .beforeElement(first: true)
            } else if arrayMember != nil, c == Self.openObject {
                state = .beforeName(first: true)
            } else {
                throw Failure.wrongShape
            }
            return i + 1
        case .beforeElement(let first):
            if c == Self.closeArray {
                guard first else { throw malformed("expected a value after ','", at: offset) }
                closeArray()
                return i + 1
            }
            if c == Self.comma { throw malformed("expected a value", at: offset) }
            guard elements < maxElements else { throw Failure.tooManyElements }
            startValue(at: offset)
            state = .inElement
            return i
        case .beforeName(let first):
            if first, c == Self.closeObject {
                state = .end
                return i + 1
            }
            guard c == Self.quote else { throw malformed("expected a string key", at: offset) }
            startValue(at: offset)
            buffer.append(c)
            state = .inName
            return i + 1
        case .beforeColon:
            guard c == Self.colon else { throw malformed("expected ':'", at: offset) }
            state = .beforeMemberValue
            return i + 1
        case .beforeMemberValue:
            if memberName == arrayMember {
                guard c == Self.openArray else { throw Failure.wrongShape }
                if sawArray { throw Failure.duplicateArray }
                sawArray = true
                state = .beforeElement(first: true)
                return i + 1
            }
            startValue(at: offset)
            state = .inMemberValue
            return i
        case .afterArrayMember:
            return try afterMember(c, at: offset, i)
        case .end:
            throw malformed("unexpected data after the value", at: offset)
        case .inElement, .inMemberValue, .inName:
            preconditionFailure("handled above")
        }
    }

    mutating func startValue(at offset: Int) {
        buffer.removeAll(keepingCapacity: false)
        bufferStart = offset
        depth = 0
        inString = false
        escaped = false
    }

    mutating func closeArray() {
        state = arrayMember == nil ? .end : .afterArrayMember
    }

    mutating func afterMember(_ c: UInt8, at offset: Int, _ i: Int) throws -> Int {
        switch c {
        case Self.comma: state = .beforeName(first: false)
        case Self.closeObject: state = .end
        default: throw malformed("expected ',' or '}'", at: offset)
        }
        return i + 1
    }

    /// Reads a member name up to its closing quote.
    mutating func scanName(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) throws -> Int {
        var i = start
        while i < bytes.count {
            let c = bytes[i]
            i += 1
            if escaped {
                escaped = false
            } else if c == Self.backslash {
                escaped = true
            } else if c == Self.quote {
                buffer.append(contentsOf: bytes[start..<i])
                memberName = try parse(buffer).stringValue ?? ""
                state = .beforeColon
                return i
            }
        }
        buffer.append(contentsOf: bytes[start..<i])
        if buffer.count > maxMemberBytes { throw Failure.memberTooLarge }
        return i
    }

    /// Reads an element or member value up to the `,`, `]` or `}` that ends it at its own level.
    mutating func scanValue(
        _ bytes: UnsafeBufferPointer<UInt8>, from start: Int, _ handle: (Event) throws -> Void
    ) throws -> Int {
        var i = start
        var terminator: UInt8?
        scan: while i < bytes.count {
            let c = bytes[i]
            if inString {
                if escaped {
                    escaped = false
                } else if c == Self.backslash {
                    escaped = true
                } else if c == Self.quote {
                    inString = false
                }
            } else {
                switch c {
                case Self.quote:
                    inString = true
                case Self.openArray, Self.openObject:
                    depth += 1
                case Self.closeArray, Self.closeObject:
                    if depth == 0 {
                        terminator = c
                        break scan
                    }
                    depth -= 1
                case Self.comma where depth == 0:
                    terminator = c
                    break scan
                default:
                    break
                }
            }
            i += 1
        }
        buffer.append(contentsOf: bytes[start..<i])
        let isElement: Bool
        if case .inElement = state { isElement = true } else { isElement = false }
        if !isElement, buffer.count + memberName.utf8.count > maxMemberBytes { throw Failure.memberTooLarge }
        guard let terminator else { return i }
        let value = try parse(buffer)
        let offset = consumed + i
        if isElement {
            elements += 1
            try handle(.element(index: elements - 1, value: value))
            switch terminator {
            case Self.comma: state = .beforeElement(first: false)
            case Self.closeArray: closeArray()
            default: throw malformed("expected ',' or ']'", at: offset)
            }
        } else {
            try handle(.member(name: memberName, value: value))
            guard terminator != Self.closeArray else { throw malformed("expected ',' or '}'", at: offset) }
            _ = try afterMember(terminator, at: offset, i)
        }
        buffer.removeAll(keepingCapacity: false)
        return i + 1
    }

    /// Parses the buffered text, reporting a problem at its offset in the body.
    func parse(_ text: [UInt8]) throws -> JSONValue {
        do {
            return try JSONValue(parsing: text)
        } catch let error as JSONValue.ParseError {
            throw Failure.malformed(offset: bufferStart + error.offset, reason: error.reason)
        }
    }
}
