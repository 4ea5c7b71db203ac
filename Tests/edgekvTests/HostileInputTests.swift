import EdgeKVTestSupport
import Foundation
import Testing

/// Values a client or a store hands in must never stop `edgekv serve`: each case runs against the real process and
/// checks it still answers afterwards.
@Suite("edgekv serve: hostile input")
struct HostileInputTests {
    static let maxInt = "9223372036854775807"

    @Test("a visit counter at Int.max in an unsigned cookie saturates instead of killing the server")
    func unsignedCounterAtMax() async throws {
        let box = try Sandbox()
        let server = try await ServeProcess(box, ["--persist-to", box.state, "--var", "SESSION_STORE=unsigned"])
        let cookie = ("Cookie", "session=%7B%22visits%22%3A\(Self.maxInt)%7D")
        let first = try await server.client.request("GET", "/", headers: [cookie])
        #expect(first.status == 200)
        #expect(first.text == #"{"visits":\#(Self.maxInt)}"#)
        // Out of Int's range or not a whole number: a fresh session, not a failure.
        for value in ["9223372036854775808", "1e400", "-9223372036854775809", "1.5"] {
            let response = try await server.client.request(
                "GET", "/", headers: [("Cookie", "session=%7B%22visits%22%3A\(value)%7D")])
            #expect(response.status == 200, "\(value)")
            #expect(response.text == #"{"visits":1}"#, "\(value): \(response.text)")
        }
        #expect(try await server.client.request("GET", "/").status == 200, "still serving")
        try await ServeCommandTests.stop(server)
    }

    @Test("a stored KV session whose counter is at Int.max saturates")
    func kvCounterAtMax() async throws {
        let box = try Sandbox()
        let id = String(repeating: "A", count: 43)
        _ = try await box.ok(
            "key", "put", "--binding", "SESSIONS", id,
            #"{"visits":\#(Self.maxInt),"user":"eve"}"#, "--metadata", #"{"expiresAt":\#(Self.maxInt)}"#)
        let server = try await ServeProcess(
            box, ["--persist-to", box.state, "--var", "SESSION_ROLLING=60", "--var", "SESSION_MAX_AGE=34560000"])
        let response = try await server.client.request("GET", "/", headers: [("Cookie", "session=\(id)")])
        #expect(response.status == 200)
        #expect(response.text == #"{"visits":\#(Self.maxInt)}"#)
        let me = try await server.client.request("GET", "/me", headers: [("Cookie", "session=\(id)")])
        #expect(me.status == 200)
        try await ServeCommandTests.stop(server)
    }

    @Test(
        "a session duration outside 1…400 days is refused with the range, and the server keeps serving",
        arguments: [
            ("SESSION_MAX_AGE", maxInt), ("SESSION_MAX_AGE", "34560001"), ("SESSION_MAX_AGE", "0"),
            ("SESSION_ROLLING", maxInt), ("SESSION_ROLLING", "-1"),
        ])
    func durationOutOfRange(variable: String, value: String) async throws {
        let box = try Sandbox()
        let server = try await ServeProcess(box, ["--persist-to", box.state, "--var", "\(variable)=\(value)"])
        #expect(server.child.stderr.contains(variable), "\(server.child.stderr)")
        for _ in 0..<2 {
            let response = try await server.client.request("GET", "/")
            #expect(response.status == 500)
            #expect(response.text.contains(variable) && response.text.contains("34560000"), "\(response.text)")
        }
        try await ServeCommandTests.stop(server)
    }

    @Test("a user name too long for a cookie store is a 400, not a 500", arguments: ["unsigned", "signed", "kv"])
    func longUserName(store: String) async throws {
        let box = try Sandbox()
        var arguments = ["--persist-to", box.state, "--var", "SESSION_STORE=\(store)"]
        if store == "signed" { arguments += ["--var", "SESSION_KEYS=\(ServeCommandTests.signedKeys)"] }
        let server = try await ServeProcess(box, arguments)
        func login(_ user: String) async throws -> HTTPTestResponse {
            try await server.client.request(
                "POST", "/login", headers: [("Content-Type", "application/json")],
                body: Array(#"{"user":"\#(user)"}"#.utf8))
        }
        let long = try await login(String(repeating: "a", count: 5000))
        #expect(long.status == 400, "\(long.text)")
        #expect(long.text.contains("at most 256 bytes"))
        #expect(try await login(String(repeating: "b", count: 256)).status == 200)
        try await ServeCommandTests.stop(server)
    }
}
