import EdgeKVTestSupport
import EdgeSpawn
import Foundation
import Testing

@Suite("edgekv serve")
struct ServeCommandTests {
    static let signedKeys = "ijAJR/urPma6sQD9s7kLJxl8/1tOg2z2Cal3w3B1jSnZWkXMr+xuYr5FR/WwKw9fosfpsIkBgT3ydL/qOLkAuw=="

    /// Stops `server` with `signal`, requiring a clean exit within a few seconds.
    static func stop(_ server: ServeProcess, _ signal: Int32 = SIGINT) async throws {
        let (termination, elapsed) = try await server.stop(signal)
        #expect(termination == .exited(0), "stderr: \(server.child.stderr)")
        #expect(elapsed < ServeProcess.stopBound, "edgekv serve took \(elapsed) to exit")
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

    /// The record file parsed as JSON, requiring a complete fixture.
    static func recorded(_ path: String) throws -> JSON {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try JSONDecoder().decode(JSON.self, from: data)
    }

    @Test("--record: bodies over 64 KiB are cut and marked, the file is complete after every request, replay skips it")
    func recordLargeBodies() async throws {
        let box = try Sandbox()
        let record = box.root.file("recorded.json")
        // An invalid SESSION_MAX_AGE answers every request with a 500 that quotes the value: a response over the limit.
        let vars = try box.file("big.vars", "SESSION_MAX_AGE=\(String(repeating: "9x", count: 40_000))\n")
        let server = try await ServeProcess(
            box, ["--persist-to", box.state, "--record", record, "--var-file", vars])
        let text = [UInt8](repeating: UInt8(ascii: "a"), count: 300_000)
        let json = Array(#"{"password": "hunter2-secret", "text": ""#.utf8) + text + Array(#""}"#.utf8)
        let binary = [UInt8](repeating: 0xFF, count: 100_000)
        let requests: [(headers: [(name: String, value: String)], body: [UInt8]?)] = [
            ([], nil), ([("Content-Type", "text/plain")], text), ([("Content-Type", "application/json")], json),
            ([], binary),
        ]
        for (i, request) in requests.enumerated() {
            let method = request.body == nil ? "GET" : "POST"
            let response = try await server.client.request(method, "/", headers: request.headers, body: request.body)
            #expect(response.status == 500)
            if i == 0 { #expect(response.body.count > 64 * 1024, "the response quotes the value") }
            // Complete after every request, not only at exit.
            #expect(try Self.recorded(record)["steps"]?.arrayValue?.count == i + 1)
        }
        try await Self.stop(server)

        let size = try FileManager.default.attributesOfItem(atPath: record)[.size] as? Int ?? .max
        #expect(size < 4 * 100_000, "each step keeps at most 64 KiB of body, got a file of \(size) bytes")
        let fileText = try String(contentsOfFile: record, encoding: .utf8)
        #expect(!fileText.contains("hunter2-secret"), "a cut JSON body is redacted before it is cut")
        let steps = try #require(try Self.recorded(record)["steps"]?.arrayValue)
        #expect(steps[0]["expect"] == ["status": 500], "no body expectation for a response over the limit")
        let cutText = try #require(steps[1]["request"])
        #expect(cutText["truncated"] == 300_000)
        #expect(cutText["body"]?.stringValue?.utf8.count == 64 * 1024)
        let cutJSON = try #require(steps[2]["request"])
        #expect(cutJSON["truncated"]?.numberValue == Double(json.count))
        #expect(cutJSON["json"] == nil && cutJSON["headers"]?["Content-Type"] == "application/json")
        #expect(cutJSON["body"]?.stringValue?.hasPrefix(#"{"password":"[redacted]","text":"aaa"#) == true)
        let cutBinary = try #require(steps[3]["request"])
        #expect(cutBinary["truncated"] == 100_000)
        #expect(cutBinary["base64"]?.stringValue.flatMap { Data(base64Encoded: $0) } == Data(binary.prefix(64 * 1024)))

        let replay = try await box.run(["replay", record])
        // Skipped, never passed; and a run in which nothing passed fails.
        #expect(replay.status == 1 && replay.stderr.contains("no fixture passed"), "\(replay)")
        #expect(
            replay.stdoutText.contains(
                "skipped, steps[1].request.body was cut when recorded (65536 of 300000 bytes kept)"),
            "\(replay)")
        #expect(replay.stdoutText.split(separator: "\n").last == "0 passed, 0 failed, 1 skipped")
    }

    @Test("--record redacts secret headers, query and form parameters and JSON members at any depth; the file is 0600")
    func recordRedacts() async throws {
        let box = try Sandbox()
        let record = box.root.file("recorded.json")
        // An existing file readable by all is truncated and tightened.
        try Data("old".utf8).write(to: URL(fileURLWithPath: record))
        #expect(chmod(record, 0o644) == 0)
        let server = try await ServeProcess(
            box, ["--persist-to", box.state, "--record", record, "--force", "--redact", "FINGERPRINT"])
        let mode = try FileManager.default.attributesOfItem(atPath: record)[.posixPermissions] as? Int
        #expect(mode == 0o600, "mode \(String(mode ?? 0, radix: 8))")
        let client = server.client
        let login = try await client.request(
            "POST", "/login?token=tok-v1&API_KEY=apikey-v2&next=%2Fme",
            headers: [
                ("X-Csrf", "csrf-v3"), ("X-Jwt", "jwt-v4"), ("X-Signature", "sig-v5"),
                ("X-Device-Fingerprint", "fp-v6"),
                ("X-Request-Id", "visible-id"), ("Content-Type", "application/json"),
            ],
            body: Array(
                #"{"user": "alice", "password": "pw-v7", "profile": {"Session_Token": "nested-v8", "city": "Oslo"}, "#
                    .utf8) + Array(#""devices": [{"secret": "list-v9"}]}"#.utf8))
        #expect(login.status == 200)
        let cookie = ("Cookie", "session=\(try #require(login.cookie("session")))")
        let form = try await client.request(
            "POST", "/nope", headers: [cookie, ("Content-Type", "application/x-www-form-urlencoded")],
            body: Array("user=bob&pass%77d=form-v10&monkey=m-v11".utf8))
        #expect(form.status == 404)
        #expect(try await client.request("GET", "/me", headers: [cookie]).status == 200)
        try await Self.stop(server)

        let text = try String(contentsOfFile: record, encoding: .utf8)
        for secret in ["tok-v1", "apikey-v2", "csrf-v3", "jwt-v4", "sig-v5", "fp-v6", "pw-v7", "nested-v8", "list-v9"]
            + ["form-v10", "m-v11"]
        {
            #expect(!text.contains(secret), "\(secret) is recorded: \(text)")
        }
        let steps = try #require(try Self.recorded(record)["steps"]?.arrayValue)
        let request = try #require(steps.first?["request"])
        #expect(request["path"] == "/login?token=%5Bredacted%5D&API_KEY=%5Bredacted%5D&next=%2Fme")
        #expect(
            request["headers"]
                == [
                    "X-Csrf": "[redacted]", "X-Jwt": "[redacted]", "X-Signature": "[redacted]",
                    "X-Device-Fingerprint": "[redacted]", "X-Request-Id": "visible-id",
                ])
        #expect(
            request["json"]
                == [
                    "user": "alice", "password": "[redacted]",
                    "profile": ["Session_Token": "[redacted]", "city": "Oslo"], "devices": [["secret": "[redacted]"]],
                ])
        #expect(steps[1]["request"]?["body"] == "user=bob&pass%77d=%5Bredacted%5D&monkey=%5Bredacted%5D")
        // The cookie jar still carries the session from the login to /me.
        #expect(steps.map { $0["expect"]?["cookies"]?["session"] } == [["set": true], ["set": false], ["set": false]])
        let replay = try await box.run(["replay", record])
        #expect(replay.stdoutText.split(separator: "\n").last == "1 passed, 0 failed", "\(replay)")

        // Help text is wrapped: compare with the line breaks as spaces.
        let help = try await box.run(["serve", "--help"]).stdoutText.split(whereSeparator: \.isWhitespace)
            .joined(separator: " ")
        for word in ["64 KiB", "--redact", "token", "password", "csrf", "signature", "credential", "monkey", "0600"] {
            #expect(help.contains(word), "serve --help does not say \(word)")
        }
    }

    @Test("--var-file: vars from a dotenv file keep SESSION_KEYS off the command line; --var wins over it")
    func varFile() async throws {
        let box = try Sandbox()
        let file = try box.file(
            "dev.vars",
            "# local secrets\nexport SESSION_STORE=signed\n\nSESSION_KEYS = \"\(Self.signedKeys)\"\nSESSION_MAX_AGE=10\n"
        )
        let server = try await ServeProcess(
            box, ["--persist-to", box.state, "--var-file", file, "--var", "SESSION_MAX_AGE=60"])
        let commandLine = try Data(contentsOf: URL(fileURLWithPath: "/proc/\(server.child.pid)/cmdline"))
        let response = try await server.client.request("GET", "/")
        try await Self.stop(server)
        #expect(server.banner.contains("store signed"), "\(server.banner)")
        #expect(!String(decoding: commandLine, as: UTF8.self).contains(Self.signedKeys))
        #expect(response.status == 200)
        let value = try #require(response.cookie("session"))
        #expect(value.split(separator: ".").count == 3, "a signed cookie: \(value)")
        #expect(response.setCookies.first?.contains("Max-Age=60") == true, "\(response.setCookies)")

        let bad = try box.file("bad.vars", "SESSION_STORE=signed\nhunter2-pasted-alone\n")
        let result = try await box.run(["serve", "--port", "0", "--persist-to", box.state, "--var-file", bad])
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains("\(bad):2: expected NAME=VALUE"), "\(result)")
        #expect(!result.stderr.contains("hunter2"), "the line is not repeated: \(result)")
    }

    @Test("--record with a file that cannot be written is a clear error at startup")
    func recordUnwritable() async throws {
        let box = try Sandbox()
        let blocker = try box.file("blocker", "a file, not a folder")
        let path = (blocker as NSString).appendingPathComponent("sub/recorded.json")
        let result = try await box.run(["serve", "--port", "0", "--persist-to", box.state, "--record", path])
        #expect(result.status == 1, "\(result)")
        #expect(
            result.stderr == "Error: cannot write the recording to \(path): \(blocker) is a file, not a folder\n",
            "\(result)")
    }

