import EdgeKV
import EdgeKVAPI
import EdgeKVSQLite
import EdgeKVTestSupport
import EdgeSpawn
import Foundation
import Testing

/// `--token`, `--auth-email`/`--auth-key` and `--account-id`.
@Suite struct AuthTests {
    static let secret = "s3cr3t-TOKEN-0123456789"
    static let globalKey = "g1obal-KEY-9876543210"

    /// Every credential a test sends, wrong or right: none of them may come back.
    static let secrets = [secret, globalKey, "wrong-\(secret)"]

    func expectNoSecret(_ response: HTTPTestResponse, sourceLocation: SourceLocation = #_sourceLocation) {
        let wire = response.headers.map(\.description).joined(separator: "\n") + "\n" + response.text
        for secret in Self.secrets {
            #expect(!wire.contains(secret), "a response leaked a credential: \(wire)", sourceLocation: sourceLocation)
        }
    }

    @Test func aTokenIsRequiredWhenConfigured() async throws {
        try await APIServer.with(KVAPI.Configuration(token: Self.secret)) { api in
            var responses: [HTTPTestResponse] = []
            func send(_ headers: [(name: String, value: String)]) async throws -> HTTPTestResponse {
                let response = try await api.send("GET", "", headers: headers)
                responses.append(response)
                return response
            }
            try expectFailure(
                try await send([]), status: 401, code: 10001, message: "Unable to authenticate request")
            for header in ["Bearer wrong-\(Self.secret)", "Bearer ", "Bearer", Self.secret, "Basic \(Self.secret)"] {
                try expectFailure(
                    try await send([("Authorization", header)]), status: 403, code: 10000,
                    message: "Authentication error")
            }
            // A key pair is not accepted when only a token is configured.
            try expectFailure(
                try await send([("X-Auth-Email", "a@b.c"), ("X-Auth-Key", Self.secret)]), status: 403, code: 10000)
            try expectSuccess(try await send([("Authorization", "Bearer \(Self.secret)")]))
            // Every route checks, including the raw value read and unknown routes.
            let ns = try await api.sending([("Authorization", "Bearer \(Self.secret)")]).createNamespace()
            try expectFailure(try await api.send("GET", "/\(ns)/values/k"), status: 401, code: 10001)
            try expectFailure(try await api.send("PUT", "/\(ns)/values/k", body: [1]), status: 401, code: 10001)
            try expectFailure(try await api.sendRaw("GET", "/nowhere"), status: 401, code: 10001)
            #expect(try await api.kv(ns).readEntry("k") == nil)
            for response in responses { expectNoSecret(response) }
        }
    }

    @Test func anEmailAndKeyPairAuthenticates() async throws {
        let configuration = KVAPI.Configuration(authEmail: "dev@example.com", authKey: Self.globalKey)
        try await APIServer.with(configuration) { api in
            let good = [("X-Auth-Email", "dev@example.com"), ("X-Auth-Key", Self.globalKey)]
            try expectSuccess(try await api.send("GET", "", headers: good))
            let cases: [([(name: String, value: String)], Int, Int64)] = [
                ([], 401, 10001),
                ([("X-Auth-Email", "dev@example.com")], 401, 10001),
                ([("X-Auth-Email", "dev@example.com"), ("X-Auth-Key", "wrong-\(Self.secret)")], 403, 10000),
                ([("X-Auth-Email", "other@example.com"), ("X-Auth-Key", Self.globalKey)], 403, 10000),
                ([("X-Auth-Key", Self.globalKey)], 403, 10000),
                ([("Authorization", "Bearer \(Self.globalKey)")], 403, 10000),
            ]
            for (headers, status, code) in cases {
                let response = try await api.send("GET", "", headers: headers)
                try expectFailure(response, status: status, code: code)
                expectNoSecret(response)
            }
        }
    }

    @Test func tokenAndKeyPairTogetherAcceptEither() async throws {
        let configuration = KVAPI.Configuration(
            token: Self.secret, authEmail: "dev@example.com", authKey: Self.globalKey)
        try await APIServer.with(configuration) { api in
            try expectSuccess(try await api.send("GET", "", headers: [("Authorization", "Bearer \(Self.secret)")]))
            // The Python SDK sends only the pair when one is configured.
            try expectSuccess(
                try await api.send(
                    "GET", "", headers: [("X-Auth-Email", "dev@example.com"), ("X-Auth-Key", Self.globalKey)]))
            try expectFailure(try await api.send("GET", ""), status: 401, code: 10001)
        }
    }

