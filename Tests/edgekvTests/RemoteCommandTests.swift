import EdgeKVTestSupport
import EdgeSpawn
import Foundation
import Testing

/// `edgekv kv … --remote` and `edgekv serve --remote` against an `edgekv api` child over a real socket: the CLI's
/// CLOUDFLARE_* configuration, the REST client and the API server end to end. The client runs in a sandbox of its
/// own, so what lands is read from the api's state, and the client's working directory must stay empty.
@Suite("--remote against edgekv api")
struct RemoteCommandTests {
    static let token = "remote-cli-t0ken-5a8e1f29"
    static let account = "0123456789abcdef0123456789abcdef"

    /// An `edgekv api` child over its own sandbox's state, requiring ``token`` (from EDGEKV_API_TOKEN) and serving
    /// only ``account``.
    struct API {
        /// The api's sandbox: its state is what the remote commands change.
        let box: Sandbox
        let child: ChildProcess
        let port: Int

        static func start() async throws -> API {
            let box = try Sandbox()
            let (child, port) = try await startAPIProcess(
                box, environment: ["EDGEKV_API_TOKEN=\(RemoteCommandTests.token)"],
                ["--account-id", RemoteCommandTests.account])
            return API(box: box, child: child, port: port)
        }

        var baseURL: String { "http://127.0.0.1:\(port)/client/v4" }

        /// The variables that point the CLI at this api, with `overrides` replacing (or, as "", blanking) them.
        func environment(_ overrides: [String: String] = [:]) -> [String: String] {
            [
                "CLOUDFLARE_API_BASE_URL": baseURL, "CLOUDFLARE_ACCOUNT_ID": RemoteCommandTests.account,
                "CLOUDFLARE_API_TOKEN": RemoteCommandTests.token,
            ].merging(overrides) { _, override in override }
        }

        /// The lines of the access log naming `path` (below the account's namespaces).
        func requests(_ path: String) -> [Substring] {
            let root = "/client/v4/accounts/\(RemoteCommandTests.account)/storage/kv/namespaces"
            return child.stderr.split(separator: "\n").filter { $0.contains(" \(root)\(path)") }
        }

        func stop() async throws {
            child.signal(SIGINT)
            #expect(try await child.waitForExit() == .exited(0), "stderr: \(child.stderr)")
        }
    }

    /// `edgekv kv ARGUMENTS --remote` in `client`'s working directory with `environment`.
    static func remote(
        _ client: Sandbox, _ environment: [String: String], _ arguments: String..., stdin: [UInt8]? = nil
    ) async throws -> CLIResult {
        try await client.run(["kv"] + arguments + ["--remote"], stdin: stdin, environment: environment)
    }

    /// Like ``remote(_:_:_:stdin:)``, and requires exit status 0.
    @discardableResult
    static func ok(
        _ client: Sandbox, _ environment: [String: String], _ arguments: String..., stdin: [UInt8]? = nil
    ) async throws -> CLIResult {
        let result = try await client.run(["kv"] + arguments + ["--remote"], stdin: stdin, environment: environment)
        guard result.status == 0 else { throw CLIFailure("expected success: \(result)") }
        return result
    }

    /// The namespaces of the api's state as `{id, title}` objects, read locally (not through the api).
    static func localNamespaces(_ api: API) async throws -> [JSON] {
        try #require(try await api.box.ok("namespace", "list").json().arrayValue)
    }

    /// Every remote command ran without writing local state, or anything else, in the client's working directory.
    static func expectNothingLocal(_ client: Sandbox, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let written = try FileManager.default.contentsOfDirectory(atPath: client.work)
        #expect(written.isEmpty, "--remote wrote \(written) in the working directory", sourceLocation: sourceLocation)
    }

