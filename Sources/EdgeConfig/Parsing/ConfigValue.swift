import EdgeSupport

/// A parsed configuration document, independent of the file format it came from.
enum ConfigValue: Sendable, Equatable {
    case string(String)
    case integer(Int)
    case float(Double)
    case bool(Bool)
    /// A TOML date, time or date-time, kept in its TOML text form.
    case dateTime(String)
    case array([ConfigValue])
    case table([String: ConfigValue])
    /// JSON `null`; TOML has no null.
    case null

    /// The value as a `vars` entry: strings unchanged, scalars as their text, arrays and tables as compact JSON.
    var varText: String {
        switch self {
        case .string(let string): string
        case .integer(let integer): String(integer)
        case .float(let double): Self.numberText(double)
        case .bool(let bool): bool ? "true" : "false"
        case .dateTime(let text): text
        case .null: "null"
        case .array, .table: compactJSON
        }
    }

    /// Compact JSON text with object keys sorted, like `JSON.stringify` apart from the key order.
    var compactJSON: String {
        switch self {
        case .string(let string): Self.jsonQuoted(string)
        case .integer(let integer): String(integer)
        case .float(let double): double.isFinite ? Self.numberText(double) : "null"
        case .bool(let bool): bool ? "true" : "false"
        case .dateTime(let text): Self.jsonQuoted(text)
        case .null: "null"
        case .array(let elements):
            "[" + elements.map(\.compactJSON).joined(separator: ",") + "]"
        case .table(let table):
            "{"
                + table.keys.sorted().map { Self.jsonQuoted($0) + ":" + table[$0, default: .null].compactJSON }
                .joined(separator: ",") + "}"
        }
    }

    /// A number as JavaScript's `String(number)` writes it, which is what a Worker sees for a numeric var.
    static func numberText(_ double: Double) -> String {
        JavaScriptNumber.string(double)
    }

    /// `text` as a JSON string literal.
    static func jsonQuoted(_ text: String) -> String {
        JSONString.quoted(text)
    }
}

// JSON and JSONC documents are read by the shared reader straight into configuration values.
extension ConfigValue: JSONReadable {
    static func int(_ value: Int64) -> ConfigValue { .integer(Int(value)) }
    static func double(_ value: Double) -> ConfigValue { .float(value) }
    static func object(_ members: [String: ConfigValue]) -> ConfigValue { .table(members) }
}

/// The syntax a configuration file is written in; it decides how types are named in error messages.
enum ConfigFormat: Sendable {
    case toml
    case json

    /// The type of `value` with an article, in the vocabulary of this format ("a table" or "an object").
    func typeName(of value: ConfigValue) -> String {
        switch (self, value) {
        case (_, .string): "a string"
        case (.toml, .integer): "an integer"
        case (.toml, .float): "a float"
        case (.json, .integer), (.json, .float): "a number"
        case (_, .bool): "a boolean"
        case (_, .dateTime): "a date-time"
        case (_, .array): "an array"
        case (.toml, .table): "a table"
        case (.json, .table): "an object"
        case (_, .null): "null"
        }
    }

    /// "a table" or "an object".
    var tableName: String {
        self == .toml ? "a table" : "an object"
    }
}
