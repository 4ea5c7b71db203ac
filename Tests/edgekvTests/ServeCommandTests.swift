import EdgeKVTestSupport
import Foundation
import Testing

@Suite("edgekv serve")
struct ServeCommandTests {
    static let signedKeys = "ijAJR/urPma6sQD9s7kLJxl8/1tOg2z2Cal3w3B1jSnZWkXMr+xuYr5FR/WwKw9fosfpsIkBgT3ydL/qOLkAuw=="

    /// Stops `server` with `signal`, requiring a clean exit within a few seconds.
    static func stop(_ server: ServeProcess, _ signal: Int32 = SIGINT) async throws {
        let (termination, elapsed) = try await server.stop(signal)
        #expect(termination == .exited(0), "stderr: \(server.child.stderr)")
        #expect(elapsed < .seconds(5), "edgekv serve took \(elapsed) to exit")
    }

    @Test("--record: a driven flow is recorded as a complete fixture, secrets redacted, and it replays green")
    func recordAndReplay() async throws {
        let box = try Sandbox()
        let record = box.root.file("recorded.json")
        let server = try await ServeProcess(box, ["--persist-to", box.state, "--record", record])
        #expect(server.child.stdoutLines.contains("Recording requests to \(record)"))
        let empty = try JSONDecoder().decode(JSON.self, from: Data(contentsOf: URL(fileURLWithPath: record)))
        #expect(empty["steps"] == [], "the file is a valid fixture from the start")

        let client = server.client
        let first = try await client.request("GET", "/")
        #expect(first.status == 200)
        #expect(try first.json() == ["visits": 1])
        let id = try #require(first.cookie("session"))
        let second = try await client.request("GET", "/", headers: [("Cookie", "session=\(id)")])
        #expect(try second.json() == ["visits": 2])
        let login = try await client.request(
            "POST", "/login",
            headers: [
                ("Cookie", "session=\(id)"), ("Content-Type", "application/json"),
                ("Authorization", "Bearer s3cr3t-token"), ("X-Auth-Key", "k3y-value"),
            ],
            body: Array(#"{"user": "alice"}"#.utf8))
        #expect(login.status == 200)
        let newID = try #require(login.cookie("session"))
        #expect(newID != id, "login regenerates the id")
        let cookie = ("Cookie", "session=\(newID)")
        let bad = try await client.request(
            "POST", "/login", headers: [cookie, ("Content-Type", "application/json")], body: Array("garbage".utf8))
        #expect(bad.status == 400)
        let me = try await client.request("GET", "/me", headers: [cookie])
        #expect(try me.json() == ["user": "alice", "visits": 2])
        #expect(try await client.request("GET", "/nope", headers: [cookie]).status == 404)
        let logout = try await client.request("POST", "/logout", headers: [cookie])
        #expect(logout.setCookies.first?.contains("Max-Age=0") == true)
        #expect(try await client.request("GET", "/me").status == 401)
        try await Self.stop(server)

        let text = try String(contentsOfFile: record, encoding: .utf8)
        #expect(!text.contains("s3cr3t-token") && !text.contains("k3y-value"), "secrets must not be recorded")
        #expect(!text.contains(id) && !text.contains(newID), "session ids are not recorded: the jar replays them")
        let fixture = try JSONDecoder().decode(JSON.self, from: Data(text.utf8))
        let steps = try #require(fixture["steps"]?.arrayValue)
        #expect(fixture["name"]?.stringValue?.hasPrefix("recorded ") == true)
        #expect(
            steps.map {
                "\($0["request"]?["method"]?.stringValue ?? "?") \($0["request"]?["path"]?.stringValue ?? "?")"
            }
                == [
                    "GET /", "GET /", "POST /login", "POST /login", "GET /me", "GET /nope", "POST /logout", "GET /me",
                ])
        #expect(steps.map { $0["expect"]?["status"]?.numberValue } == [200, 200, 200, 400, 200, 404, 200, 401])
        let loginRequest = try #require(steps[2]["request"])
        #expect(loginRequest["headers"]?["Authorization"] == "[redacted]")
        #expect(loginRequest["headers"]?["X-Auth-Key"] == "[redacted]")
        #expect(loginRequest["headers"]?["Cookie"] == nil)
        #expect(loginRequest["json"] == ["user": "alice"])
        #expect(steps[3]["request"]?["body"] == "garbage")
        #expect(steps[4]["expect"]?["json"] == ["user": "alice", "visits": 2])
        // A new value is `set`, the unchanged re-send of steps[1] records nothing, a response that leaves the
        // client's cookie alone is `set: false`, logout is `cleared`, and a request without a cookie expects nothing.
        let cookieExpectations: [JSON?] = [
            ["set": true], nil, ["set": true], ["set": false], ["set": false], ["set": false], ["cleared": true], nil,
        ]
        #expect(steps.map { $0["expect"]?["cookies"]?["session"] } == cookieExpectations)

        let replay = try await box.run(["replay", record])
        #expect(replay.status == 0, "\(replay)")
        #expect(replay.stdoutText.split(separator: "\n").last == "1 passed, 0 failed")

        // The recording needs no in-process state: it also replays over HTTP against a fresh server.
        let fresh = try await ServeProcess(box, ["--persist-to", box.root.file("fresh-state")])
        let live = try await box.run(["replay", record, "--target", fresh.baseURL])
        try await Self.stop(fresh)
        #expect(live.status == 0, "\(live)")
        #expect(live.stdoutText.split(separator: "\n").last == "1 passed, 0 failed")
    }

    @Test("--record with a file that cannot be written is a clear error at startup")
    func recordUnwritable() async throws {
        let box = try Sandbox()
        let path = box.root.file("missing-folder/recorded.json")
        let result = try await box.run(["serve", "--port", "0", "--persist-to", box.state, "--record", path])
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains("cannot write the record file \(path)"), "\(result)")
    }

