import EdgeSupport
import Foundation

extension WranglerConfig {
    /// The file names ``discover(in:)`` looks for, in wrangler's order of preference.
    public static let discoveryFileNames = ["wrangler.json", "wrangler.jsonc", "wrangler.toml"]

    /// Loads a configuration file, choosing the parser by extension: `.toml` is TOML, `.json` and
    /// `.jsonc` are JSON with `//` and `/* */` comments and trailing commas allowed.
    ///
    /// - Throws: ``ConfigError`` naming the file: ``ConfigError/Code/unreadableFile``,
    ///   ``ConfigError/Code/unsupportedFormat``, ``ConfigError/Code/syntax`` with line and column, or a
    ///   validation code with the key path of the offending value.
    public static func load(from url: URL) throws(ConfigError) -> WranglerConfig {
        let format: ConfigFormat
        switch url.pathExtension.lowercased() {
        case "toml":
            format = .toml
        case "json", "jsonc":
            format = .json
        default:
            throw ConfigError(
                code: .unsupportedFormat,
                fileURL: url,
                message: "unsupported configuration format (expected a .toml, .json or .jsonc file)"
            )
        }
        let text = try readText(url)
        let document: ConfigValue
        switch format {
        case .toml:
            do {
                document = try TOMLReader.parse(text)
            } catch {
                throw ConfigError(
                    code: .syntax,
                    fileURL: url,
                    line: error.line,
                    column: error.column,
                    message: error.message
                )
            }
        case .json:
            let bytes = Array(text.utf8)
            do {
                document = try JSONReader<ConfigValue>.parse(bytes, dialect: .jsonc)
            } catch {
                let (line, column) = error.lineAndColumn(in: bytes)
                throw ConfigError(code: .syntax, fileURL: url, line: line, column: column, message: error.message)
            }
        }
        return try WranglerConfigDecoder(fileURL: url, format: format).decode(document)
    }

    /// Loads the first of `wrangler.json`, `wrangler.jsonc` and `wrangler.toml` that exists in
    /// `directory` (not its parents), or returns nil when there is none.
    ///
    /// - Throws: ``ConfigError`` when the file found cannot be loaded; see ``load(from:)``.
    public static func discover(in directory: URL) throws(ConfigError) -> WranglerConfig? {
        for fileName in discoveryFileNames {
            let url = directory.appendingPathComponent(fileName, isDirectory: false)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue {
                return try load(from: url)
            }
        }
        return nil
    }

    private static func readText(_ url: URL) throws(ConfigError) -> String {
        guard url.isFileURL else {
            throw ConfigError(code: .unreadableFile, fileURL: url, message: "not a file URL: \(url.absoluteString)")
        }
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            let reason =
                FileManager.default.fileExists(atPath: url.path)
                ? "cannot read \(url.path): \(error.localizedDescription)"
                : "no such file: \(url.path)"
            throw ConfigError(code: .unreadableFile, fileURL: url, message: reason)
        }
        guard var text = String(validating: data, as: UTF8.self) else {
            throw ConfigError(code: .unreadableFile, fileURL: url, message: "the file is not valid UTF-8 text")
        }
        if text.unicodeScalars.first == "\u{FEFF}" {
            text.unicodeScalars.removeFirst()
        }
        return text
    }
}
