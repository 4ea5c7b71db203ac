import EdgeKVTestSupport
import EdgeSpawn
import Foundation
import Testing

/// `edgekv api` as a child: secrets from the environment and from files, checked over a real socket.
@Suite("edgekv api")
struct APICommandTests {
    static let token = "t0ken-from-a-file-3141"
    static let key = "g1obal-key-from-env-2718"
    static let namespaces = "/client/v4/accounts/acc/storage/kv/namespaces"

    /// `env VARIABLES edgekv api --port 0 ARGUMENTS`, once it listens; returns the child and its port.
    static func start(
        _ box: Sandbox, environment: [String] = [], _ arguments: [String]
    ) async throws -> (
        ChildProcess, Int
    ) {
        try await startAPIProcess(box, environment: environment, arguments)
    }

    static func stop(_ child: ChildProcess) async throws {
        child.signal(SIGINT)
        #expect(try await child.waitForExit() == .exited(0), "stderr: \(child.stderr)")
    }

    /// The child's command line as `ps` shows it.
    static func commandLine(_ child: ChildProcess) throws -> String {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: "/proc/\(child.pid)/cmdline"))
        return String(decoding: bytes.map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
    }

    @Test("EDGEKV_API_AUTH_KEY stands for --auth-key: without it a request is refused, with it answered")
    func authKeyFromEnvironment() async throws {
        let box = try Sandbox()
        let (child, port) = try await Self.start(
            box, environment: ["EDGEKV_API_AUTH_KEY=\(Self.key)"], ["--auth-email", "dev@example.com"])
        #expect(child.stdoutLines.contains("  auth:       required (token not shown)"), "\(child.stdoutLines)")
        #expect(try !Self.commandLine(child).contains(Self.key))
        let client = HTTPTestClient(port: port)
        let none = try await client.request("GET", Self.namespaces)
        let wrong = try await client.request(
            "GET", Self.namespaces, headers: [("X-Auth-Email", "dev@example.com"), ("X-Auth-Key", "wrong")])
        let right = try await client.request(
            "GET", Self.namespaces, headers: [("X-Auth-Email", "dev@example.com"), ("X-Auth-Key", Self.key)])
        try await Self.stop(child)
        #expect(none.status == 401, "\(none.text)")
        #expect(wrong.status == 403, "\(wrong.text)")
        #expect(right.status == 200, "\(right.text)")
    }

    @Test("--token-file and --auth-key-file: the secrets come from files, trailing newline dropped")
    func secretFiles() async throws {
        let box = try Sandbox()
        let tokenFile = try box.file("token", "\(Self.token)\n")
        let keyFile = try box.file("key", "\(Self.key)\r\n")
        let (child, port) = try await Self.start(
            box, ["--token-file", tokenFile, "--auth-email", "dev@example.com", "--auth-key-file", keyFile])
        let client = HTTPTestClient(port: port)
        let none = try await client.request("GET", Self.namespaces)
        let bearer = try await client.request(
            "GET", Self.namespaces, headers: [("Authorization", "Bearer \(Self.token)")])
        let key = try await client.request(
            "GET", Self.namespaces, headers: [("X-Auth-Email", "dev@example.com"), ("X-Auth-Key", Self.key)])
        try await Self.stop(child)
        #expect(none.status == 401, "\(none.text)")
        #expect(bearer.status == 200, "\(bearer.text)")
        #expect(key.status == 200, "\(key.text)")
    }

    @Test("secret options that conflict or are missing are usage errors that print no secret")
    func usageErrors() async throws {
        let box = try Sandbox()
        let tokenFile = try box.file("token", Self.token)
        let empty = try box.file("empty", "\n")
        let edgekv = try ChildProcess.builtProduct("edgekv")
        let cases: [([String], Int32, String)] = [
            (["--token", Self.token, "--token-file", tokenFile], 64, "give --token or --token-file, not both."),
            (
                ["EDGEKV_API_AUTH_KEY=\(Self.key)"], 64,
                "--auth-email and --auth-key (or --auth-key-file, EDGEKV_API_AUTH_KEY) go together."
            ),
            (["--token-file", empty], 1, "\(empty) is empty"),
            (["--token-file", box.root.file("missing")], 1, "cannot read \(box.root.file("missing"))"),
        ]
        for (arguments, status, message) in cases {
            let environment = arguments.filter { $0.contains("=") }
            let options = arguments.filter { !$0.contains("=") }
            let result = try await EdgeKVProcess.run(
                executable: "/usr/bin/env",
                arguments: environment + [edgekv, "api", "--port", "0", "--persist-to", box.state] + options,
                directory: box.work, stdin: .none, timeout: .seconds(30))
            #expect(result.status == status, "\(result)")
            #expect(result.stderr.contains(message), "\(result)")
            for secret in [Self.key, Self.token] {
                #expect(!result.stderr.contains(secret) && !result.stdoutText.contains(secret), "\(result)")
            }
        }
    }

    @Test("each request is logged on stderr with its method, path and status, as serve logs them")
    func accessLog() async throws {
        let box = try Sandbox()
        let (child, port) = try await Self.start(box, [])
        let client = HTTPTestClient(port: port)
        #expect(try await client.request("GET", Self.namespaces).status == 200)
        #expect(try await client.request("GET", Self.namespaces + "/nope/values/k").status == 404)
        try await Self.stop(child)
        let lines = child.stderr.split(separator: "\n")
        #expect(lines.contains { $0.contains("GET \(Self.namespaces) 200") }, "\(child.stderr)")
        #expect(lines.contains { $0.contains("GET \(Self.namespaces)/nope/values/k 404") }, "\(child.stderr)")
    }

    @Test("--help names the environment and file alternative of each secret flag")
    func help() async throws {
        let help = try await Sandbox().run(["api", "--help"]).stdoutText
        for text in ["EDGEKV_API_TOKEN", "EDGEKV_API_AUTH_KEY", "--token-file", "--auth-key-file"] {
            #expect(help.contains(text), "\(help)")
        }
    }
}
