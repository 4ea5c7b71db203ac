import EdgeSpawn
import Foundation

/// A helper binary running as a child of the test, with its stdout split into lines and its stderr collected.
/// Dropping it kills a child still running.
///
/// Every wait is bounded: a child still running at its deadline is killed with SIGKILL and the wait throws
/// ``ChildProcessError``, so a stuck child fails its test instead of hanging the run.
public final class ChildProcess: Sendable {
    /// How a child ended.
    public typealias Termination = SpawnedProcess.Termination

    /// The child's process id.
    public let pid: Int32
    /// The command, for messages.
    public let command: String
    /// When waits give up and kill the child.
    public let deadline: ContinuousClock.Instant

    private let process: SpawnedProcess

    /// Starts `executable` with `arguments`.
    /// - Parameter timeout: how long the child may run, counted from now, before a wait kills it.
    /// - Throws: ``SpawnError`` when the executable cannot be started.
    public init(_ executable: String, _ arguments: [String], timeout: Duration = .seconds(60)) throws {
        process = try SpawnedProcess(executable: executable, arguments: arguments)
        pid = process.pid
        command = ([(executable as NSString).lastPathComponent] + arguments).joined(separator: " ")
        deadline = .now + timeout
    }

    /// The complete lines the child has written to stdout so far (a line still being written is left out).
    public var stdoutLines: [String] { Self.lines(process.stdout) }

    /// Everything the child has written to stderr so far.
    public var stderr: String { String(decoding: process.stderr, as: UTF8.self) }

    private static func lines(_ bytes: [UInt8]) -> [String] {
        guard let end = bytes.lastIndex(of: UInt8(ascii: "\n")) else { return [] }
        return bytes[..<end].split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
    }

    /// Whether the child is still running.
    public var isRunning: Bool { process.isRunning }

    /// Sends a signal to the child.
    public func signal(_ signal: Int32) { process.signal(signal) }

    /// Waits until stdout has at least `count` complete lines and returns them all.
    /// - Throws: ``ChildProcessError`` when the child ends first or the deadline passes (the child is then killed).
    public func waitForLines(atLeast count: Int) async throws -> [String] {
        while true {
            let lines = stdoutLines
            if lines.count >= count { return lines }
            if !process.isRunning && process.outputFinished {
                let lines = stdoutLines  // lines written just before it ended
                if lines.count >= count { return lines }
                throw ChildProcessError(self, "ended after \(lines.count) of \(count) lines")
            }
            if ContinuousClock.now >= deadline {
                signal(SIGKILL)
                throw ChildProcessError(self, "timed out with \(lines.count) of \(count) lines")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Waits until the child has ended and its stdout and stderr are read to the end.
    /// - Throws: ``ChildProcessError`` when the deadline passes (the child is then killed).
    @discardableResult
    public func waitForExit() async throws -> Termination {
        while true {
            if let termination = process.termination, process.outputFinished { return termination }
            if ContinuousClock.now >= deadline {
                signal(SIGKILL)
                throw ChildProcessError(self, "timed out")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// The path of an executable product built next to the test bundle (`.build/debug/<name>`).
    /// - Throws: ``ChildProcessError`` when it is not there; `swift build --build-tests` builds it.
    public static func builtProduct(_ name: String) throws -> String {
        let candidates = [Bundle.main.executablePath, CommandLine.arguments.first].compactMap { $0 }
            .map { URL(fileURLWithPath: $0).deletingLastPathComponent().appendingPathComponent(name).path }
        guard let path = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw ChildProcessError(
                "no executable \(name) beside the test bundle (looked at \(candidates.joined(separator: ", "))); "
                    + "run swift build --build-tests")
        }
        return path
    }
}

/// A child process that did not do what the test waited for.
public struct ChildProcessError: Error, Sendable, CustomStringConvertible {
    /// What happened, with the command and what the child wrote to stderr.
    public let description: String

    init(_ message: String) { description = message }

    init(_ child: ChildProcess, _ message: String) {
        let stderr = child.stderr
        description = "\(child.command): \(message)" + (stderr.isEmpty ? "" : "; stderr: \(stderr)")
    }
}
