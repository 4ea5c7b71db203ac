import EdgeKVTestSupport
import EdgeSpawn
import Foundation
import Testing

/// What one run of the `edgekv` binary did.
struct CLIResult: Sendable, CustomStringConvertible {
    let arguments: [String]
    /// The exit status; a child ended by a signal reports 128 + the signal.
    let status: Int32
    let stdout: [UInt8]
    let stderr: String

    var stdoutText: String { String(decoding: stdout, as: UTF8.self) }

    /// stdout parsed as JSON.
    func json() throws -> JSON {
        do {
            return try JSONDecoder().decode(JSON.self, from: Data(stdout))
        } catch {
            throw CLIFailure("stdout of \(command) is not JSON (\(error)): \(stdoutText)")
        }
    }

    var command: String { (["edgekv"] + arguments).joined(separator: " ") }

    var description: String {
        "\(command) → status \(status); stdout: \(stdoutText.debugDescription); stderr: \(stderr.debugDescription)"
    }
}

struct CLIFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A test's own world: an empty working directory, a state directory for `--persist-to` and a scratch directory
/// for input files, all inside one temporary directory removed when the sandbox goes.
final class Sandbox: Sendable {
    let root: TemporaryDirectory
    /// The child's working directory; it starts empty.
    let work: String
    /// The directory passed as `--persist-to` by ``kv(_:stdin:)``.
    let state: String
    /// Where tests put input files (outside the working directory).
    let scratch: String

    init() throws {
        root = try TemporaryDirectory()
        work = root.file("work")
        state = root.file("state")
        scratch = root.file("scratch")
        for dir in [work, scratch] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
    }

    /// Writes a file in the scratch directory and returns its path.
    @discardableResult
    func file(_ name: String, _ bytes: [UInt8]) throws -> String {
        let path = (scratch as NSString).appendingPathComponent(name)
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @discardableResult
    func file(_ name: String, _ text: String) throws -> String { try file(name, Array(text.utf8)) }

    /// Writes a file in the working directory (a config file, say).
    func workFile(_ name: String, _ text: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: (work as NSString).appendingPathComponent(name)))
    }

    /// `edgekv kv ARGS --persist-to STATE`.
    func kv(_ arguments: String..., stdin: [UInt8]? = nil) async throws -> CLIResult {
        try await run(["kv"] + arguments + ["--persist-to", state], stdin: stdin)
    }

    /// Like ``kv(_:stdin:)``, and requires exit status 0.
    @discardableResult
    func ok(_ arguments: String..., stdin: [UInt8]? = nil) async throws -> CLIResult {
        let result = try await run(["kv"] + arguments + ["--persist-to", state], stdin: stdin)
        guard result.status == 0 else { throw CLIFailure("expected success: \(result)") }
        return result
    }

    /// What `kv key get ARGS` prints to stdout, as text ("" when it fails: the comparison then shows what went wrong).
    func value(_ arguments: String...) async throws -> String {
        try await run(["kv", "key", "get"] + arguments + ["--persist-to", state]).stdoutText
    }

    /// The names `kv key list --namespace-id NS` prints (all pages), requiring success and a JSON array.
    func keyNames(_ namespace: String) async throws -> [String] {
        let list = try await ok("key", "list", "--namespace-id", namespace).json()
        guard let items = list.arrayValue else { throw CLIFailure("key list printed no array: \(list)") }
        return try items.map {
            guard let name = $0["name"]?.stringValue else { throw CLIFailure("entry without a name: \($0)") }
            return name
        }
    }

    /// The namespace ids `kv namespace list` prints.
    func namespaceIDs() async throws -> [String] {
        let list = try await ok("namespace", "list").json()
        guard let items = list.arrayValue else { throw CLIFailure("namespace list printed no array: \(list)") }
        return items.compactMap { $0["id"]?.stringValue }
    }

    /// Runs the binary with exactly `arguments`, in ``work``.
    /// - Parameters:
    ///   - stdin: the child's stdin (a regular file, so never a terminal); nil → /dev/null.
    ///   - pipe: give `stdin` through a pipe instead of a file.
    ///   - environment: variables set for the child on top of the runner's (see ``EdgeKVProcess/run``).
    func run(
        _ arguments: [String], stdin: [UInt8]? = nil, pipe: Bool = false, timeout: Duration = .seconds(30),
        environment: [String: String] = [:]
    )
        async throws -> CLIResult
    {
        let input: EdgeKVProcess.Input =
            switch (stdin, pipe) {
            case (nil, _): .none
            case (let bytes?, true): .pipe(bytes)
            case (let bytes?, false): .file(try file("stdin-\(UUID().uuidString)", bytes))
            }
        return try await EdgeKVProcess.run(
            executable: try ChildProcess.builtProduct("edgekv"), arguments: arguments, directory: work, stdin: input,
            timeout: timeout, environment: environment)
    }
}

/// Runs a child to its end with stdout and stderr captured, killing it at a deadline.
enum EdgeKVProcess {
    enum Input {
        /// /dev/null.
        case none
        /// This regular file.
        case file(String)
        /// These bytes through a pipe.
        case pipe([UInt8])
    }

    /// Runs `executable` in `directory` with the runner's environment minus every `CLOUDFLARE_*` variable, plus
    /// `environment` (which wins, and is the only way a `CLOUDFLARE_*` variable reaches the child).
    static func run(
        executable: String, arguments: [String], directory: String, stdin: Input, timeout: Duration,
        environment extra: [String: String] = [:]
    ) async throws -> CLIResult {
        let input: SpawnedProcess.Input =
            switch stdin {
            case .none: .null
            case .file(let path): .file(path)
            case .pipe(let bytes): .bytes(bytes)
            }
        // Local state only: nothing from the test runner's environment may point the child at a remote account. A
        // test that means to reach one (an `edgekv api` of its own) names the variables itself.
        let environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("CLOUDFLARE_") }
            .merging(extra) { _, given in given }
        let process = try SpawnedProcess(
            executable: executable, arguments: arguments, environment: environment, directory: directory, stdin: input)
        let deadline = ContinuousClock.now + timeout
        while true {
            if let termination = process.termination, process.outputFinished {
                return CLIResult(
                    arguments: arguments, status: termination.status, stdout: process.stdout,
                    stderr: String(decoding: process.stderr, as: UTF8.self))
            }
            if ContinuousClock.now >= deadline {
                process.signal(SIGKILL)
                throw CLIFailure(
                    "edgekv \(arguments.joined(separator: " ")) timed out after \(timeout); stderr: "
                        + String(decoding: process.stderr, as: UTF8.self))
            }
            try await Task.sleep(for: .milliseconds(2))
        }
    }
}

/// The current UNIX time in seconds.
func unixNow() -> Int64 { Int64(Date().timeIntervalSince1970) }
