import DemoApp
import Edge
import EdgeKV
import EdgeKVTestSupport
import EdgeReplay
import Foundation
import Testing

/// The demo app as `edgekv replay` registers it, with its logs kept quiet.
func demoReplayApp() -> ReplayApp {
    ReplayApp(name: "demo", kvBindings: DemoApp.kvBindings) { clock in
        DemoApp().runtime(clock: clock, logger: quietLogger)
    }
}

@Suite("ReplayRunner in-process")
struct ReplayRunnerTests {
    let runner = ReplayRunner(apps: [NotesApp.app, demoReplayApp()])

    func run(_ json: String) async throws -> ReplayResult {
        await runner.run(try parseFixture(json))
    }

    // MARK: A user's own app

    @Test("a user's handler: virtual clock, vars, seeds with expiry, cookie edits, JSON bodies, waitUntil, expectKV")
    func customApp() async throws {
        let result = try await run(
            #"""
            {
              "name": "notes", "app": "notes", "now": 1000,
              "env": {"vars": {"GREETING": "hi"},
                      "kv": {"DATA": [{"key": "short", "value": "lived", "expiration": 1010},
                                      {"key": "bin", "value": "AAE=", "base64": true}]}},
              "steps": [
                {"request": {"path": "/time"}, "expect": {"status": 200, "json": {"now": 1000, "greeting": "hi"}}},
                {"expectKV": {"DATA": {"count": 2, "has": ["short", "bin"], "values": {"short": "lived"}}}},
                {"advance": 10},
                {"request": {"path": "/time"}, "expect": {"json": {"now": 1010}}},
                {"expectKV": {"DATA": {"count": 1, "lacks": ["short"]}}},
                {"request": {"path": "/kv/short"}, "expect": {"status": 404}},
                {"request": {"path": "/echo"}, "expect": {"json": {"cookie": null, "method": "GET", "body": ""}}},
                {"cookies": {"session": "%%%raw%%%", "other": "x y"}, "comment": "new cookies join in name order"},
                {"request": {"method": "POST", "path": "/echo", "json": {"a": [1, 2]}},
                 "expect": {"json": {"cookie": "other=x y; session=%%%raw%%%", "method": "POST",
                                     "contentType": "application/json", "body": "{\"a\":[1,2]}"}}},
                {"cookies": {"session": null}},
                {"request": {"method": "PUT", "path": "/echo", "body": "plain", "headers": {"Cookie": "mine=1"}},
                 "expect": {"json": {"cookie": "mine=1", "contentType": null, "body": "plain"}}},
                {"request": {"path": "/count"}, "expect": {"json": {"n": 1}}},
                {"request": {"path": "/count"}, "expect": {"json": {"n": 2}}},
                {"request": {"method": "PUT", "path": "/kv/ttl?ttl=60", "body": "v"}, "expect": {"status": 204}},
                {"request": {"method": "POST", "path": "/later"}, "expect": {"status": 202}},
                {"expectKV": {"DATA": {"count": 4, "has": ["later", "ttl"], "values": {"n": "2", "later": "done"}}}},
                {"advance": 60},
                {"expectKV": {"DATA": {"lacks": ["ttl"]}}},
                {"request": {"path": "/boom"}, "expect": {"status": 500, "json": {"error": "internal server error"}}}
              ]
            }
            """#)
        #expect(result.outcome == .passed, "\(result.failures)")
        #expect(result.failures.isEmpty)
        #expect(result.name == "notes")
    }

    @Test("the cookie jar follows Set-Cookie in-process: Expires and Max-Age on the virtual clock, deletion")
    func cookieJarInProcess() async throws {
        let result = try await run(
            #"""
            {"name": "jar", "app": "notes", "steps": [
              {"request": {"path": "/cookies"},
               "expect": {"cookies": {"a": {"set": true, "httpOnly": true, "path": "/"},
                                      "b": {"set": true, "maxAge": 60}}}},
              {"request": {"path": "/echo"}, "expect": {"json": {"cookie": "a=1; b=2"}}},
              {"advance": 60},
              {"request": {"path": "/echo"}, "expect": {"json": {"cookie": "a=1"}}},
              {"request": {"path": "/forget"}, "expect": {"cookies": {"a": {"cleared": true}, "b": {"set": false}}}},
              {"request": {"path": "/echo"}, "expect": {"json": {"cookie": null}}},
              {"request": {"path": "/cookies"}, "expect": {"cookies": {"a": {"set": true}, "b": {"set": true}}}},
              {"advance": 3600},
              {"request": {"path": "/echo"}, "expect": {"json": {"cookie": null}}}
            ]}
            """#)
        #expect(result.outcome == .passed, "\(result.failures)")
    }

    @Test("each failed expectation names the step, the request, what was expected and what came")
    func failureMessages() async throws {
        let result = try await run(
            #"""
            {"name": "fails", "app": "notes", "steps": [
              {"request": {"path": "/count"}, "expect": {"status": 201, "json": {"n": 5}}},
              {"expectKV": {"DATA": {"count": 5, "has": ["x"], "lacks": ["n"], "values": {"n": "9"}}}},
              {"expectKV": {"NOPE": {"count": 0}}},
              {"request": {"method": "POST", "path": "/echo", "body": "b"},
               "expect": {"headers": {"Content-Type": "text/plain"}, "cookies": {"session": {"set": true}}}},
              {"request": {"path": "/count"}, "expect": {"json": {"n": 2}}}
            ]}
            """#)
        #expect(result.outcome == .failed)
        #expect(
            result.failures == [
                #"steps[0] (GET /count): expect.status: expected 201, got 200 (body: "{\"n\":1}")"#,
                "steps[0] (GET /count): expect.json.n: expected 5, got 1\n"
                    + #"      expected (subset): {"n":5}"# + "\n" + #"      got:               {"n":1}"#,
                "steps[1].expectKV.DATA.count: expected 5 keys, got 1",
                #"steps[1].expectKV.DATA.has: expected key "x", it is missing"#,
                #"steps[1].expectKV.DATA.lacks: expected no key "n", it exists"#,
                #"steps[1].expectKV.DATA.values.n: expected "9", got "1""#,
                "steps[2].expectKV.NOPE: no such KV binding",
                #"steps[3] (POST /echo): expect.headers.Content-Type: expected "text/plain", got "application/json""#,
                "steps[3] (POST /echo): expect.cookies.session.set: expected a Set-Cookie that keeps session, got none",
            ], "a failure does not stop the fixture: steps[4] ran and passed")
    }

    @Test("a fixture naming an app the runner does not know fails with the apps it knows")
    func unknownApp() async throws {
        let result = try await run(
            #"{"name": "x", "app": "nope", "steps": [{"request": {"path": "/"}, "expect": {"status": 200}}]}"#)
        #expect(result.outcome == .failed)
        #expect(result.failures == [#"could not run: app: unknown app "nope" (known: demo, notes)"#])
    }

    @Test("a cookies step with several new names gives the same Cookie header on every run (name order)")
    func cookieEditOrder() async throws {
        let fixture = try parseFixture(
            #"""
            {"name": "order", "app": "notes", "steps": [
              {"cookies": {"h": "8", "c": "3", "f": "6", "a": "1", "g": "7", "b": "2", "e": "5", "d": "4"}},
              {"request": {"path": "/echo"}, "expect": {"json": {"cookie": "a=1; b=2; c=3; d=4; e=5; f=6; g=7; h=8"}}},
              {"cookies": {"a": null, "d": "changed", "z": "26", "y": "25"}},
              {"request": {"path": "/echo"},
               "expect": {"json": {"cookie": "b=2; c=3; d=changed; e=5; f=6; g=7; h=8; y=25; z=26"}}}
            ]}
            """#)
        for _ in 0..<10 {
            let result = await runner.run(fixture)
            #expect(result.outcome == .passed, "\(result.failures)")
        }
    }

    @Test("every fixture starts from empty state")
    func freshState() async throws {
        let json = #"""
            {"name": "fresh", "app": "notes", "steps": [
              {"expectKV": {"DATA": {"count": 0}}},
              {"request": {"path": "/count"}, "expect": {"json": {"n": 1}}}
            ]}
            """#
        let fixture = try parseFixture(json)
        for _ in 0..<3 {
            let result = await runner.run(fixture)
            #expect(result.outcome == .passed, "\(result.failures)")
        }
    }

    // MARK: The demo

    @Test("every bundled fixture passes in-process against the demo")
    func bundledFixtures() async throws {
        let files = try Repo.fixtureFiles().filter {
            Repo.redisConfigured || ($0 as NSString).lastPathComponent != Repo.redisFixture
        }
        let summary = try await ReplayRunner(apps: [demoReplayApp()]).run(paths: files)
        for result in summary.results {
            #expect(result.outcome == .passed, "\(result.file ?? result.name): \(result.failures)")
        }
        #expect(summary.line == "\(files.count) passed, 0 failed")
    }

    @Test("a failing expectation against the demo names the step, expected and got")
    func demoFailure() async throws {
        let result = try await run(
            #"""
            {"name": "demo fails", "steps": [
              {"request": {"path": "/"}, "expect": {"json": {"visits": 1}}},
              {"request": {"path": "/"}, "expect": {"json": {"visits": 3}, "cookies": {"session": {"changed": true}}}},
              {"request": {"path": "/me"}, "expect": {"status": 200}}
            ]}
            """#)
        #expect(
            result.failures == [
                "steps[1] (GET /): expect.json.visits: expected 3, got 2\n"
                    + #"      expected (subset): {"visits":3}"# + "\n" + #"      got:               {"visits":2}"#,
                "steps[1] (GET /): expect.cookies.session.changed: expected the value to change, it stayed the same",
                #"steps[2] (GET /me): expect.status: expected 200, got 401 (body: "{\"user\":null}")"#,
            ])
    }

    @Test("the demo's env comes from the fixture: an invalid one answers 500 naming the variable")
    func demoEnv() async throws {
        for (vars, variable) in [
            (#"{"SESSION_STORE": "postgres"}"#, "SESSION_STORE"),
            (#"{"SESSION_STORE": "signed"}"#, "SESSION_KEYS"),
            (#"{"SESSION_STORE": "encrypted", "SESSION_KEYS": "short"}"#, "SESSION_KEYS"),
            (#"{"SESSION_MAX_AGE": "0"}"#, "SESSION_MAX_AGE"),
            (#"{"SESSION_ROLLING": "soon"}"#, "SESSION_ROLLING"),
            (#"{"SESSION_STORE": "redis"}"#, "REDIS_URL"),
        ] {
            let result = try await run(
                #"""
                {"name": "env", "env": {"vars": \#(vars)}, "steps": [
                  {"request": {"path": "/"}, "expect": {"status": 500, "bodyContains": "\#(variable)"}},
                  {"expectKV": {"SESSIONS": {"count": 0}}}
                ]}
                """#)
            #expect(result.outcome == .passed, "\(vars): \(result.failures)")
        }
    }

    @Test("a request whose body was cut when recorded is skipped with the reason, even where its expectations hold")
    func cutBody() async throws {
        // Sent as it stands, the cut body would pass: the echo returns what it got. The client sent more.
        let cut = try await run(
            #"""
            {"name": "cut", "app": "notes", "steps": [
              {"request": {"path": "/count"}, "expect": {"json": {"n": 1}}},
              {"request": {"method": "PUT", "path": "/echo", "body": "ab", "truncated": 70000},
               "expect": {"json": {"body": "ab"}}}
            ]}
            """#)
        #expect(cut.outcome == .skipped(reason: "steps[1].request.body was cut when recorded (2 of 70000 bytes kept)"))
        #expect(cut.failures.isEmpty)
        let whole = try await run(
            #"""
            {"name": "whole", "app": "notes", "steps": [
              {"request": {"method": "PUT", "path": "/echo", "body": "ab"}, "expect": {"json": {"body": "ab"}}}
            ]}
            """#)
        #expect(whole.outcome == .passed, "\(whole.failures)")
    }

    // MARK: Paths

    @Test("run(paths:) reports each fixture in order; a broken one fails with its file, step and field")
    func runPaths() async throws {
        let dir = try TemporaryDirectory()
        try dir.write(
            "a-pass.json",
            #"{"name": "pass", "app": "notes", "steps": [{"request": {"path": "/count"}, "#
                + #""expect": {"json": {"n": 1}}}]}"#)
        try dir.write(
            "b-fail.json",
            #"{"name": "fail", "app": "notes", "steps": [{"request": {"path": "/count"}, "expect": {"status": 418}}]}"#)
        let broken = try dir.write(
            "c-broken.json",
            #"{"name": "broken", "steps": [{"request": {"path": "/"}, "expect": {"status": 200}}, "#
                + #"{"advance": "soon"}]}"#)
        var seen: [String] = []
        let summary = try await runner.run(paths: [dir.path]) { seen.append($0.name) }
        #expect(seen == ["pass", "fail", "c-broken.json"])
        #expect(summary.results.map(\.outcome) == [.passed, .failed, .failed])
        #expect(summary.results[2].failures == ["\(broken): steps[1].advance: expected an integer"])
        #expect(summary.results[2].file == broken)
        #expect(summary.line == "1 passed, 2 failed")
        #expect(summary.passed == 1 && summary.failed == 2 && summary.skipped == 0)
    }
}
