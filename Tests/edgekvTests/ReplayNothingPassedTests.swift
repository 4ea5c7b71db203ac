import EdgeKVTestSupport
import Foundation
import Testing

/// Nothing checked is not a pass: `edgekv replay` fails a run in which no fixture passed.
@Suite("edgekv replay: a run that checked nothing fails")
struct ReplayNothingPassedTests {
    /// A fixture that is always skipped: its recorded body was cut, so the request cannot be sent as it was.
    static let truncated =
        #"{"name": "cut", "steps": [{"request": {"method": "POST", "path": "/login", "body": "{\"us", "#
        + #""truncated": 9000}, "expect": {"status": 200}}]}"#

    @Test("every fixture skipped in-process: exit 1, the summary, and why on stderr")
    func allSkipped() async throws {
        let box = try Sandbox()
        try box.file("dir/a.json", Self.truncated)
        try box.file("dir/b.json", Self.truncated.replacingOccurrences(of: #""cut""#, with: #""cut too""#))
        let result = try await box.run(["replay", (box.scratch as NSString).appendingPathComponent("dir")])
        #expect(result.status == 1, "\(result)")
        #expect(result.stdoutText.hasSuffix("0 passed, 0 failed, 2 skipped\n"), "\(result)")
        #expect(
            result.stderr == "Error: no fixture passed: every one was skipped, so nothing was checked\n", "\(result)")
    }

    @Test("one fixture passing beside the skipped ones is a pass")
    func onePassIsEnough() async throws {
        let box = try Sandbox()
        try box.file("dir/a.json", Self.truncated)
        try box.file(
            "dir/b.json",
            #"{"name": "visits", "steps": [{"request": {"path": "/"}, "expect": {"json": {"visits": 1}}}]}"#)
        let result = try await box.run(["replay", (box.scratch as NSString).appendingPathComponent("dir")])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdoutText.hasSuffix("1 passed, 0 failed, 1 skipped\n"), "\(result)")
    }

    @Test("every fixture skipped by a live target: exit 1")
    func allSkippedByTarget() async throws {
        let box = try Sandbox()
        // Over HTTP, a fixture that moves the clock is skipped: it needs the in-process clock.
        try box.file(
            "dir/a.json",
            #"{"name": "later", "steps": [{"advance": 5}, {"request": {"path": "/"}, "expect": {"status": 200}}]}"#)
        let server = try await ServeProcess(box, ["--persist-to", box.state])
        let result = try await box.run([
            "replay", (box.scratch as NSString).appendingPathComponent("dir"), "--target", server.baseURL,
        ])
        _ = try await server.stop()
        #expect(result.status == 1, "\(result)")
        #expect(result.stdoutText.hasSuffix("0 passed, 0 failed, 1 skipped\n"), "\(result)")
        #expect(result.stderr.contains("no fixture passed"), "\(result)")
    }

    @Test("a request step without an expectation is refused, naming the file and the step")
    func stepWithoutExpect() async throws {
        let box = try Sandbox()
        let path = try box.file(
            "bare.json",
            #"{"name": "bare", "steps": [{"request": {"path": "/"}, "expect": {"status": 200}}, "#
                + #"{"request": {"path": "/me"}}]}"#)
        let result = try await box.run(["replay", path])
        #expect(result.status == 1, "\(result)")
        #expect(
            result.stdoutText.contains(
                "\(path): steps[1]: a request step needs an \"expect\" with at least one of: "
                    + "status, headers, json, body, bodyContains, cookies"), "\(result)")
        #expect(result.stdoutText.hasSuffix("0 passed, 1 failed\n"), "\(result)")
    }
}