    @Test("SIGTERM stops the server as promptly as SIGINT, the record file complete")
    func sigterm() async throws {
        let box = try Sandbox()
        let record = box.root.file("recorded.json")
        let server = try await ServeProcess(box, ["--persist-to", box.state, "--record", record])
        #expect(try await server.client.request("GET", "/").status == 200)
        try await Self.stop(server, SIGTERM)
        let fixture = try JSONDecoder().decode(JSON.self, from: Data(contentsOf: URL(fileURLWithPath: record)))
        #expect(fixture["steps"]?.arrayValue?.count == 1)
    }

    @Test("--var SESSION_STORE=signed: the cookie carries the signed session and KV stays empty; the default is KV")
    func signedStore() async throws {
        let box = try Sandbox()
        let signedState = box.root.file("signed-state")
        let signed = try await ServeProcess(
            box,
            ["--persist-to", signedState, "--var", "SESSION_STORE=signed", "--var", "SESSION_KEYS=\(Self.signedKeys)"])
        #expect(signed.banner.contains("store signed"), "\(signed.banner)")
        let response = try await signed.client.request("GET", "/")
        try await Self.stop(signed)
        let value = try #require(response.cookie("session"))
        let parts = value.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        #expect(parts.count == 3, "signed: b64u(HMAC) . expiry . data, got \(value)")
        #expect(
            parts.last?.removingPercentEncoding == #"{"visits":1}"#, "the data is readable, not changeable: \(value)")
        let signedKeys = try await box.run([
            "kv", "key", "list", "--namespace-id", "SESSIONS", "--persist-to", signedState,
        ])
        #expect(signedKeys.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "[]", "\(signedKeys)")

        let kv = try await ServeProcess(box, ["--persist-to", box.state])
        #expect(kv.banner.contains("store kv"), "\(kv.banner)")
        let kvResponse = try await kv.client.request("GET", "/")
        try await Self.stop(kv)
        let id = try #require(kvResponse.cookie("session"))
        #expect(id.count == 43 && !id.contains("."), "a KV session id, got \(id)")
        #expect(try await box.keyNames("SESSIONS") == [id])
    }

    @Test("--var repeats, the last one of a name wins, and a malformed one is a usage error")
    func vars() async throws {
        let box = try Sandbox()
        let server = try await ServeProcess(
            box, ["--persist-to", box.state, "--var", "SESSION_MAX_AGE=10", "--var", "SESSION_MAX_AGE=60"])
        let response = try await server.client.request("GET", "/")
        try await Self.stop(server)
        #expect(response.setCookies.first?.contains("Max-Age=60") == true, "\(response.setCookies)")

        for bad in ["FOO", "=x"] {
            let result = try await box.run(["serve", "--port", "0", "--persist-to", box.state, "--var", bad])
            #expect(result.status == 64, "\(result)")
            #expect(result.stderr.contains("--var takes NAME=VALUE, got \"\(bad)\"."), "\(result)")
        }
    }