    @Test func withoutATokenAnyCredentialIsAccepted() async throws {
        try await APIServer.with { api in
            for headers in [[], [("Authorization", "Bearer anything")], [("X-Auth-Email", "x"), ("X-Auth-Key", "y")]] {
                try expectSuccess(try await api.send("GET", "", headers: headers))
            }
        }
    }

    @Test func anyAccountIDIsServedUnlessOneIsPinned() async throws {
        try await APIServer.with { api in
            for account in ["a", "023e105f4ecef8ad9ca31a8372d0c353", "with%20space"] {
                var other = api
                other.account = account
                try expectSuccess(try await other.send("GET", ""))
            }
        }
        try await APIServer.with(KVAPI.Configuration(accountID: "pinned-account")) { api in
            var pinned = api
            pinned.account = "pinned-account"
            let ns = try await pinned.createNamespace()
            try expectSuccess(try await pinned.send("PUT", "/\(ns)/values/k", body: [1]))
            for account in ["other", "pinned-accounT", "pinned-account2"] {
                var other = api
                other.account = account
                try expectFailure(try await other.send("GET", ""), status: 403, code: 10000)
                try expectFailure(try await other.send("GET", "/\(ns)/values/k"), status: 403, code: 10000)
                try expectFailure(try await other.send("DELETE", "/\(ns)/values/k"), status: 403, code: 10000)
            }
            #expect(try await api.kv(ns).readEntry("k")?.value == [1])
        }
    }

    /// `edgekv api --token T` as a subprocess: T never shows in stdout, stderr or any response.
    @Test(.timeLimit(.minutes(2)))
    func theCommandNeverPrintsTheToken() async throws {
        let state = try TemporaryDirectory()
        let child = try ChildProcess(
            try ChildProcess.builtProduct("edgekv"),
            ["api", "--port", "0", "--token", Self.secret, "--persist-to", state.path], timeout: .seconds(90))
        let first = try #require(try await child.waitForLines(atLeast: 1).first)
        let base = try #require(first.split(separator: " ").last.map(String.init))
        #expect(base.hasPrefix("http://127.0.0.1:") && base.hasSuffix("/client/v4"))
        let client = try HTTPTestClient(baseURL: String(base.dropLast("/client/v4".count)))
        let root = "/client/v4/accounts/acc/storage/kv/namespaces"
        let bearer = [("Authorization", "Bearer \(Self.secret)")]
        var responses: [HTTPTestResponse] = []
        responses.append(try await client.request("GET", root))
        responses.append(
            try await client.request("GET", root, headers: [("Authorization", "Bearer wrong-\(Self.secret)")]))
        responses.append(
            try await client.request(
                "POST", root, headers: bearer + [("Content-Type", "application/json")],
                body: Array(#"{"title":"t"}"#.utf8)))
        let created = try expectSuccess(try #require(responses.last))
        let ns = try #require(created["id"]?.stringValue)
        responses.append(try await client.request("PUT", "\(root)/\(ns)/values/k", headers: bearer, body: [1, 2]))
        responses.append(try await client.request("GET", "\(root)/\(ns)/values/k", headers: bearer))
        #expect(responses.last?.body == [1, 2])
        responses.append(try await client.request("GET", "\(root)/\(ns)/values/missing", headers: bearer))
        responses.append(try await client.request("POST", "\(root)/\(ns)/bulk", headers: bearer, body: Array("{".utf8)))
        responses.append(try await client.request("GET", "/nowhere", headers: bearer))
        try expectFailure(responses[0], status: 401, code: 10001)
        try expectFailure(responses[1], status: 403, code: 10000)
        for response in responses { expectNoSecret(response) }

        child.signal(SIGTERM)
        #expect(try await child.waitForExit() == .exited(0))
        let output = child.stdoutLines.joined(separator: "\n") + child.stderr
        #expect(output.contains("token not shown"))
        for secret in Self.secrets { #expect(!output.contains(secret), "\(output)") }
    }
}
