import EdgeSpawn
import Foundation
import Testing

/// Children started with posix_spawn: what they inherit, what they read and write, how they end.
@Suite struct SpawnedProcessTests {
    static func finished(_ process: SpawnedProcess) async -> (SpawnedProcess.Termination, String, String) {
        let termination = await process.exit()
        return (
            termination, String(decoding: process.stdout, as: UTF8.self),
            String(decoding: process.stderr, as: UTF8.self)
        )
    }

    static func shell(
        _ script: String, _ arguments: [String] = [], stdin: SpawnedProcess.Input = .null
    )
        throws -> SpawnedProcess
    {
        try SpawnedProcess(executable: "/bin/sh", arguments: ["-c", script, "sh"] + arguments, stdin: stdin)
    }

    @Test func capturesStdoutStderrAndExitStatus() async throws {
        let (termination, out, err) = await Self.finished(try Self.shell("echo out; echo err >&2; exit 3"))
        #expect(termination == .exited(3))
        #expect(termination.status == 3)
        #expect(out == "out\n")
        #expect(err == "err\n")
    }

    @Test func aSignalEndsTheChild() async throws {
        let process = try Self.shell("exec sleep 30")
        #expect(process.isRunning)
        process.signal(SIGTERM)
        let termination = await process.exit()
        #expect(termination == .signaled(SIGTERM))
        #expect(termination.status == 128 + SIGTERM)
        #expect(!process.isRunning)
        // A reaped child is never signalled again: its pid may belong to someone else by now.
        process.signal(SIGKILL)
    }

    /// However many descriptors the parent holds, the child gets only stdin, stdout and stderr.
    @Test func theChildInheritsOnlyItsStandardDescriptors() async throws {
        var held: [Int32] = []
        defer { for fd in held { close(fd) } }
        for _ in 0..<2_000 {
            let fd = open("/dev/null", O_RDONLY)  // without O_CLOEXEC, as a library might open it
            if fd < 0 { break }
            held.append(fd)
        }
        #expect(held.count > 1_000, "the test could not open enough descriptors")
        // `ls` itself opens the directory it lists, so list through a shell loop over the glob instead.
        let (termination, out, _) = await Self.finished(
            try Self.shell("for f in /proc/self/fd/*; do echo ${f##*/}; done"))
        #expect(termination == .exited(0))
        let fds = out.split(separator: "\n").compactMap { Int($0) }
        #expect(fds.filter { $0 > 2 }.count <= 1, "inherited descriptors: \(fds)")  // the shell's glob may hold one
        #expect(Set(fds).isSuperset(of: [0, 1, 2]))
    }

    @Test func stdinFromBytesFileOrNull() async throws {
        let big = [UInt8]((0..<300_000).map { UInt8($0 % 251) })
        let (t1, out1, _) = await Self.finished(try Self.shell("wc -c", stdin: .bytes(big)))
        #expect(t1 == .exited(0))
        #expect(out1.trimmingCharacters(in: .whitespacesAndNewlines) == "300000")

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("spawn-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try Data("from a file\n".utf8).write(to: URL(fileURLWithPath: file))
        let (_, out2, _) = await Self.finished(try Self.shell("cat", stdin: .file(file)))
        #expect(out2 == "from a file\n")

        let (_, out3, _) = await Self.finished(try Self.shell("cat | wc -c"))
        #expect(out3.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
    }

    /// A child that exits without reading its input: the writer gets EPIPE, and this process is not killed by
    /// SIGPIPE.
    @Test func aChildThatIgnoresItsInputDoesNotHurtTheParent() async throws {
        let (termination, _, _) = await Self.finished(
            try Self.shell("exit 0", stdin: .bytes([UInt8](repeating: 65, count: 1 << 20))))
        #expect(termination == .exited(0))
    }

    @Test func outputToAFileEnvironmentAndDirectory() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("spawn-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("out.txt").path
        let process = try SpawnedProcess(
            executable: "/bin/sh", arguments: ["-c", #"echo "$GREETING from $(pwd)""#],
            environment: ["GREETING": "hello", "PATH": "/usr/bin:/bin"], directory: directory.path,
            stdout: .file(output), stderr: .null)
        #expect(await process.exit() == .exited(0))
        let written = try String(contentsOfFile: output, encoding: .utf8)
        #expect(written == "hello from \(directory.resolvingSymlinksInPath().path)\n")
        #expect(process.stdout.isEmpty)
    }

    @Test func aMissingExecutableOrFileIsAClearError() throws {
        #expect {
            try SpawnedProcess(executable: "/nonexistent/tool", arguments: [])
        } throws: { error in
            "\(error)" == "cannot start /nonexistent/tool: No such file or directory"
        }
        #expect {
            try SpawnedProcess(executable: "/bin/cat", arguments: [], stdin: .file("/nonexistent/input"))
        } throws: { error in
            "\(error)" == "cannot open /nonexistent/input: No such file or directory"
        }
    }

    /// Dropping the process object kills a child still running; its reaper still collects it.
    @Test func droppingTheObjectKillsTheChild() async throws {
        var process: SpawnedProcess? = try Self.shell("exec sleep 30")
        let pid = process!.pid
        process = nil
        let deadline = ContinuousClock.now + .seconds(30)
        // kill(pid, 0) fails with ESRCH once the child is killed and reaped.
        while kill(pid, 0) == 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(kill(pid, 0) != 0)
    }
}
