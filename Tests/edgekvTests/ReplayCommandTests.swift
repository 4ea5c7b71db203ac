import EdgeKVTestSupport
import Foundation
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

/// The repository's bundled fixtures.
enum BundledFixtures {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fixtures").path

    static func files() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".json") }.sorted()
    }

    /// Copies the bundled fixtures into `box`'s scratch folder, leaving out the redis one unless scripts/test started
    /// its redis-server; returns the folder and how many were copied.
    static func copy(into box: Sandbox) throws -> (folder: String, count: Int) {
        let redis = ProcessInfo.processInfo.environment["EDGEKV_TEST_REDIS_URL"].map { !$0.isEmpty } ?? false
        var count = 0
        for name in try files() where redis || name != "redis-store.json" {
            try box.file("fixtures/\(name)", Array(try Data(contentsOf: URL(fileURLWithPath: "\(folder)/\(name)"))))
            count += 1
        }
        return ((box.scratch as NSString).appendingPathComponent("fixtures"), count)
    }
}

/// Element names and attributes of an XML document in document order, read with Foundation's XMLParser; nil when
/// the document is not well-formed.
final class XMLElements: NSObject, XMLParserDelegate {
    private(set) var elements: [(name: String, attributes: [String: String])] = []

    static func parse(_ data: Data) -> [(name: String, attributes: [String: String])]? {
        let delegate = XMLElements()
        let parser = XMLParser(data: data)
        parser.delegate = delegate
        return parser.parse() ? delegate.elements : nil
    }

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        elements.append((elementName, attributes))
    }
}

@Suite("edgekv replay")
struct ReplayCommandTests {
    static func lastLine(_ result: CLIResult) -> String? {
        result.stdoutText.split(separator: "\n").last.map(String.init)
    }

