import ArgumentParser
import EdgeKV
import Foundation

/// A failure the user can act on; printed as `Error: <message>` with exit code 1.
package struct CLIError: Error, CustomStringConvertible {
    package let description: String
    package init(_ message: String) { description = message }
}

/// What the command-line tool prints, and how.
package enum Output {
    /// Writes bytes to stdout exactly.
    package static func write(_ bytes: [UInt8]) {
        FileHandle.standardOutput.write(Data(bytes))
    }

    /// Prints a value as JSON indented by two spaces, followed by a newline.
    package static func printJSON(_ value: some Encodable) throws {
        let json = try JSONValue(parsing: Array(try JSONEncoder().encode(value)))
        FileHandle.standardOutput.write(Data((json.prettyPrinted() + "\n").utf8))
    }

    /// Writes a line to stderr.
    package static func diagnostic(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    package static var stdinIsTerminal: Bool { isatty(STDIN_FILENO) != 0 }
    package static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) != 0 }

    /// Asks for confirmation on a terminal; without one (or with --force) the answer is yes.
    package static func confirm(_ question: String, force: Bool) -> Bool {
        guard !force, stdinIsTerminal else { return true }
        FileHandle.standardError.write(Data("\(question) [y/N] ".utf8))
        let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        return answer == "y" || answer == "yes"
    }

    /// Parses JSON given on the command line or in a file.
    package static func parseJSON(_ text: String, what: String) throws -> JSONValue {
        do {
            return try JSONValue(parsing: text)
        } catch {
            throw CLIError("\(what) is not valid JSON: \(error)")
        }
    }
}

/// Progress on stderr for long work, shown only when stderr is a terminal.
package struct Progress {
    package let total: Int
    package let label: String
    package let enabled = Output.stderrIsTerminal
    private var lastDraw = ContinuousClock.now - .seconds(1)

    package init(total: Int, label: String) {
        self.total = total
        self.label = label
    }

    package mutating func update(_ done: Int) {
        guard enabled, total > 0 else { return }
        let now = ContinuousClock.now
        guard done == total || now - lastDraw > .milliseconds(100) else { return }
        lastDraw = now
        FileHandle.standardError.write(Data("\r\(label) \(done)/\(total)".utf8))
        if done == total { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
