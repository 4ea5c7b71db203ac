import TOMLKit

/// A syntax error in a TOML document, with the 1-based line and column TOMLKit reports, when it does.
struct TOMLSyntaxError: Error, Equatable {
    var line: Int?
    var column: Int?
    var message: String
}

/// Reads TOML with TOMLKit (toml++) and converts the result into a ``ConfigValue`` tree.
enum TOMLReader {
    static func parse(_ text: String) throws(TOMLSyntaxError) -> ConfigValue {
        // The text crosses into C as a NUL-terminated string; an embedded NUL would silently end the document.
        let utf8 = Array(text.utf8)
        if let nul = utf8.firstIndex(of: 0) {
            let before = utf8[..<nul]
            let line = before.count { $0 == UInt8(ascii: "\n") } + 1
            let lineStart = before.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0
            let column = utf8[lineStart..<nul].count { $0 & 0xC0 != 0x80 } + 1
            throw TOMLSyntaxError(line: line, column: column, message: "NUL characters are not allowed")
        }
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            let position = error.source.begin
            throw TOMLSyntaxError(
                line: position.line > 0 ? position.line : nil,
                column: position.line > 0 && position.column > 0 ? position.column : nil,
                message: error.description
            )
        } catch {
            throw TOMLSyntaxError(line: nil, column: nil, message: "\(error)")
        }
        return convert(table)
    }

    private static func convert(_ value: any TOMLValueConvertible) -> ConfigValue {
        switch value.type {
        case .string:
            return .string(value.string ?? "")
        case .int:
            return .integer(value.int ?? 0)
        case .double:
            return .float(value.double ?? 0)
        case .bool:
            return .bool(value.bool ?? false)
        case .date:
            return .dateTime(value.date?.debugDescription ?? "")
        case .time:
            return .dateTime(value.time?.debugDescription ?? "")
        case .dateTime:
            return .dateTime(value.dateTime?.debugDescription ?? "")
        case .array:
            guard let array = value.array else { return .array([]) }
            return .array(array.map { convert($0) })
        case .table:
            guard let table = value.table else { return .table([:]) }
            var members: [String: ConfigValue] = [:]
            for (key, member) in table {
                members[key] = convert(member)
            }
            return .table(members)
        }
    }
}
