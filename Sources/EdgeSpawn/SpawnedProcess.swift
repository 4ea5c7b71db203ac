import CSpawn
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A child process started with `posix_spawn`, its stdout and stderr captured or redirected, reaped by its own thread.
///
/// The child inherits no descriptor but its stdin, stdout and stderr: everything from 3 up is closed in the child
/// (`posix_spawn_file_actions_addclosefrom_np`), however many sockets and files the parent holds. It starts in a
/// process group of its own, so a Ctrl-C at the terminal reaches the parent, which decides what to do with it.
public final class SpawnedProcess: Sendable {
    /// How a child ended.
    public enum Termination: Sendable, Hashable, CustomStringConvertible {
        /// It exited with this status.
        case exited(Int32)
        /// This signal ended it.
        case signaled(Int32)

        /// A shell's `$?`: the exit status, or 128 + the signal.
        public var status: Int32 {
            switch self {
            case .exited(let status): status
            case .signaled(let signal): 128 + signal
            }
        }

        /// `exit 0`, `signal 9`.
        public var description: String {
            switch self {
            case .exited(let status): "exit \(status)"
            case .signaled(let signal): "signal \(signal)"
            }
        }
    }

    /// What the child reads as stdin.
    public enum Input: Sendable {
        /// `/dev/null`.
        case null
        /// This file.
        case file(String)
        /// These bytes through a pipe, closed after the last one (a child that stops reading early is fine).
        case bytes([UInt8])
    }

    /// Where the child's stdout or stderr goes.
    public enum Output: Sendable {
        /// Into memory: ``stdout`` and ``stderr`` return it.
        case capture
        /// Into this file, created or truncated.
        case file(String)
        /// To `/dev/null`.
        case null
    }

    /// The child's process id.
    public let pid: pid_t
    private let shared: Shared

    /// Starts `executable` with `arguments`.
    /// - Parameters:
    ///   - environment: the child's environment; nil passes this process's own.
    ///   - directory: the child's working directory; nil keeps this process's.
    /// - Throws: ``SpawnError`` when a file cannot be opened or the executable cannot be started.
    public init(
        executable: String, arguments: [String], environment: [String: String]? = nil, directory: String? = nil,
        stdin: Input = .null, stdout: Output = .capture, stderr: Output = .capture
    ) throws(SpawnError) {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // Descriptors the parent closes once the child has its copies.
        var parentCloses: [Int32] = []
        defer { for fd in parentCloses { close(fd) } }
        var readers: [(fd: Int32, stream: Shared.Stream)] = []
        var inputPipe: Int32?
        var failure: SpawnError?

        func check(_ result: Int32, _ what: @autoclosure () -> String) throws(SpawnError) {
            if result != 0 { throw SpawnError("cannot start \(executable): \(what()): \(Self.describe(result))") }
        }

        do throws(SpawnError) {
            switch stdin {
            case .null:
                try check(posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0), "/dev/null")
            case .file(let path):
                let fd = open(path, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { throw SpawnError("cannot open \(path): \(Self.describe(errno))") }
                parentCloses.append(fd)
                try check(posix_spawn_file_actions_adddup2(&actions, fd, 0), "stdin")
            case .bytes:
                let (read, write) = try Self.pipe()
                parentCloses.append(read)
                inputPipe = write
                try check(posix_spawn_file_actions_adddup2(&actions, read, 0), "stdin")
            }
            for (output, target, stream) in [(stdout, Int32(1), Shared.Stream.stdout), (stderr, 2, .stderr)] {
                switch output {
                case .capture:
                    let (read, write) = try Self.pipe()
                    readers.append((read, stream))
                    parentCloses.append(write)
                    try check(posix_spawn_file_actions_adddup2(&actions, write, target), "\(stream)")
                case .file(let path):
                    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
                    guard fd >= 0 else { throw SpawnError("cannot open \(path): \(Self.describe(errno))") }
                    parentCloses.append(fd)
                    try check(posix_spawn_file_actions_adddup2(&actions, fd, target), "\(stream)")
                case .null:
                    try check(posix_spawn_file_actions_addopen(&actions, target, "/dev/null", O_WRONLY, 0), "/dev/null")
                }
            }
            try check(cspawn_add_close_from(&actions, 3), "descriptors")
            if let directory { try check(cspawn_add_chdir(&actions, directory), directory) }
        } catch {
            failure = error
        }
        if let failure {
            for reader in readers { close(reader.fd) }
            if let inputPipe { close(inputPipe) }
            throw failure
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let envp: [UnsafeMutablePointer<CChar>?]? = environment.map {
            $0.map { strdup("\($0.key)=\($0.value)") } + [nil]
        }
        defer { for pointer in envp ?? [] { free(pointer) } }

        var child: pid_t = 0
        let result =
            if let envp {
                posix_spawn(&child, executable, &actions, &attributes, argv, envp)
            } else {
                posix_spawn(&child, executable, &actions, &attributes, argv, environ)
            }
        guard result == 0 else {
            for reader in readers { close(reader.fd) }
            if let inputPipe { close(inputPipe) }
            throw SpawnError("cannot start \(executable): \(Self.describe(result))")
        }
        pid = child
        shared = Shared(openStreams: readers.count)
        for reader in readers { shared.startReader(reader.fd, reader.stream) }
        if let inputPipe, case .bytes(let bytes) = stdin { Shared.startWriter(inputPipe, bytes) }
        shared.startReaper(child)
    }

    deinit {
        if isRunning { kill(pid, SIGKILL) }
    }

    /// How the child ended; nil while it runs.
    public var termination: Termination? { shared.state.withLock { $0.termination } }

    /// Whether the child is still running.
    public var isRunning: Bool { termination == nil }

    /// Whether every captured stream has reached its end (the child, and any grandchild holding it, closed it).
    public var outputFinished: Bool { shared.state.withLock { $0.openStreams == 0 } }

    /// What the child has written to stdout so far (with ``Output/capture``).
    public var stdout: [UInt8] { shared.state.withLock { $0.stdout } }

    /// What the child has written to stderr so far (with ``Output/capture``).
    public var stderr: [UInt8] { shared.state.withLock { $0.stderr } }

    /// Sends `signal` to the child, unless it has already been reaped.
    public func signal(_ signal: Int32) {
        shared.state.withLock { if $0.termination == nil { _ = kill(pid, signal) } }
    }

    /// Waits until the child has ended and its captured output is read to the end, without blocking a thread.
    @discardableResult
    public func exit() async -> Termination {
        await withCheckedContinuation { continuation in
            let done: Termination? = shared.state.withLock { state in
                if let termination = state.termination, state.openStreams == 0 { return termination }
                state.waiters.append(continuation)
                return nil
            }
            if let done { continuation.resume(returning: done) }
        }
    }

    private static func pipe() throws(SpawnError) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        guard cspawn_pipe(&fds) == 0 else { throw SpawnError("cannot create a pipe: \(describe(errno))") }
        return (fds[0], fds[1])
    }