    @Test("--record creates missing folders; an existing file is refused without --force and left as it was")
    func recordFolderAndForce() async throws {
        let box = try Sandbox()
        let record = box.root.file("new/folders/recorded.json")
        let server = try await ServeProcess(box, ["--persist-to", box.state, "--record", record])
        #expect(try await server.client.request("GET", "/").status == 200)
        try await Self.stop(server)
        let recorded = try Data(contentsOf: URL(fileURLWithPath: record))
        #expect(try JSONDecoder().decode(JSON.self, from: recorded)["steps"]?.arrayValue?.count == 1)

        let again = try await box.run(["serve", "--port", "0", "--persist-to", box.state, "--record", record])
        #expect(again.status == 1, "\(again)")
        #expect(
            again.stderr == "Error: \(record) already exists; pass --force to overwrite it, or name another file\n",
            "\(again)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: record)) == recorded)
    }

    @Test("a port another server holds: one line naming the port and --port, exit 1")
    func portInUse() async throws {
        let box = try Sandbox()
        let server = try await ServeProcess(box, ["--persist-to", box.state])
        let second = try await box.run(["serve", "--port", "\(server.port)", "--persist-to", box.root.file("other")])
        let api = try await box.run(["api", "--port", "\(server.port)", "--persist-to", box.root.file("other")])
        let record = box.root.file("flow.json")
        let recording = try await box.run([
            "serve", "--port", "\(server.port)", "--persist-to", box.root.file("other"), "--record", record,
        ])
        try await Self.stop(server)
        for result in [second, api, recording] {
            #expect(result.status == 1, "\(result)")
            #expect(result.stderr == "Error: port \(server.port) is in use; pick another with --port\n", "\(result)")
        }
        #expect(!FileManager.default.fileExists(atPath: record), "no empty recording left to refuse the next try")
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
            #expect(response.header("Content-Type") == "application/json", "\(vars)")
            let body = try response.json()
            #expect(body["variable"] == .string(variable), "\(vars): \(response.text)")
            let error = body["error"]?.stringValue ?? ""
            #expect(error.hasPrefix("invalid configuration: ") && error.contains(variable), "\(vars): \(response.text)")
            #expect(server.child.stderr.contains("warning: every request will answer 500:"), "\(vars)")
            #expect(server.child.stderr.contains(variable), "\(vars): \(server.child.stderr)")
        }
    }

    @Test("wrong methods are 405 with Allow, a login without a string user is 400 naming the field; all JSON")
    func methodsAndLoginBody() async throws {
        let box = try Sandbox()
        let server = try await ServeProcess(box, ["--persist-to", box.state])
        let client = server.client
        var responses: [(String, HTTPTestResponse)] = []
        for (method, path) in [
            ("GET", "/login"), ("PUT", "/login"), ("POST", "/"), ("DELETE", "/me"), ("GET", "/logout"),
        ] {
            responses.append(("\(method) \(path)", try await client.request(method, path)))
        }
        let json = [("Content-Type", "application/json")]
        var logins: [(String, HTTPTestResponse)] = []
        for body in ["{}", #"{"user": null}"#, #"{"user": 7}"#, #"{"user": ""}"#, "[]", "{", ""] {
            logins.append((body, try await client.request("POST", "/login", headers: json, body: Array(body.utf8))))
        }
        let missing = try await client.request("GET", "/nowhere")
        try await Self.stop(server)
        let allow = [
            "GET /login": "POST", "PUT /login": "POST", "POST /": "GET, HEAD", "DELETE /me": "GET, HEAD",
            "GET /logout": "POST",
        ]
        for (request, response) in responses {
            #expect(response.status == 405, "\(request): \(response.status) \(response.text)")
            #expect(response.header("Allow") == allow[request], "\(request)")
            #expect(response.header("Content-Type") == "application/json", "\(request)")
            #expect(try response.json()["error"] == .string("\(request) is not allowed; use \(allow[request]!)"))
            #expect(response.setCookies.isEmpty, "\(request) starts no session")
        }
        let errors = [
            "{}": #""user" is required"#, #"{"user": null}"#: #""user" is required"#,
            #"{"user": 7}"#: #""user" must be a string"#, #"{"user": ""}"#: #""user" must not be empty"#,
            "[]": #"the request body must be a JSON object such as {"user": "alice"}"#,
            "{": #"the request body is not valid JSON; send {"user": "alice"}"#,
            "": #"the request body is not valid JSON; send {"user": "alice"}"#,
        ]
        for (body, response) in logins {
            #expect(response.status == 400, "\(body): \(response.text)")
            #expect(try response.json()["error"] == .string(errors[body]!), "\(body): \(response.text)")
        }
        #expect(missing.status == 404)
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
