import EdgeKVTestSupport
import EdgeSpawn
import Foundation
import Testing

/// `edgekv api`'s options reach the server it runs: the token from EDGEKV_API_TOKEN alone, the key pair from flags,
/// the pinned account, and the address it binds. Each is checked over a real socket against the child.
@Suite("edgekv api options")
struct APIOptionsTests {
    static let token = "env-only-t0ken-8c4d2b7e"
    static let key = "flag-g1obal-key-6e0a93f1"
    static let email = "ops@example.com"

    static func namespaces(_ account: String = "acc") -> String {
        "/client/v4/accounts/\(account)/storage/kv/namespaces"
    }

    /// Stops the api and requires a clean exit.
    static func stop(_ child: ChildProcess) async throws {
        child.signal(SIGINT)
        #expect(try await child.waitForExit() == .exited(0), "stderr: \(child.stderr)")
    }

    /// The Cloudflare error code of an envelope answer.
    static func code(_ response: HTTPTestResponse) throws -> Double? {
        try response.json()["errors"]?.arrayValue?.first?["code"]?.numberValue
    }

    /// Everything the child printed, and its command line (read while it ran), hold none of `secrets`.
    static func expectNoSecret(
        _ child: ChildProcess, commandLine: String, _ secrets: [String],
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        for text in [child.stdoutLines.joined(separator: "\n"), child.stderr, commandLine] {
            for secret in secrets {
                #expect(!text.contains(secret), "a secret shows: \(text)", sourceLocation: sourceLocation)
            }
        }
    }