    @Test("an invalid demo env from --var: a warning naming the variable at startup, 500 naming it per request")
    func invalidEnv() async throws {
        let box = try Sandbox()
        for (vars, variable) in [
            (["SESSION_STORE=postgres"], "SESSION_STORE"),
            (["SESSION_STORE=signed"], "SESSION_KEYS"),
            (["SESSION_STORE=encrypted", "SESSION_KEYS=not base64!"], "SESSION_KEYS"),
            (["SESSION_MAX_AGE=soon"], "SESSION_MAX_AGE"),
        ] {
            let server = try await ServeProcess(box, ["--persist-to", box.state] + vars.flatMap { ["--var", $0] })
            let response = try await server.client.request("GET", "/")
            try await Self.stop(server)
            #expect(response.status == 500, "\(vars)")
            #expect(response.text.contains(variable), "\(vars): \(response.text)")
            #expect(server.child.stderr.contains("warning: every request will answer 500:"), "\(vars)")
            #expect(server.child.stderr.contains(variable), "\(vars): \(server.child.stderr)")
        }
    }

    @Test("--consistency eventual: a login in one location is stale in another, by X-EdgeKV-Location or CF-IPCountry")
    func eventualConsistency() async throws {
        let box = try Sandbox()
        let server = try await ServeProcess(box, ["--persist-to", box.state, "--consistency", "eventual"])
        #expect(server.banner.contains("consistency eventual"))
        let client = server.client
        let login = try await client.request(
            "POST", "/login", headers: [("X-EdgeKV-Location", "us"), ("Content-Type", "application/json")],
            body: Array(#"{"user": "ann"}"#.utf8))
        #expect(login.status == 200)
        let cookie = ("Cookie", "session=\(try #require(login.cookie("session")))")
        let here = try await client.request("GET", "/me", headers: [cookie, ("X-EdgeKV-Location", "us")])
        #expect(here.status == 200)
        #expect(try here.json()["user"] == "ann")
        let elsewhere = try await client.request("GET", "/me", headers: [cookie, ("X-EdgeKV-Location", "eu")])
        #expect(elsewhere.status == 401, "eu has not seen the new session yet: \(elsewhere.text)")
        let byCountry = try await client.request("GET", "/me", headers: [cookie, ("CF-IPCountry", "us")])
        #expect(byCountry.status == 200, "CF-IPCountry names the location too")
        let unnamed = try await client.request("GET", "/me", headers: [cookie])
        #expect(unnamed.status == 401, "no header: the default location, which has not seen it either")
        try await Self.stop(server)

        // The same flow on the default (strong) consistency: every location sees the login at once.
        let strong = try await ServeProcess(box, ["--persist-to", box.root.file("strong")])
        let strongLogin = try await strong.client.request(
            "POST", "/login", headers: [("X-EdgeKV-Location", "us"), ("Content-Type", "application/json")],
            body: Array(#"{"user": "ann"}"#.utf8))
        let strongCookie = ("Cookie", "session=\(try #require(strongLogin.cookie("session")))")
        let strongElsewhere = try await strong.client.request(
            "GET", "/me", headers: [strongCookie, ("X-EdgeKV-Location", "eu")])
        try await Self.stop(strong)
        #expect(strongElsewhere.status == 200)

        let bad = try await box.run(["serve", "--port", "0", "--persist-to", box.state, "--consistency", "weak"])
        #expect(bad.status == 64 && bad.stderr.contains("--consistency is strong or eventual."), "\(bad)")
    }

    @Test("--consistency eventual: a location header that names no location is answered 400, before KV is read")
    func invalidLocationHeader() async throws {
        let box = try Sandbox()
        let server = try await ServeProcess(box, ["--persist-to", box.state, "--consistency", "eventual"])
        let client = server.client
        let long = String(repeating: "x", count: 50_000)
        for (header, value) in [("X-EdgeKV-Location", "us east"), ("CF-IPCountry", long), ("X-EdgeKV-Location", "")] {
            let response = try await client.request("GET", "/me", headers: [(header, value)])
            #expect(response.status == 400, "\(header): \(response.text)")
            #expect(response.text.contains("\(header) "), "\(response.text)")
            let rule = "is not a location: use 1 to 64 letters, digits, '_' or '-'"
            #expect(response.text.contains(rule), "\(response.text)")
            #expect(response.text.count < 500, "the answer does not echo the whole header")
            #expect(response.cookie("session") == nil)
        }
        let valid = try await client.request("GET", "/", headers: [("X-EdgeKV-Location", "eu-west_2")])
        #expect(valid.status == 200, "\(valid.text)")
        let unnamed = try await client.request("GET", "/")
        #expect(unnamed.status == 200, "\(unnamed.text)")
        try await Self.stop(server)

        let help = try await box.run(["serve", "--help"])
        let words = help.stdoutText.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(words.contains("a header naming anything else is answered 400"), "\(help)")
    }
}
