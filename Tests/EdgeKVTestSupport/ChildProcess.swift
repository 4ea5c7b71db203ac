import Foundation
import Synchronization

/// A helper binary running as a child of the test, with its stdout split into lines and its stderr collected.
///
/// Every wait is bounded: a child still running at its deadline is killed with SIGKILL and the wait throws
/// ``ChildProcessError``, so a stuck child fails its test instead of hanging the run.
public final class ChildProcess: Sendable {
    /// How a child ended.
    public enum Termination: Sendable, Hashable, CustomStringConvertible {
        /// It exited with this status.
        case exited(Int32)
        /// A signal ended it.
        case signaled(Int32)

        /// `exit 0`, `signal 9`.
        public var description: String {
            switch self {
            case .exited(let status): "exit \(status)"
            case .signaled(let signal): "signal \(signal)"
            }
        }
    }

    /// The child's process id.
    public let pid: Int32
    /// The command, for messages.
    public let command: String
    /// When waits give up and kill the child.
    public let deadline: ContinuousClock.Instant

    // @unchecked: Process is only asked for its state (`isRunning`, `terminationStatus`), which Foundation
    // guards itself; it is never reconfigured after `run()`.
    private struct Handle: @unchecked Sendable { let process: Process }
    private let handle: Handle
    private let output = Mutex(Output())

    private struct Output {
        var stdout: [UInt8] = []
        var stderr: [UInt8] = []
        var openStreams = 2
    }

    /// Starts `executable` with `arguments`.
    /// - Parameter timeout: how long the child may run, counted from now, before a wait kills it.
    /// - Throws: Foundation's error when the executable cannot be started.
    public init(_ executable: String, _ arguments: [String], timeout: Duration = .seconds(60)) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        try process.run()
        pid = process.processIdentifier
        command = ([(executable as NSString).lastPathComponent] + arguments).joined(separator: " ")
        deadline = .now + timeout
        handle = Handle(process: process)
        // The parent's copies of the write ends are closed by `run()`, so each reader sees EOF when the child
        // (and any grandchild holding the pipe) has gone.
        startReader(stdout.fileHandleForReading, into: \.stdout)
        startReader(stderr.fileHandleForReading, into: \.stderr)
    }

    deinit {
        if handle.process.isRunning { kill(pid, SIGKILL) }
    }

    private func startReader(_ file: FileHandle, into stream: any WritableKeyPath<Output, [UInt8]> & Sendable) {
        // A blocking read loop on its own thread: the pipe is drained however busy the test's tasks are, so a
        // chatty child never blocks on a full pipe.
        let thread = Thread { [self] in
            let fd = file.fileDescriptor
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                output.withLock { $0[keyPath: stream].append(contentsOf: buffer[0..<n]) }
            }
            try? file.close()
            output.withLock { $0.openStreams -= 1 }
        }
        thread.start()
    }

    /// The complete lines the child has written to stdout so far (a line still being written is left out).
    public var stdoutLines: [String] {
        output.withLock { Self.lines($0.stdout) }
    }

    /// Everything the child has written to stderr so far.
    public var stderr: String {
        output.withLock { String(decoding: $0.stderr, as: UTF8.self) }
    }

    private static func lines(_ bytes: [UInt8]) -> [String] {
        guard let end = bytes.lastIndex(of: UInt8(ascii: "\n")) else { return [] }
        return bytes[..<end].split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
    }

    /// Whether the child is still running.
    public var isRunning: Bool { handle.process.isRunning }

    /// Sends a signal to the child.
    public func signal(_ signal: Int32) {
        kill(pid, signal)
    }

    /// Waits until stdout has at least `count` complete lines and returns them all.
    /// - Throws: ``ChildProcessError`` when the child ends first or the deadline passes (the child is then killed).
    public func waitForLines(atLeast count: Int) async throws -> [String] {
        while true {
            let lines = stdoutLines
            if lines.count >= count { return lines }
            if !handle.process.isRunning {
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
        while handle.process.isRunning || output.withLock({ $0.openStreams > 0 }) {
            if ContinuousClock.now >= deadline {
                signal(SIGKILL)
                throw ChildProcessError(self, "timed out")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        let process = handle.process
        return process.terminationReason == .exit
            ? .exited(process.terminationStatus) : .signaled(process.terminationStatus)
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