    @Test("EDGEKV_API_TOKEN alone protects the API: no token 401, a wrong one 403, the right one 200")
    func tokenFromEnvironmentAlone() async throws {
        let box = try Sandbox()
        let (child, port) = try await startAPIProcess(box, environment: ["EDGEKV_API_TOKEN=\(Self.token)"])
        defer { if child.isRunning { child.signal(SIGKILL) } }
        #expect(child.stdoutLines.contains("  auth:       required (token not shown)"), "\(child.stdoutLines)")
        let commandLine = try APICommandTests.commandLine(child)
        let client = HTTPTestClient(port: port)
        let none = try await client.request("GET", Self.namespaces())
        let write = try await client.request(
            "POST", Self.namespaces(), headers: [("Content-Type", "application/json")],
            body: Array(#"{"title":"intruder"}"#.utf8))
        let wrong = try await client.request(
            "GET", Self.namespaces(), headers: [("Authorization", "Bearer wrong-\(Self.token)")])
        let right = try await client.request(
            "GET", Self.namespaces(), headers: [("Authorization", "Bearer \(Self.token)")])
        let lowercase = try await client.request(
            "GET", Self.namespaces(), headers: [("Authorization", "bearer \(Self.token)")])
        try await Self.stop(child)
        #expect(none.status == 401, "\(none.text)")
        #expect(try Self.code(none) == 10001, "\(none.text)")
        #expect(write.status == 401, "\(write.text)")
        #expect(wrong.status == 403, "\(wrong.text)")
        #expect(try Self.code(wrong) == 10000, "\(wrong.text)")
        #expect(right.status == 200, "\(right.text)")
        #expect(lowercase.status == 200, "\(lowercase.text)")
        #expect(try await box.namespaceIDs() == [], "the refused create created nothing")
        Self.expectNoSecret(child, commandLine: commandLine, [Self.token])
    }

    @Test("--token wins over EDGEKV_API_TOKEN; an empty EDGEKV_API_TOKEN leaves the API open, as documented")
    func tokenPrecedence() async throws {
        let box = try Sandbox()
        let flag = "flag-t0ken-1d9f"
        let (child, port) = try await startAPIProcess(
            box, environment: ["EDGEKV_API_TOKEN=\(Self.token)"], ["--token", flag])
        defer { if child.isRunning { child.signal(SIGKILL) } }
        let client = HTTPTestClient(port: port)
        let byFlag = try await client.request("GET", Self.namespaces(), headers: [("Authorization", "Bearer \(flag)")])
        let byEnvironment = try await client.request(
            "GET", Self.namespaces(), headers: [("Authorization", "Bearer \(Self.token)")])
        try await Self.stop(child)
        #expect(byFlag.status == 200, "\(byFlag.text)")
        #expect(byEnvironment.status == 403, "\(byEnvironment.text)")

        let (open, openPort) = try await startAPIProcess(box, environment: ["EDGEKV_API_TOKEN="])
        defer { if open.isRunning { open.signal(SIGKILL) } }
        #expect(open.stdoutLines.contains("  auth:       any credential accepted"), "\(open.stdoutLines)")
        let anyone = try await HTTPTestClient(port: openPort).request("GET", Self.namespaces())
        try await Self.stop(open)
        #expect(anyone.status == 200, "\(anyone.text)")
    }

    @Test("--auth-email with --auth-key: the pair is accepted, a wrong email or key is 403, none is 401")
    func keyPairFromFlags() async throws {
        let box = try Sandbox()
        let (child, port) = try await startAPIProcess(box, ["--auth-email", Self.email, "--auth-key", Self.key])
        defer { if child.isRunning { child.signal(SIGKILL) } }
        #expect(child.stdoutLines.contains("  auth:       required (token not shown)"), "\(child.stdoutLines)")
        let client = HTTPTestClient(port: port)
        func send(_ headers: [(name: String, value: String)]) async throws -> HTTPTestResponse {
            try await client.request("GET", Self.namespaces(), headers: headers)
        }
        let pair = try await send([("X-Auth-Email", Self.email), ("X-Auth-Key", Self.key)])
        let otherEmail = try await send([("X-Auth-Email", "someone@example.com"), ("X-Auth-Key", Self.key)])
        let wrongKey = try await send([("X-Auth-Email", Self.email), ("X-Auth-Key", "x\(Self.key)")])
        let keyAsBearer = try await send([("Authorization", "Bearer \(Self.key)")])
        let none = try await send([])
        try await Self.stop(child)
        #expect(pair.status == 200, "\(pair.text)")
        #expect(otherEmail.status == 403, "\(otherEmail.text)")
        #expect(wrongKey.status == 403, "\(wrongKey.text)")
        #expect(keyAsBearer.status == 403, "\(keyAsBearer.text)")
        #expect(none.status == 401, "\(none.text)")
    }

    @Test("EDGEKV_API_TOKEN and EDGEKV_API_AUTH_KEY with --auth-email: either credential is accepted")
    func tokenAndKeyPairFromEnvironment() async throws {
        let box = try Sandbox()
        let (child, port) = try await startAPIProcess(
            box, environment: ["EDGEKV_API_TOKEN=\(Self.token)", "EDGEKV_API_AUTH_KEY=\(Self.key)"],
            ["--auth-email", Self.email])
        defer { if child.isRunning { child.signal(SIGKILL) } }
        let commandLine = try APICommandTests.commandLine(child)
        let client = HTTPTestClient(port: port)
        let bearer = try await client.request(
            "GET", Self.namespaces(), headers: [("Authorization", "Bearer \(Self.token)")])
        let pair = try await client.request(
            "GET", Self.namespaces(), headers: [("X-Auth-Email", Self.email), ("X-Auth-Key", Self.key)])
        let none = try await client.request("GET", Self.namespaces())
        try await Self.stop(child)
        #expect(bearer.status == 200, "\(bearer.text)")
        #expect(pair.status == 200, "\(pair.text)")
        #expect(none.status == 401, "\(none.text)")
        Self.expectNoSecret(child, commandLine: commandLine, [Self.token, Self.key])
    }

    @Test("--account-id: that account is served; any other gets Cloudflare's 403 and changes nothing")
    func accountID() async throws {
        let box = try Sandbox()
        let pinned = "3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c"
        let (child, port) = try await startAPIProcess(box, ["--account-id", pinned])
        defer { if child.isRunning { child.signal(SIGKILL) } }
        #expect(child.stdoutLines.contains("  account:    \(pinned)"), "\(child.stdoutLines)")
        let client = HTTPTestClient(port: port)
        let json = [("Content-Type", "application/json")]
        let created = try await client.request(
            "POST", Self.namespaces(pinned), headers: json, body: Array(#"{"title":"mine"}"#.utf8))
        let id = try #require(try created.json()["result"]?["id"]?.stringValue, "\(created.text)")
        var refused: [HTTPTestResponse] = []
        for account in ["other", pinned.uppercased(), pinned + "0"] {
            refused.append(try await client.request("GET", Self.namespaces(account)))
            refused.append(
                try await client.request(
                    "POST", Self.namespaces(account), headers: json, body: Array(#"{"title":"theirs"}"#.utf8)))
            refused.append(try await client.request("PUT", Self.namespaces(account) + "/\(id)/values/k", body: [1]))
        }
        let served = try await client.request("GET", Self.namespaces(pinned))
        try await Self.stop(child)
        for response in refused {
            #expect(response.status == 403, "\(response.text)")
            let error = try response.json()["errors"]?.arrayValue?.first
            #expect(error?["code"] == 10000, "\(response.text)")
            #expect(
                error?["message"] == "Authentication error: this server serves one account only", "\(response.text)")
        }
        #expect(served.status == 200, "\(served.text)")
        #expect(try served.json()["result"] == [["id": .string(id), "title": "mine", "supports_url_encoding": true]])
        #expect(try await box.keyNames(id) == [], "the refused write wrote nothing")
    }

    @Test("--host binds the address given: ::1 answers only over IPv6, 127.0.0.1 only over IPv4")
    func host() async throws {
        let box = try Sandbox()
        for (host, other, banner) in [("::1", "127.0.0.1", "[::1]"), ("127.0.0.1", "::1", "127.0.0.1")] {
            let (child, port) = try await startAPIProcess(box, ["--host", host])
            defer { if child.isRunning { child.signal(SIGKILL) } }
            let base = "http://\(banner):\(port)/client/v4"
            #expect(child.stdoutLines.first == "EdgeKV KV API listening on \(base)", "\(child.stdoutLines)")
            #expect(child.stdoutLines.contains("  wrangler:   CLOUDFLARE_API_BASE_URL=\(base)"))
            let listening = try Self.listening(child.pid)
            #expect(listening == ["\(banner):\(port)"], "\(listening)")
            let answer = try await HTTPTestClient(host: host, port: port).request("GET", Self.namespaces())
            #expect(answer.status == 200, "\(answer.text)")
            // The variable the banner prints is one the CLI can use as printed.
            let printed = try #require(
                child.stdoutLines.first { $0.hasPrefix("  wrangler:   CLOUDFLARE_API_BASE_URL=") }?
                    .dropFirst("  wrangler:   CLOUDFLARE_API_BASE_URL=".count))
            let list = try await Sandbox().run(
                ["kv", "namespace", "list", "--remote"],
                environment: [
                    "CLOUDFLARE_API_BASE_URL": String(printed), "CLOUDFLARE_ACCOUNT_ID": "acc",
                    "CLOUDFLARE_API_TOKEN": "any",
                ])
            #expect(list.status == 0 && list.stdoutText == "[]\n", "\(list)")
            await #expect(throws: HTTPTestClientError.self, "nothing listens on \(other)") {
                try await HTTPTestClient(host: other, port: port).request("GET", Self.namespaces())
            }
            try await Self.stop(child)
        }
    }

    @Test("serve --host ::1 prints a URL a client can use: the IPv6 address in brackets")
    func serveIPv6Banner() async throws {
        let box = try Sandbox()
        let server = try await ServeProcess(box, ["--host", "::1", "--persist-to", box.state])
        defer { if server.child.isRunning { server.child.signal(SIGKILL) } }
        #expect(server.banner.hasPrefix("EdgeKV demo listening on http://[::1]:\(server.port) ("), "\(server.banner)")
        #expect(try Self.listening(server.child.pid) == ["[::1]:\(server.port)"])
        let response = try await HTTPTestClient(host: "::1", port: server.port).request("GET", "/")
        #expect(response.status == 200, "\(response.text)")
        let (termination, _) = try await server.stop()
        #expect(termination == .exited(0), "\(server.child.stderr)")
    }

    @Test("--host localhost: the banner names it, and the API answers there")
    func localhost() async throws {
        let box = try Sandbox()
        let (child, port) = try await startAPIProcess(box, ["--host", "localhost"])
        defer { if child.isRunning { child.signal(SIGKILL) } }
        #expect(
            child.stdoutLines.first == "EdgeKV KV API listening on http://localhost:\(port)/client/v4",
            "\(child.stdoutLines)")
        let addresses = try Self.listening(child.pid)
        #expect(addresses.count == 1 && addresses.isSubset(of: ["127.0.0.1:\(port)", "[::1]:\(port)"]), "\(addresses)")
        let answer = try await HTTPTestClient(host: "localhost", port: port).request("GET", Self.namespaces())
        try await Self.stop(child)
        #expect(answer.status == 200, "\(answer.text)")
    }

    /// The addresses process `pid` listens on over TCP (`127.0.0.1:8788`, `[::1]:8788`): the sockets among its file
    /// descriptors that /proc/net/tcp and tcp6 list in the LISTEN state.
    static func listening(_ pid: Int32) throws -> Set<String> {
        var inodes: Set<String> = []
        for fd in try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd") {
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)"),
                target.hasPrefix("socket:[")
            else { continue }
            inodes.insert(String(target.dropFirst("socket:[".count).dropLast()))
        }
        var out: Set<String> = []
        for table in ["tcp", "tcp6"] {
            // Read to the end: these files report a size of 0 and come in pieces, and a busy machine lists many
            // sockets.
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/proc/\(pid)/net/\(table)"))
            defer { try? handle.close() }
            let text = String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self)
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ")
                // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
                guard fields.count > 9, fields[3] == "0A", inodes.contains(String(fields[9])) else { continue }
                let local = fields[1].split(separator: ":")
                guard local.count == 2, let port = Int(local[1], radix: 16) else { continue }
                out.insert("\(address(String(local[0]))):\(port)")
            }
        }
        return out
    }

    /// An address as /proc/net shows it (32-bit words of hex in host byte order) in the usual notation.
    static func address(_ hex: String) -> String {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let word = UInt32(hex[index..<hex.index(index, offsetBy: 8)], radix: 16)!
            withUnsafeBytes(of: word.littleEndian) { bytes += $0 }
            index = hex.index(index, offsetBy: 8)
        }
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        if bytes == Array(repeating: 0, count: 15) + [1] { return "[::1]" }
        return "["
            + stride(from: 0, to: 16, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
            .joined(separator: ":") + "]"
    }
}