    @Test("the bundled fixtures pass in-process: exit 0, only the summary line")
    func bundledPass() async throws {
        let box = try Sandbox()
        let (folder, count) = try BundledFixtures.copy(into: box)
        let result = try await box.run(["replay", folder])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdoutText == "\(count) passed, 0 failed\n")
        let verbose = try await box.run(["replay", folder, "--verbose"])
        let lines = verbose.stdoutText.split(separator: "\n")
        #expect(lines.count == count + 1)
        #expect(lines.dropLast().allSatisfy { $0.hasPrefix("✔ ") }, "\(verbose)")
    }

    @Test("a failing fixture: exit 1, the fixture, the step, expected and got, then N passed, M failed")
    func failing() async throws {
        let box = try Sandbox()
        try box.file(
            "dir/a.json", #"{"name": "passes", "steps": [{"request": {"path": "/"}, "expect": {"status": 200}}]}"#)
        let failing = try box.file(
            "dir/b.json",
            #"{"name": "fails", "steps": [{"request": {"path": "/"}, "#
                + #""expect": {"status": 201, "json": {"visits": 2}}}]}"#)
        let result = try await box.run(["replay", (box.scratch as NSString).appendingPathComponent("dir")])
        #expect(result.status == 1, "\(result)")
        #expect(
            result.stdoutText == """
                ✘ fails (\(failing))
                    steps[0] (GET /): expect.status: expected 201, got 200 (body: "{\\"visits\\":1}")
                    steps[0] (GET /): expect.json.visits: expected 2, got 1
                      expected (subset): {"visits":2}
                      got:               {"visits":1}
                1 passed, 1 failed

                """)
    }

    @Test("a broken fixture: the message points at the file, the step and the field")
    func broken() async throws {
        let box = try Sandbox()
        let path = try box.file(
            "broken.json",
            #"{"name": "broken", "steps": [{"request": {"path": "/"}, "expect": {"status": 200}}, "#
                + #"{"request": {"method": 7, "path": "/"}}]}"#)
        let result = try await box.run(["replay", path])
        #expect(result.status == 1, "\(result)")
        #expect(
            result.stdoutText == """
                ✘ broken.json (\(path))
                    \(path): steps[1].request.method: expected a string
                0 passed, 1 failed

                """)
        let twoKinds = try box.file(
            "kinds.json", #"{"name": "k", "steps": [{"advance": 1, "request": {"path": "/"}}]}"#)
        let kinds = try await box.run(["replay", twoKinds])
        #expect(
            kinds.stdoutText.contains("\(twoKinds): steps[0]: a step has one kind, this one has request and advance"))
    }

    @Test("--junit FILE: one testcase per fixture with failure elements; the summary still ends the output")
    func junit() async throws {
        let box = try Sandbox()
        try box.file(
            "dir/a.json", #"{"name": "passes", "steps": [{"request": {"path": "/"}, "expect": {"status": 200}}]}"#)
        try box.file(
            "dir/b.json",
            #"{"name": "fails & <fails>", "steps": [{"request": {"path": "/"}, "expect": {"status": 500}}]}"#)
        try box.file("dir/c.json", #"{"name": "broken"}"#)
        let report = box.root.file("report.xml")
        let result = try await box.run([
            "replay", (box.scratch as NSString).appendingPathComponent("dir"), "--junit", report,
        ])
        #expect(result.status == 1)
        #expect(Self.lastLine(result) == "1 passed, 2 failed")
        let elements = try #require(XMLElements.parse(try Data(contentsOf: URL(fileURLWithPath: report))))
        #expect(
            elements.map(\.name) == [
                "testsuites", "testsuite", "testcase", "testcase", "failure", "testcase", "error",
            ])
        #expect(elements[0].attributes["tests"] == "3" && elements[0].attributes["failures"] == "1")
        #expect(elements[0].attributes["errors"] == "1")
        #expect(
            elements.filter { $0.name == "testcase" }.map { $0.attributes["name"] } == [
                "passes", "fails & <fails>", "c.json",
            ])
        #expect(
            elements[4].attributes["message"]?.hasPrefix("steps[0] (GET /): expect.status: expected 500, got 200")
                == true)
        #expect(elements[6].attributes["message"]?.hasSuffix("c.json: steps: required: an array of steps") == true)

        // Missing folders are created; a file where a folder should be is named, before any fixture runs.
        let nested = box.root.file("no/such/dir/report.xml")
        let created = try await box.run([
            "replay", (box.scratch as NSString).appendingPathComponent("dir/a.json"), "--junit", nested,
        ])
        #expect(created.status == 0, "\(created)")
        #expect(XMLElements.parse(try Data(contentsOf: URL(fileURLWithPath: nested))) != nil)
        let unwritable = (report as NSString).appendingPathComponent("report.xml")
        let failed = try await box.run([
            "replay", (box.scratch as NSString).appendingPathComponent("dir/a.json"), "--junit", unwritable,
        ])
        #expect(failed.status == 1)
        #expect(
            failed.stderr
                == "Error: cannot write the JUnit report to \(unwritable): \(report) is a file, not a folder\n",
            "\(failed)")
        #expect(failed.stdoutText.isEmpty, "\(failed)")
    }

    @Test("--target against edgekv serve: in-process-only fixtures are skipped, and the last line says so")
    func target() async throws {
        let box = try Sandbox()
        let server = try await ServeProcess(box, ["--persist-to", box.state])
        let report = box.root.file("live.xml")
        let result = try await box.run([
            "replay", BundledFixtures.folder, "--target", server.baseURL, "--junit", report,
        ])
        _ = try await server.stop()
        let total = try BundledFixtures.files().count
        #expect(result.status == 0, "\(result)")
        #expect(Self.lastLine(result) == "2 passed, 0 failed, \(total - 2) skipped")
        let skips = result.stdoutText.split(separator: "\n").filter { $0.hasPrefix("- ") }
        #expect(skips.count == total - 2)
        #expect(
            skips.contains { $0.hasSuffix("kv-seeded.json): skipped, seeds KV (needs in-process state)") }, "\(skips)")
        let elements = try #require(XMLElements.parse(try Data(contentsOf: URL(fileURLWithPath: report))))
        #expect(elements.filter { $0.name == "testcase" }.count == total)
        #expect(elements.filter { $0.name == "skipped" }.count == total - 2)
        #expect(elements[0].attributes["skipped"] == "\(total - 2)")
    }

    @Test("a step answered 500 shows what the app logged, without -v; an unknown seeded binding names the real ones")
    func serverLogAndBindings() async throws {
        let box = try Sandbox()
        // Port 1 on 127.0.0.1: nothing listens, so the Redis store fails to connect.
        let redis = try box.file(
            "dir/redis.json",
            #"{"name": "redis down", "env": {"vars": {"SESSION_STORE": "redis", "REDIS_URL": "redis://127.0.0.1:1"}}, "#
                + #""steps": [{"request": {"path": "/"}, "expect": {"status": 200}}]}"#)
        let seeded = try box.file(
            "dir/seed.json",
            #"{"name": "typo", "env": {"kv": {"SESSION": [{"key": "a", "value": "b"}]}}, "#
                + #""steps": [{"request": {"path": "/"}, "expect": {"status": 200}}]}"#)
        let result = try await box.run(["replay", (box.scratch as NSString).appendingPathComponent("dir")])
        #expect(result.status == 1, "\(result)")
        let lines = result.stdoutText.split(separator: "\n").map(String.init)
        #expect(lines.first == "✘ redis down (\(redis))", "\(result)")
        #expect(
            lines.contains {
                $0.hasPrefix("    steps[0] (GET /): the app logged: ")
                    && $0.contains("cannot connect to Redis at 127.0.0.1:1")
            }, "\(result)")
        #expect(lines.contains("✘ typo (\(seeded))"), "\(result)")
        #expect(
            lines.contains(
                #"    could not run: env.kv.SESSION: the app "demo" has no KV binding "SESSION" (its bindings: "SESSIONS")"#
            ), "\(result)")
        #expect(lines.last == "0 passed, 2 failed")
    }

    @Test("a fixture without steps fails, never passes")
    func noSteps() async throws {
        let box = try Sandbox()
        let path = try box.file("empty.json", #"{"name": "nothing", "steps": []}"#)
        let result = try await box.run(["replay", path])
        #expect(result.status == 1, "\(result)")
        #expect(result.stdoutText.contains("\(path): steps: empty: a fixture needs at least one step"), "\(result)")
        #expect(Self.lastLine(result) == "0 passed, 1 failed")
    }

    @Test("--target with nothing listening: one short line on stderr, exit 2, nothing run")
    func targetDown() async throws {
        let box = try Sandbox()
        try box.file("f.json", #"{"name": "f", "steps": [{"request": {"path": "/"}}]}"#)
        try box.file("g.json", #"{"name": "g", "steps": [{"request": {"path": "/"}}]}"#)
        let result = try await box.run(["replay", box.scratch, "--target", "http://127.0.0.1:1"])
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr == "Error: cannot reach http://127.0.0.1:1: connection refused\n", "\(result)")
        #expect(result.stdoutText.isEmpty, "\(result)")
    }

    @Test("bad paths and targets are clear errors")
    func badInput() async throws {
        let box = try Sandbox()
        let missing = try await box.run(["replay", "nope"])
        #expect(missing.status == 1 && missing.stderr.contains("nope: no such file or folder"), "\(missing)")
        let empty = box.root.file("empty")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let none = try await box.run(["replay", empty])
        #expect(none.status == 1 && none.stderr.contains("no fixture files (*.json) in \(empty)"), "\(none)")
        for target in ["localhost", "localhost:8787", "ftp://127.0.0.1/", "http://"] {
            let notURL = try await box.run(["replay", empty, "--target", target])
            #expect(notURL.status == 64 && notURL.stderr.contains("--target must be a URL"), "\(notURL)")
        }
        let noArguments = try await box.run(["replay"])
        #expect(noArguments.status == 64, "\(noArguments)")
    }
}