    private static func describe(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// The state the reader, writer and reaper threads share with the process object; they never keep the object
    /// itself alive, so dropping it kills a child still running.
    private final class Shared: Sendable {
        enum Stream: CustomStringConvertible {
            case stdout, stderr
            var description: String { self == .stdout ? "stdout" : "stderr" }
        }

        struct State {
            var stdout: [UInt8] = []
            var stderr: [UInt8] = []
            var openStreams: Int
            var termination: Termination?
            var waiters: [CheckedContinuation<Termination, Never>] = []

            /// The waiters to resume now that the child has ended and its output is read.
            mutating func takeWaitersIfDone() -> (Termination, [CheckedContinuation<Termination, Never>])? {
                guard let termination, openStreams == 0, !waiters.isEmpty else { return nil }
                defer { waiters = [] }
                return (termination, waiters)
            }
        }

        let state: Mutex<State>

        init(openStreams: Int) { state = Mutex(State(openStreams: openStreams)) }

        private func update(_ body: (inout State) -> Void) {
            let ready = state.withLock { state in
                body(&state)
                return state.takeWaitersIfDone()
            }
            if let (termination, waiters) = ready { for waiter in waiters { waiter.resume(returning: termination) } }
        }

        func startReader(_ fd: Int32, _ stream: Stream) {
            // A blocking read loop on its own thread drains the pipe however busy the caller's tasks are, so a
            // chatty child never blocks on a full pipe.
            Thread.detachNewThread { [self] in
                var buffer = [UInt8](repeating: 0, count: 65_536)
                while true {
                    let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { break }
                    state.withLock {
                        switch stream {
                        case .stdout: $0.stdout.append(contentsOf: buffer[0..<n])
                        case .stderr: $0.stderr.append(contentsOf: buffer[0..<n])
                        }
                    }
                }
                close(fd)
                update { $0.openStreams -= 1 }
            }
        }

        static func startWriter(_ fd: Int32, _ bytes: [UInt8]) {
            Thread.detachNewThread {
                // A child that exits without reading must not raise SIGPIPE in this process: with the signal
                // blocked on this thread the write fails with EPIPE, and the pending signal is taken back.
                var pipeSignal = sigset_t()
                sigemptyset(&pipeSignal)
                sigaddset(&pipeSignal, SIGPIPE)
                pthread_sigmask(SIG_BLOCK, &pipeSignal, nil)
                var offset = 0
                while offset < bytes.count {
                    let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { break }
                    offset += n
                }
                close(fd)
                var none = timespec()
                _ = sigtimedwait(&pipeSignal, nil, &none)
            }
        }

        func startReaper(_ pid: pid_t) {
            Thread.detachNewThread { [self] in
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 {
                    if errno != EINTR {
                        status = 0x7f  // not reapable here: report it as killed rather than wait forever
                        break
                    }
                }
                let termination: Termination =
                    status & 0x7f == 0 ? .exited((status >> 8) & 0xff) : .signaled(status & 0x7f)
                update { $0.termination = termination }
            }
        }
    }
}

/// A child process that could not be started.
public struct SpawnError: Error, Sendable, CustomStringConvertible {
    /// What failed and why, with the path.
    public let description: String

    init(_ description: String) { self.description = description }
}
