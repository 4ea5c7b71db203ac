import EdgeCommandLine
import Foundation

/// Secrets read from files and the environment rather than the command line, where `ps` shows them to every user.
/// No message here ever includes a file's content.
enum SecretFile {
    /// The value of environment variable `name`, or nil when it is unset or empty.
    static func environment(_ name: String) -> String? {
        ProcessInfo.processInfo.environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The secret in `path`: its text without the trailing line break(s) an editor or `echo` adds.
    /// - Throws: ``CLIError`` when the file cannot be read, is not UTF-8 or holds nothing.
    static func read(_ path: String) throws -> String {
        let text = try contents(path)
        let value = String(text.reversed().drop(while: \.isNewline).reversed())
        guard !value.isEmpty else { throw CLIError("\(path) is empty") }
        return value
    }

    /// The `NAME=VALUE` lines of a dotenv file (`.dev.vars` style): blank lines and `#` comments are skipped, a
    /// leading `export ` is allowed, spaces around the name and the value are dropped, and a value wrapped in
    /// matching single or double quotes loses them (nothing inside is unescaped). A later line wins.
    /// - Throws: ``CLIError`` naming the file and line of a line that is not `NAME=VALUE`.
    static func variables(_ path: String) throws -> [String: String] {
        var out: [String: String] = [:]
        for (index, rawLine) in try contents(path).split(separator: "\n", omittingEmptySubsequences: false)
            .enumerated()
        {
            var line = rawLine.trimmingCharacters(in: .whitespaces.union(["\r"]))[...]
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = line.dropFirst("export ".count) }
            guard let eq = line.firstIndex(of: "=") else {
                // The line itself may be a secret pasted without its name: it is not repeated.
                throw CLIError("\(path):\(index + 1): expected NAME=VALUE")
            }
            let name = line[..<eq].trimmingCharacters(in: .whitespaces)
            guard let first = name.unicodeScalars.first, !("0"..."9").contains(first),
                name.unicodeScalars.allSatisfy(Self.isNameCharacter)
            else {
                throw CLIError("\(path):\(index + 1): expected NAME=VALUE with NAME made of letters, digits and _")
            }
            var value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)[...]
            if value.count >= 2, let quote = value.first, quote == "\"" || quote == "'", value.last == quote {
                value = value.dropFirst().dropLast()
            }
            out[name] = String(value)
        }
        return out
    }

    static func isNameCharacter(_ c: Unicode.Scalar) -> Bool {
        c == "_" || ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c)
    }

    static func contents(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read \(path)") }
        guard let text = String(data: data, encoding: .utf8) else { throw CLIError("\(path) is not UTF-8 text") }
        return text
    }
}
