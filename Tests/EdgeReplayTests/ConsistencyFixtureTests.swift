import EdgeKV
import EdgeKVTestSupport
import EdgeReplay
import Foundation
import Testing

@Suite("Consistency fixtures")
struct ConsistencyFixtureTests {
    let runner = ReplayRunner(apps: [NotesApp.app, demoReplayApp()])

    func load(_ name: String) throws -> Fixture {
        try Fixture.load(path: (Repo.fixtures as NSString).appendingPathComponent(name))
    }

    @Test(
        "the bundled consistency fixtures pass",
        arguments: ["consistency-logout-elsewhere.json", "consistency-write-limit.json"])
    func bundled(_ name: String) async throws {
        let result = await runner.run(try load(name))
        #expect(result.outcome == .passed, "\(result.failures)")
    }

    @Test("without the simulator the logout fixture fails where it shows staleness: KV is then strongly consistent")
    func logoutNeedsTheSimulator() async throws {
        var fixture = try load("consistency-logout-elsewhere.json")
        fixture.consistency = nil
        let result = await runner.run(fixture)
        #expect(result.outcome == .failed)
        #expect(
            result.failures.first?.hasPrefix(#"steps[7] (GET /me): expect.status: expected 200, got 401"#) == true,
            "\(result.failures)")
    }

    @Test("without the simulator, or with writeLimit false, there is no write limit: the 429 step fails")
    func writeLimitNeedsTheSimulator() async throws {
        var fixture = try load("consistency-write-limit.json")
        fixture.consistency?.writeLimit = false
        let unlimited = await runner.run(fixture)
        fixture.consistency = nil
        let result = await runner.run(fixture)
        #expect(result.failures.first?.hasPrefix("steps[3] (GET /): expect.status: expected 429, got 200") == true)
        #expect(unlimited.failures.first?.hasPrefix("steps[3] (GET /): expect.status: expected 429, got 200") == true)
    }

    @Test("the propagation delay is exact: one second early the other location still sees the session")
    func propagationBoundary() async throws {
        var fixture = try load("consistency-logout-elsewhere.json")
        guard case .advance(59) = fixture.steps[8] else { throw Failure("steps[8] is no longer advance 59") }
        fixture.steps[8] = .advance(60)
        let result = await runner.run(fixture)
        #expect(result.failures.first?.hasPrefix("steps[9] (GET /me): expect.status: expected 200, got 401") == true)
    }

    @Test("each request is routed to its location, sent as X-EdgeKV-Location; no location means \"default\"")
    func locationRouting() async throws {
        let result = await runner.run(
            try parseFixture(
                #"""
                {"name": "routing", "app": "notes",
                 "consistency": {"propagation": 10, "cacheTtl": 30, "writeLimit": true},
                 "steps": [
                  {"request": {"path": "/echo", "location": "eu"}, "expect": {"json": {"location": "eu"}}},
                  {"request": {"path": "/echo"}, "expect": {"json": {"location": null}}},
                  {"request": {"path": "/kv/k", "location": "eu"}, "expect": {"status": 404},
                   "comment": "eu caches the miss for cacheTtl"},
                  {"request": {"method": "PUT", "path": "/kv/k", "body": "v1", "location": "us"},
                   "expect": {"status": 204}},
                  {"request": {"path": "/kv/k", "location": "us"}, "expect": {"status": 200, "body": "v1"}},
                  {"request": {"path": "/kv/k", "location": "ap"}, "expect": {"status": 404},
                   "comment": "ap has not seen it"},
                  {"request": {"method": "PUT", "path": "/kv/k", "body": "v2", "location": "us"},
                   "expect": {"status": 500},
                   "comment": "a second write to the key within a second: KV's 429, an error for this app"},
                  {"expectKV": {"DATA": {"values": {"k": "v1"}}}},
                  {"advance": 10},
                  {"request": {"path": "/kv/k"}, "expect": {"status": 200, "body": "v1"},
                   "comment": "propagated to default, which had cached nothing"},
                  {"request": {"path": "/kv/k", "location": "eu"}, "expect": {"status": 404},
                   "comment": "eu's cached miss outlives propagation"},
                  {"advance": 20},
                  {"request": {"path": "/kv/k", "location": "eu"}, "expect": {"status": 200, "body": "v1"}}
                ]}
                """#))
        #expect(result.outcome == .passed, "\(result.failures)")
    }

    @Test("the demo: a login in one location is not seen elsewhere until propagation (and the negative cache)")
    func demoLoginElsewhere() async throws {
        let result = await runner.run(
            try parseFixture(
                #"""
                {"name": "login elsewhere", "consistency": {"propagation": 5, "cacheTtl": 60},
                 "steps": [
                  {"request": {"method": "POST", "path": "/login", "json": {"user": "ann"}, "location": "us"},
                   "expect": {"status": 200, "cookies": {"session": {"set": true}}}},
                  {"request": {"path": "/me", "location": "us"}, "expect": {"status": 200, "json": {"user": "ann"}}},
                  {"request": {"path": "/me", "location": "eu"}, "expect": {"status": 401}},
                  {"advance": 5},
                  {"request": {"path": "/me", "location": "ap"}, "expect": {"status": 200, "json": {"user": "ann"}}},
                  {"request": {"path": "/me", "location": "eu"}, "expect": {"status": 401}},
                  {"advance": 55},
                  {"request": {"path": "/me", "location": "eu"}, "expect": {"status": 200, "json": {"user": "ann"}}}
                ]}
                """#))
        #expect(result.outcome == .passed, "\(result.failures)")
    }
}
