import DemoApp
import Edge
import EdgeHTTP
import EdgeKV
import EdgeKVSQLite
import EdgeKVTestSupport
import EdgeReplay
import Foundation
import Testing

/// Serves a runtime on 127.0.0.1 with a free port for the duration of `body`.
func serving<T: Sendable>(_ runtime: EdgeRuntime, _ body: (String) async throws -> T) async throws -> T {
    try await withServer(runtime) { server in try await body(server.baseURL) }
}

/// The demo on fresh local KV state, as `edgekv serve` runs it.
func demoRuntime() async throws -> EdgeRuntime {
    let store = try await SQLiteKVStore(inMemoryWithClock: SystemClock())
    return DemoApp().runtime(env: try Env(kv: ["SESSIONS": store.namespace(id: "SESSIONS")]), logger: quietLogger)
}

@Suite("ReplayRunner over HTTP")
struct HTTPReplayTests {
    @Test("the bundled fixtures against the demo on a real socket: in-process-only ones are skipped, the rest pass")
    func bundledFixtures() async throws {
        let summary = try await serving(try await demoRuntime()) { base in
            try await ReplayRunner(apps: [], target: .http(baseURL: base)).run(paths: [Repo.fixtures])
        }
        let byFile = Dictionary(
            uniqueKeysWithValues: summary.results.map { ((($0.file ?? "") as NSString).lastPathComponent, $0) })
        #expect(byFile["session-flow.json"]?.outcome == .passed, "\(byFile["session-flow.json"]?.failures ?? [])")
        #expect(byFile["session-fixation.json"]?.outcome == .passed)
        for result in summary.results where result.outcome != .passed {
            guard case .skipped(let reason) = result.outcome else {
                Issue.record("\(result.file ?? result.name) failed over HTTP: \(result.failures)")
                continue
            }
            #expect(!reason.isEmpty)
            #expect(result.failures.isEmpty)
        }
        #expect(summary.failed == 0)
        #expect(summary.passed == 2)
        #expect(summary.line == "2 passed, 0 failed, \(summary.results.count - 2) skipped")
        #expect(
            byFile["kv-expiry.json"]?.outcome == .skipped(reason: "sets env vars (the server has its own env)"))
        #expect(byFile["kv-seeded.json"]?.outcome == .skipped(reason: "seeds KV (needs in-process state)"))
        #expect(
            byFile["kv-fixation.json"]?.outcome
                == .skipped(reason: "steps[2] needs the in-process clock, KV or locations"))
    }

    @Test("why a fixture cannot run over HTTP: vars, seeds, consistency, advance, expectKV, a location")
    func skipReasons() async throws {
        let cases: [(String, ReplayResult.Outcome)] = [
            (
                #"{"name": "v", "env": {"vars": {"A": "1"}}, "#
                    + #""steps": [{"request": {"path": "/"}, "expect": {"status": 200}}]}"#,
                .skipped(reason: "sets env vars (the server has its own env)")
            ),
            (
                #"{"name": "k", "env": {"kv": {"SESSIONS": [{"key": "a", "value": "b"}]}}, "steps": [{"advance": 1}]}"#,
                .skipped(reason: "seeds KV (needs in-process state)")
            ),
            (
                #"{"name": "c", "consistency": {}, "steps": [{"request": {"path": "/"}, "expect": {"status": 200}}]}"#,
                .skipped(reason: "uses the consistency simulator (in-process only)")
            ),
            (
                #"{"name": "a", "steps": [{"request": {"path": "/"}, "expect": {"status": 200}}, "#
                    + #"{"cookies": {"x": "1"}}, {"advance": 1}]}"#,
                .skipped(reason: "steps[2] needs the in-process clock, KV or locations")
            ),
            (
                #"{"name": "e", "steps": [{"expectKV": {"SESSIONS": {"count": 0}}}]}"#,
                .skipped(reason: "steps[0] needs the in-process clock, KV or locations")
            ),
            (
                #"{"name": "l", "steps": [{"request": {"path": "/"}, "expect": {"status": 200}}, "#
                    + #"{"request": {"path": "/", "location": "eu"}, "expect": {"status": 200}}]}"#,
                .skipped(reason: "steps[1] needs the in-process clock, KV or locations")
            ),
            (
                #"{"name": "t", "steps": [{"request": {"method": "POST", "path": "/", "body": "ab", "truncated": 9}, "#
                    + #""expect": {"status": 200}}]}"#,
                .skipped(reason: "steps[0].request.body was cut when recorded (2 of 9 bytes kept)")
            ),
            (
                #"{"name": "ok", "steps": [{"cookies": {"session": "x"}}, "#
                    + #"{"request": {"path": "/me"}, "expect": {"status": 401}}]}"#,
                .passed
            ),
        ]
        try await serving(try await demoRuntime()) { base in
            let runner = ReplayRunner(apps: [], target: .http(baseURL: base))
            for (json, outcome) in cases {
                let result = await runner.run(try parseFixture(json))
                #expect(result.outcome == outcome, "\(json): \(result.failures)")
            }
        }
    }

    @Test("a failing expectation over HTTP names the step, expected and got")
    func failure() async throws {
        let result = try await serving(try await demoRuntime()) { base in
            await ReplayRunner(apps: [], target: .http(baseURL: base + "/")).run(
                try parseFixture(
                    #"""
                    {"name": "http fails", "steps": [
                      {"request": {"path": "/"},
                       "expect": {"json": {"visits": 5}, "cookies": {"session": {"set": false}}}},
                      {"request": {"path": "/"},
                       "expect": {"json": {"visits": 2}, "cookies": {"session": {"changed": false}}}}
                    ]}
                    """#))
        }
        #expect(
            result.failures == [
                "steps[0] (GET /): expect.json.visits: expected 5, got 1\n"
                    + #"      expected (subset): {"visits":5}"# + "\n" + #"      got:               {"visits":1}"#,
                "steps[0] (GET /): expect.cookies.session.set: expected no Set-Cookie for session, got one",
            ], "the session cookie from steps[0] went back with steps[1]")
    }

    @Test("a user's app over HTTP: several Set-Cookie lines (one with an Expires date), deletion, bodies")
    func customAppOverHTTP() async throws {
        let store = try await SQLiteKVStore(inMemoryWithClock: SystemClock())
        let runtime = EdgeRuntime(env: try Env(kv: ["DATA": store.namespace(id: "DATA")]), handler: NotesApp.handler)
        let result = try await serving(runtime) { base in
            await ReplayRunner(apps: [], target: .http(baseURL: base)).run(
                try parseFixture(
                    #"""
                    {"name": "notes over http", "app": "notes", "steps": [
                      {"request": {"path": "/cookies"},
                       "expect": {"status": 204, "cookies": {"a": {"set": true, "httpOnly": true, "path": "/"},
                                                             "b": {"set": true, "maxAge": 60}}}},
                      {"request": {"method": "POST", "path": "/echo?x=1", "json": {"k": "v"}},
                       "expect": {"json": {"cookie": "a=1; b=2", "method": "POST", "contentType": "application/json",
                                           "body": "{\"k\":\"v\"}"}}},
                      {"request": {"path": "/forget"}, "expect": {"cookies": {"a": {"cleared": true}}}},
                      {"cookies": {"c": "%%%verbatim%%%"}},
                      {"request": {"path": "/echo"}, "expect": {"json": {"cookie": "b=2; c=%%%verbatim%%%"}}},
                      {"request": {"path": "/count"}, "expect": {"json": {"n": 1}}},
                      {"request": {"path": "/boom"}, "expect": {"status": 500}}
                    ]}
                    """#))
        }
        #expect(result.outcome == .passed, "\(result.failures)")
    }

    /// A base URL on 127.0.0.1 where nothing listens: a port the server had until it stopped.
    static func closedTarget() async throws -> String {
        try await serving(try await demoRuntime()) { $0 }
    }

    @Test("a server that does not answer fails the fixture with one short line, never passes it")
    func unreachable() async throws {
        let base = try await Self.closedTarget()
        let result = await ReplayRunner(apps: [], target: .http(baseURL: base)).run(
            try parseFixture(
                #"{"name": "down", "steps": [{"request": {"path": "/"}, "expect": {"status": 200}}, "#
                    + #"{"request": {"path": "/me"}, "expect": {"status": 200}}]}"#))
        #expect(result.outcome == .failed)
        #expect(result.failures == ["steps[0] (GET /): cannot reach \(base): connection refused"])
    }

    @Test("a server started on a port another one holds fails at once with addressInUse, never waits")
    func portInUse() async throws {
        let runtime = EdgeRuntime { _, _ in Response.text("x") }
        try await serving(runtime) { base in
            let port = Int(base.split(separator: ":").last!)!
            let second = EdgeServer(
                runtime: runtime,
                configuration: EdgeServer.Configuration(host: "127.0.0.1", port: port, logger: quietLogger))
            do {
                _ = try await second.start()
                Issue.record("a second server started on \(port)")
            } catch let error as EdgeServerError {
                #expect(error.code == .addressInUse)
                #expect(error.description == "127.0.0.1:\(port) is already in use")
            }
        }
    }

    @Test("the reachability check connects without sending a request, and names why it could not")
    func reachability() async throws {
        let runtime = EdgeRuntime { _, _ in Response.text("x") }
        let base = try await serving(runtime) { base in
            try ReplayRunner.checkReachable(base)
            return base
        }
        #expect(throws: ReplayTargetUnreachable.self) { try ReplayRunner.checkReachable(base) }
        do {
            try ReplayRunner.checkReachable(base)
        } catch {
            #expect("\(error)" == "cannot reach \(base): connection refused")
        }
    }
}