    @Test("kv namespace create, list, rename (by id and by title) and delete --remote change the api's state")
    func namespaces() async throws {
        let api = try await API.start()
        defer { if api.child.isRunning { api.child.signal(SIGKILL) } }
        let client = try Sandbox()
        let env = api.environment()

        let create = try await Self.ok(client, env, "namespace", "create", "remote-store")
        let id = create.stdoutText.trimmingCharacters(in: .newlines)
        #expect(id.count == 32 && id.allSatisfy(\.isHexDigit), "stdout is the new id alone: \(create)")
        #expect(create.stderr.contains("Created KV namespace \"remote-store\" with id \(id)"), "\(create)")
        #expect(create.stderr.contains("binding = \"remote_store\"\nid = \"\(id)\""), "\(create)")
        #expect(try await Self.localNamespaces(api) == [["id": .string(id), "title": "remote-store"]])

        let duplicate = try await Self.remote(client, env, "namespace", "create", "remote-store")
        #expect(duplicate.status == 1 && duplicate.stdout.isEmpty, "\(duplicate)")
        #expect(
            duplicate.stderr.contains(
                "a namespace with this account ID and title already exists: remote-store [code: 10014]"),
            "\(duplicate)")

        try await Self.ok(client, env, "namespace", "create", "another")
        let list = try await Self.ok(client, env, "namespace", "list").json()
        #expect(list == (try await api.box.ok("namespace", "list").json()), "remote list = the api's local list")
        #expect(list.arrayValue?.compactMap { $0["title"]?.stringValue } == ["another", "remote-store"], "\(list)")

        let byID = try await Self.ok(client, env, "namespace", "rename", id, "renamed")
        #expect(byID.stdoutText == "Renamed KV namespace \(id) to \"renamed\"\n", "\(byID)")
        let byTitle = try await Self.ok(client, env, "namespace", "rename", "renamed", "--new-name", "final")
        #expect(byTitle.stdoutText == "Renamed KV namespace \(id) to \"final\"\n", "\(byTitle)")
        #expect(try await Self.localNamespaces(api).contains(["id": .string(id), "title": "final"]))

        let delete = try await Self.ok(client, env, "namespace", "delete", id)
        #expect(delete.stdoutText == "Deleted KV namespace \"final\" (\(id))\n", "\(delete)")
        #expect(try await Self.localNamespaces(api).map { $0["title"] } == ["another"])

