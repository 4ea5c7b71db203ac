import Foundation

/// An error found while reading or using a wrangler configuration file.
///
/// The ``description`` always names the file (by its last path component) and, when the problem is
/// tied to a value, the key path of that value, for example
/// `wrangler.toml: kv_namespaces[1].binding: expected a string, got an integer` or
/// `wrangler.jsonc: line 4, column 7: unexpected character '}'`.
/// ``debugDescription`` adds the code and the full path of the file.
public struct ConfigError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The kind of a ``ConfigError``; new kinds may be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case unreadableFile
            case unsupportedFormat
            case syntax
            case invalidType
            case missingValue
            case emptyValue
            case duplicateBinding
            case unknownEnvironment
            case unknownBinding
            case missingNamespaceId
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// The file does not exist, cannot be read, or is not UTF-8 text.
        public static let unreadableFile = Code(.unreadableFile)
        /// The file name does not end in `.toml`, `.json` or `.jsonc`.
        public static let unsupportedFormat = Code(.unsupportedFormat)
        /// The file is not valid TOML or JSONC; ``ConfigError/line`` and ``ConfigError/column`` say where.
        public static let syntax = Code(.syntax)
        /// A value has the wrong type, for example a number where a string is expected.
        public static let invalidType = Code(.invalidType)
        /// A required key, such as a namespace's `binding`, is missing.
        public static let missingValue = Code(.missingValue)
        /// A value that must not be empty, such as a namespace's `id`, is the empty string.
        public static let emptyValue = Code(.emptyValue)
        /// Two `kv_namespaces` entries of the same environment use the same `binding` name.
        public static let duplicateBinding = Code(.duplicateBinding)
        /// An environment name was asked for that the file does not define under `env`.
        public static let unknownEnvironment = Code(.unknownEnvironment)
        /// A binding name was asked for that no `kv_namespaces` entry declares.
        public static let unknownBinding = Code(.unknownBinding)
        /// The binding exists but lacks the `id` or `preview_id` needed for the requested mode.
        public static let missingNamespaceId = Code(.missingNamespaceId)

        /// The code's name, such as `syntax`.
        public var description: String { base.rawValue }
    }

    /// What kind of problem this is.
    public let code: Code
    /// The configuration file the problem was found in, when known.
    public let fileURL: URL?
    /// The key path of the offending value, such as `env.staging.kv_namespaces[0].id`.
    public let keyPath: String?
    /// The 1-based line of a syntax error, when the parser reports one.
    public let line: Int?
    /// The 1-based column (in Unicode scalars) of a syntax error, when the parser reports one.
    public let column: Int?
    /// The problem itself, without the file name, position or key path.
    public let message: String

    /// Creates an error; ``description`` composes the file name, position, key path and message.
    public init(
        code: Code,
        fileURL: URL?,
        keyPath: String? = nil,
        line: Int? = nil,
        column: Int? = nil,
        message: String
    ) {
        self.code = code
        self.fileURL = fileURL
        self.keyPath = keyPath
        self.line = line
        self.column = column
        self.message = message
    }

    /// `<file>: [line L, column C: ][<key path>: ]<message>`.
    public var description: String {
        var parts: [String] = []
        if let fileURL {
            parts.append(fileURL.lastPathComponent)
        }
        if let line {
            parts.append(column.map { "line \(line), column \($0)" } ?? "line \(line)")
        }
        if let keyPath, !keyPath.isEmpty {
            parts.append(keyPath)
        }
        parts.append(message)
        return parts.joined(separator: ": ")
    }

    /// The ``description`` followed by the code and the full path of the file.
    public var debugDescription: String {
        var text = "ConfigError(\(code)): \(description)"
        if let fileURL {
            text += " [\(fileURL.path)]"
        }
        return text
    }
}
