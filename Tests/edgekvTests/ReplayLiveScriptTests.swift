import EdgeKVTestSupport
import Foundation
import Testing

/// `scripts/replay-live.sh`, as `scripts/test` sources it: the bundled fixtures over HTTP against a live
/// `edgekv serve`, which must then stop cleanly.
@Suite("scripts/replay-live.sh")
struct ReplayLiveScriptTests {
    static let repository = URL(fileURLWithPath: BundledFixtures.folder).deletingLastPathComponent().path

    /// Sources the script with `edgekv` set to `executable`, in the repository (it replays `fixtures`), and prints
    /// the `live_status` it leaves.
    static func source(with executable: String, in box: Sandbox) async throws -> CLIResult {
        try await EdgeKVProcess.run(
            executable: "/bin/bash",
            arguments: [
                "-c",
                #"edgekv="$1"; cd "$2" || exit 2; source scripts/replay-live.sh; echo "live_status=$live_status""#,
                "bash", executable, repository,
            ],
            directory: box.work, stdin: .none, timeout: .seconds(300))
    }

    @Test("a clean run: the fixtures pass over HTTP, serve stops with status 0, live_status is 0")
    func cleanRun() async throws {
        let box = try Sandbox()
        let result = try await Self.source(with: try ChildProcess.builtProduct("edgekv"), in: box)
        #expect(result.status == 0, "\(result)")
        #expect(result.stdoutText.contains(" passed, 0 failed"), "\(result)")
        #expect(result.stdoutText.hasSuffix("live_status=0\n"), "\(result)")
    }

    @Test("a serve that crashes while shutting down fails the run and says how it ended")
    func crashAtShutdownFails() async throws {
        let box = try Sandbox()
        let real = try ChildProcess.builtProduct("edgekv")
        // The real edgekv, except that `serve` ends with status 134 (an abort's) once the real server has stopped
        // on the SIGINT it forwards. Python, because a shell started in the background cannot trap SIGINT.
        let wrapper = try box.file(
            "edgekv-crashing-at-shutdown",
            """
            #!/usr/bin/env python3
            import os, signal, subprocess, sys
            real = \(pythonString(real))
            if sys.argv[1:2] != ["serve"]:
                os.execv(real, [real] + sys.argv[1:])
            child = subprocess.Popen([real] + sys.argv[1:])
            signal.signal(signal.SIGINT, lambda *_: child.send_signal(signal.SIGINT))
            child.wait()
            sys.stdout.flush()
            os._exit(134)

            """)
        #expect(chmod(wrapper, 0o755) == 0)
        let result = try await Self.source(with: wrapper, in: box)
        #expect(result.stdoutText.contains(" passed, 0 failed"), "the fixtures themselves pass: \(result)")
        #expect(result.stderr.contains("edgekv serve exited with status 134 after SIGINT"), "\(result)")
        #expect(result.stdoutText.hasSuffix("live_status=1\n"), "\(result)")
    }
}

/// `s` as a Python string literal.
private func pythonString(_ s: String) -> String {
    "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
}