        let missing = try await Self.remote(client, env, "namespace", "delete", id)
        #expect(missing.status == 1, "\(missing)")
        #expect(missing.stderr.contains("no KV namespace \"\(id)\""), "\(missing)")
        try await api.stop()
        try Self.expectNothingLocal(client)
    }

    @Test("kv key put, get, list and delete --remote: exact bytes, metadata and expiry round-trip through the api")
    func keys() async throws {
        let api = try await API.start()
        defer { if api.child.isRunning { api.child.signal(SIGKILL) } }
        let client = try Sandbox()
        let env = api.environment()
        let ns = try await Self.ok(client, env, "namespace", "create", "keys").stdoutText
            .trimmingCharacters(in: .newlines)
        let binary: [UInt8] = [0, 255, 1, 254, 10, 13, 0x80]
        let binaryFile = try client.file("binary", binary)
        let expiration = unixNow() + 3600

        let put = try await Self.ok(
            client, env, "key", "put", "greeting", "hello, world", "--metadata", #"{"lang":"en","n":1}"#,
            "--expiration", String(expiration), "--namespace-id", ns)
        #expect(put.stdout.isEmpty && put.stderr.isEmpty, "\(put)")
        try await Self.ok(client, env, "key", "put", "bin", "--path", binaryFile, "--namespace-id", ns)
        try await Self.ok(client, env, "key", "put", "piped", "--path", "-", "--namespace-id", ns, stdin: [1, 2, 3])
        // What landed is in the api's state, read locally.
        #expect(try await api.box.value("greeting", "--namespace-id", ns) == "hello, world")
        #expect(try await api.box.ok("key", "get", "bin", "--namespace-id", ns).stdout == binary)

        #expect(
            try await Self.ok(client, env, "key", "get", "greeting", "--namespace-id", ns).stdoutText == "hello, world")
        #expect(try await Self.ok(client, env, "key", "get", "bin", "--namespace-id", ns).stdout == binary)
        #expect(try await Self.ok(client, env, "key", "get", "piped", "--namespace-id", ns).stdout == [1, 2, 3])
        let withMetadata = try await Self.ok(
            client, env, "key", "get", "greeting", "--with-metadata", "--namespace-id", ns
        ).json()
        #expect(
            withMetadata
                == [
                    "value": "hello, world", "metadata": ["lang": "en", "n": 1],
                    "expiration": .number(Double(expiration)),
                ], "\(withMetadata)")

        let list = try await Self.ok(client, env, "key", "list", "--namespace-id", ns).json()
        #expect(
            list
                == [
                    ["name": "bin"],
                    [
                        "name": "greeting", "expiration": .number(Double(expiration)),
                        "metadata": ["lang": "en", "n": 1],
                    ],
                    ["name": "piped"],
                ], "\(list)")
        #expect(list == (try await api.box.ok("key", "list", "--namespace-id", ns).json()), "remote = local")
        let prefixed = try await Self.ok(client, env, "key", "list", "--prefix", "gr", "--namespace-id", ns).json()
        #expect(prefixed.arrayValue?.map { $0["name"] } == ["greeting"], "\(prefixed)")

        let missing = try await Self.remote(client, env, "key", "get", "nope", "--namespace-id", ns)
        #expect(missing.status == 1 && missing.stdout.isEmpty, "\(missing)")
        #expect(missing.stderr == "Value not found\n", "\(missing)")

        let delete = try await Self.ok(client, env, "key", "delete", "greeting", "--namespace-id", ns)
        #expect(delete.stdout.isEmpty, "\(delete)")
        #expect(try await Self.remote(client, env, "key", "get", "greeting", "--namespace-id", ns).status == 1)
        #expect(try await api.box.keyNames(ns) == ["bin", "piped"])
        // Deleting a missing key is not an error, remotely either.
        try await Self.ok(client, env, "key", "delete", "greeting", "--namespace-id", ns)

        // Each command went over HTTP: one PUT per value write, and the deletes.
        #expect(api.requests("/\(ns)/values/greeting").filter { $0.contains("PUT ") }.count == 1, "\(api.child.stderr)")
        #expect(api.requests("/\(ns)/values/greeting").filter { $0.contains("DELETE ") }.count == 2)
        try await api.stop()
        try Self.expectNothingLocal(client)
    }

    @Test("kv bulk put, get and delete --remote go through the bulk endpoints and land in the api's state")
    func bulk() async throws {
        let api = try await API.start()
        defer { if api.child.isRunning { api.child.signal(SIGKILL) } }
        let client = try Sandbox()
        let env = api.environment()
        let ns = try await Self.ok(client, env, "namespace", "create", "bulk").stdoutText
            .trimmingCharacters(in: .newlines)
        let expiration = unixNow() + 7200
        let items: JSON = [
            ["key": "a", "value": "alpha"],
            ["key": "b", "value": "beta", "metadata": ["v": 2], "expiration": .number(Double(expiration))],
            ["key": "c", "value": "AP8B", "base64": true],
            ["key": "d", "value": "delta"],
        ]
        let put = try await Self.ok(
            client, env, "bulk", "put", try client.file("put.json", items.serialized), "--namespace-id", ns)
        #expect(put.stderr.contains("Wrote 4 keys"), "\(put)")
        #expect(api.requests("/\(ns)/bulk").filter { $0.hasSuffix(" 200") }.count == 1, "\(api.child.stderr)")
        #expect(try await api.box.keyNames(ns) == ["a", "b", "c", "d"])
        #expect(try await api.box.ok("key", "get", "c", "--namespace-id", ns).stdout == [0, 255, 1])

        let get = try await Self.ok(
            client, env, "bulk", "get", try client.file("get.json", #"["a", "b", "missing"]"#), "--namespace-id", ns
        ).json()
        #expect(get == ["a": "alpha", "b": "beta", "missing": nil], "\(get)")
        let detailed = try await Self.ok(
            client, env, "bulk", "get", try client.file("get2.json", #"[{"name": "b"}, "d"]"#), "--with-metadata",
            "--namespace-id", ns
        ).json()
        #expect(
            detailed
                == [
                    "b": ["value": "beta", "metadata": ["v": 2], "expiration": .number(Double(expiration))],
                    "d": ["value": "delta"],
                ], "\(detailed)")
        #expect(api.requests("/\(ns)/bulk/get").count == 2, "\(api.child.stderr)")

        let delete = try await Self.ok(
            client, env, "bulk", "delete", try client.file("delete.json", #"["never-there", "a", "c"]"#),
            "--namespace-id", ns)
        #expect(
            delete.stderr.contains("Deleted 3 keys (Workers KV does not say how many of them existed)"), "\(delete)")
        #expect(try await api.box.keyNames(ns) == ["b", "d"])
        try await api.stop()
        try Self.expectNothingLocal(client)
    }

    @Test("--remote with a wrong token: Cloudflare's code and message, exit 1, and neither token is printed")
    func wrongToken() async throws {
        let api = try await API.start()
        defer { if api.child.isRunning { api.child.signal(SIGKILL) } }
        let client = try Sandbox()
        let ns = try await Self.ok(client, api.environment(), "namespace", "create", "guarded").stdoutText
            .trimmingCharacters(in: .newlines)
        let wrong = "wr0ng-\(Self.token)"
        let env = api.environment(["CLOUDFLARE_API_TOKEN": wrong])
        let commands: [[String]] = [
            ["namespace", "list"], ["namespace", "create", "intruder"],
            ["key", "put", "k", "v", "--namespace-id", ns], ["key", "get", "k", "--namespace-id", ns],
            ["key", "list", "--namespace-id", ns],
            ["bulk", "put", try client.file("put.json", #"[{"key":"k","value":"v"}]"#), "--namespace-id", ns],
        ]
        for command in commands {
            let result = try await client.run(["kv"] + command + ["--remote"], environment: env)
            #expect(result.status == 1, "\(result)")
            #expect(result.stdout.isEmpty, "\(result)")
            #expect(result.stderr.contains("10000") && result.stderr.contains("Authentication error"), "\(result)")
            for secret in [Self.token, wrong] {
                #expect(!result.stderr.contains(secret) && !result.stdoutText.contains(secret), "\(result)")
            }
        }
        // Refused writes changed nothing.
        #expect(try await Self.localNamespaces(api).map { $0["title"] } == ["guarded"])
        #expect(try await api.box.keyNames(ns) == [])
        try await api.stop()
        try Self.expectNothingLocal(client)
    }

    @Test("--remote without the account, the credentials or a usable base URL says what to set, sending nothing")
    func incompleteConfiguration() async throws {
        let api = try await API.start()
        defer { if api.child.isRunning { api.child.signal(SIGKILL) } }
        let client = try Sandbox()
        let cases: [([String: String], String)] = [
            (["CLOUDFLARE_ACCOUNT_ID": ""], "Error: no Cloudflare account: set CLOUDFLARE_ACCOUNT_ID"),
            (
                ["CLOUDFLARE_API_TOKEN": ""],
                "Error: no Cloudflare credentials: set CLOUDFLARE_API_TOKEN (or CLOUDFLARE_API_KEY and CLOUDFLARE_EMAIL)"
            ),
            (
                ["CLOUDFLARE_API_TOKEN": "", "CLOUDFLARE_API_KEY": Self.token],
                "Error: CLOUDFLARE_API_KEY is set but CLOUDFLARE_EMAIL is not; set both"
            ),
            (
                ["CLOUDFLARE_API_BASE_URL": "ftp://127.0.0.1:\(api.port)/client/v4"],
                "Error: CLOUDFLARE_API_BASE_URL is not an http(s) URL: ftp://127.0.0.1:\(api.port)/client/v4"
            ),
        ]
        for (overrides, message) in cases {
            let result = try await Self.remote(client, api.environment(overrides), "namespace", "list")
            #expect(result.status == 1 && result.stdout.isEmpty, "\(result)")
            #expect(result.stderr.trimmingCharacters(in: .newlines) == message, "\(result)")
        }
        // Another account than the one the api serves: the api's refusal, in its words.
        let other = try await Self.remote(
            client, api.environment(["CLOUDFLARE_ACCOUNT_ID": "ffffffffffffffffffffffffffffffff"]), "namespace", "list")
        #expect(other.status == 1, "\(other)")
        #expect(
            other.stderr.contains(
                "Cloudflare API error 10000 (HTTP 403): Authentication error: this server serves one account only"),
            "\(other)")
        try await api.stop()
        let served = api.child.stderr.split(separator: "\n").filter { $0.contains("/client/v4/") }
        #expect(served.count == 1, "only the request under another account reached the api: \(served)")
        try Self.expectNothingLocal(client)
    }

    @Test("serve --remote: the demo's session lands in the SESSIONS namespace of the api's state, and is read back")
    func serveRemote() async throws {
        let api = try await API.start()
        defer { if api.child.isRunning { api.child.signal(SIGKILL) } }
        let client = try Sandbox()
        let ns = try await Self.ok(client, api.environment(), "namespace", "create", "sessions").stdoutText
            .trimmingCharacters(in: .newlines)
        try client.workFile("wrangler.toml", "[[kv_namespaces]]\nbinding = \"SESSIONS\"\nid = \"\(ns)\"\n")
        let variables = api.environment().sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let server = try await ServeProcess(client, ["--remote"], environment: variables)
        defer { if server.child.isRunning { server.child.signal(SIGKILL) } }
        #expect(server.banner.contains("KV remote"), "\(server.banner)")

        let first = try await server.client.request("GET", "/")
        #expect(first.status == 200, "\(first.text)")
        #expect(try first.json() == ["visits": 1])
        let id = try #require(first.cookie("session"))
        #expect(try await api.box.keyNames(ns) == [id], "the session is in the api's state under its id")
        #expect(!api.requests("/\(ns)/values/\(id)").filter { $0.contains("PUT ") }.isEmpty, "\(api.child.stderr)")

        let second = try await server.client.request("GET", "/", headers: [("Cookie", "session=\(id)")])
        #expect(try second.json() == ["visits": 2], "the session was read back through the api")
        let (termination, _) = try await server.stop()
        #expect(termination == .exited(0), "\(server.child.stderr)")
        try await api.stop()
        let stored = try await api.box.ok("key", "get", id, "--namespace-id", ns).stdoutText
        #expect(stored.contains("\"visits\":2"), "\(stored)")
        for text in [server.child.stderr, server.child.stdoutLines.joined(separator: "\n")] {
            #expect(!text.contains(Self.token), "serve printed the token")
        }
        // Local state: untouched (the working directory holds only the config).
        #expect(try FileManager.default.contentsOfDirectory(atPath: client.work) == ["wrangler.toml"])
    }

    @Test("serve --remote without a SESSIONS binding with an id refuses to start, naming what is missing")
    func serveRemoteNeedsSessionsID() async throws {
        let client = try Sandbox()
        try client.workFile("wrangler.toml", "[[kv_namespaces]]\nbinding = \"SESSIONS\"\npreview_id = \"p\"\n")
        let env = [
            "CLOUDFLARE_API_BASE_URL": "http://127.0.0.1:9/client/v4", "CLOUDFLARE_ACCOUNT_ID": Self.account,
            "CLOUDFLARE_API_TOKEN": Self.token,
        ]
        let result = try await client.run(["serve", "--remote", "--port", "0"], environment: env)
        #expect(result.status == 1, "\(result)")
        #expect(
            result.stderr.contains("the binding \"SESSIONS\" has no id; --remote needs the namespace id"), "\(result)")
        #expect(!result.stderr.contains(Self.token))
    }
}
