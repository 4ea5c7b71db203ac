import EdgeKVTestSupport
import EdgeSpawn
import Foundation
import Synchronization
import Testing

/// The crash oracle: `edgekv serve` (every session store) and `edgekv api` run as real processes and get thousands
/// of seeded, mutated requests built from valid ones. Every request must be answered, never with a 500, and the
/// process must still serve and stop cleanly afterwards.
///
/// `EDGEKV_FUZZ_SEED` (default fixed) and `EDGEKV_FUZZ_COUNT` (requests per target, default 1500) steer it;
/// `scripts/fuzz` runs it longer with a random seed. A failure names the target, the seed and the request.
@Suite("crash oracle", .serialized)
struct CrashOracleTests {
    static let environment = ProcessInfo.processInfo.environment
    static let seed = environment["EDGEKV_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x5EED_0013
    static let count = environment["EDGEKV_FUZZ_COUNT"].flatMap { Int($0) } ?? 1500
    static let redisURL = environment["EDGEKV_TEST_REDIS_URL"].flatMap { $0.isEmpty ? nil : $0 }
    static let signedKeys = ServeCommandTests.signedKeys
    /// 32 bytes: an AES-256 key.
    static let encryptionKey = "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoM="

    enum Target: String, CaseIterable, Sendable {
        case kv, signed, encrypted, unsigned, memory, redis, eventual, api

        var serveArguments: [String] {
            switch self {
            case .kv: []
            case .signed: ["--var", "SESSION_STORE=signed", "--var", "SESSION_KEYS=\(signedKeys)"]
            case .encrypted: ["--var", "SESSION_STORE=encrypted", "--var", "SESSION_KEYS=\(encryptionKey)"]
            case .unsigned, .memory: ["--var", "SESSION_STORE=\(rawValue)", "--var", "SESSION_ROLLING=0"]
            case .redis: ["--var", "SESSION_STORE=redis", "--var", "REDIS_URL=\(redisURL ?? "")"]
            case .eventual: ["--consistency", "eventual", "--var", "SESSION_ROLLING=5"]
            case .api: []
            }
        }
    }

    /// A stable per-target seed (FNV-1a of the name mixed into the run's seed).
    static func seed(for target: Target) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in target.rawValue.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0100_0000_01B3 }
        return seed ^ hash
    }

    @Test(arguments: Target.allCases)
    func survives(target: Target) async throws {
        if target == .redis, Self.redisURL == nil {
            print("crash oracle: skipping the redis store: EDGEKV_TEST_REDIS_URL is not set (scripts/test sets it)")
            return
        }
        let box = try Sandbox()
        let seed = Self.seed(for: target)
        let (child, port) = try await Self.start(target, box)
        let client = HTTPTestClient(port: port, timeout: .seconds(20))
        var mutator = RequestMutator(seed: seed)
        var generator = target == .api ? Generator.api(APIRequests()) : Generator.demo(DemoRequests())
        if case .api(var api) = generator {
            try await api.createNamespaces(client)
            generator = .api(api)
        }
        var failures = 0
        for index in 0..<Self.count where failures < 5 {
            let request: FuzzRequest
            switch generator {
            case .demo(let demo): request = demo.next(&mutator)
            case .api(let api): request = api.next(&mutator)
            }
            let context = "\(target) seed \(seed) request #\(index):\n  \(request)"
            let response: HTTPTestResponse
            do {
                response = try await client.request(
                    request.method, request.target, headers: request.headers, body: request.body)
            } catch {
                failures += 1
                Issue.record("\(context)\n→ no answer: \(error); alive: \(child.isRunning)")
                if !child.isRunning { break }
                continue
            }
            if response.status >= 500 {
                failures += 1
                Issue.record("\(context)\n→ \(response.status): \(response.text.prefix(300))")
            }
            if case .demo(var demo) = generator {
                demo.learn(from: response)
                generator = .demo(demo)
            }
        }
        #expect(child.isRunning, "\(target) seed \(seed): the process died: \(child.stderr.suffix(2000))")
        guard child.isRunning else { return }
        let check =
            target == .api
            ? try await client.request("GET", APIRequests.root, headers: [APIRequests.auth])
            : try await client.request("GET", "/")
        #expect(check.status == 200, "\(target): still serving after the run: \(check.text)")
        child.signal(SIGINT)
        let start = ContinuousClock.now
        let termination = try await child.waitForExit()
        #expect(termination == .exited(0), "\(target): \(child.stderr.suffix(2000))")
        #expect(ContinuousClock.now - start < ServeProcess.stopBound, "\(target): a hang at shutdown")
        #expect(!child.stderr.contains("Fatal error"), "\(target): \(child.stderr.suffix(2000))")
    }

    static func start(_ target: Target, _ box: Sandbox) async throws -> (ChildProcess, Int) {
        if target == .api {
            return try await startAPIProcess(box, ["--token", APIRequests.token], timeout: .seconds(900))
        }
        let serve = try await ServeProcess(
            box, ["--persist-to", box.state] + target.serveArguments, timeout: .seconds(900))
        return (serve.child, serve.port)
    }

    enum Generator {
        case demo(DemoRequests)
        case api(APIRequests)
    }

    /// The demo's routes with cookies the server handed out, then mutated.
    struct DemoRequests {
        var cookies: [String] = []

        mutating func learn(from response: HTTPTestResponse) {
            guard let value = response.cookie("session"), !value.isEmpty else { return }
            if cookies.count >= 16 { cookies.removeFirst() }
            cookies.append(value)
        }

        func next(_ m: inout RequestMutator) -> FuzzRequest {
            let routes: [(String, String, [UInt8]?)] = [
                ("GET", "/", nil), ("GET", "/me", nil), ("POST", "/login", Array(#"{"user":"alice"}"#.utf8)),
                ("POST", "/logout", nil), ("GET", "/nope", nil),
            ]
            let (method, path, body) = m.pick(routes)
            var request = FuzzRequest(method: m.method(method), target: m.target(path), headers: [], body: body)
            if let body, m.chance(40) { request.body = m.mutate(body) }
            if request.method == "POST" && request.body != nil {
                request.headers.append(("Content-Type", "application/json"))
            }
            switch m.int(6) {
            case 0: break
            case 1, 2:
                if let cookie = cookies.isEmpty ? nil : m.pick(cookies) {
                    request.headers.append(("Cookie", "session=\(cookie)"))
                }
            case 3:
                if let cookie = cookies.isEmpty ? nil : m.pick(cookies) {
                    request.headers.append(("Cookie", "session=" + m.headerValue(cookie)))
                }
            case 4:
                let json = #"{"visits":\#(m.pick(RequestMutator.tokens.prefix(8).map { $0 })),"user":"u"}"#
                let encoded = json.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? json
                request.headers.append(("Cookie", "session=" + (m.chance(50) ? encoded : m.headerValue(encoded))))
            default:
                request.headers.append(("Cookie", m.headerValue("session=a; session=b; other=c")))
            }
            request.headers += m.extraHeaders()
            return request
        }
    }

    /// The KV REST API's routes on two namespaces, with bodies built from valid ones and then mutated.
    struct APIRequests {
        static let token = "0racle-T0KEN-13"
        static let auth = ("Authorization", "Bearer \(token)")
        static let root = "/client/v4/accounts/acc/storage/kv/namespaces"
        var namespaces: [String] = []

        mutating func createNamespaces(_ client: HTTPTestClient) async throws {
            for title in ["oracle-a", "oracle-b"] {
                let response = try await client.request(
                    "POST", Self.root, headers: [Self.auth, ("Content-Type", "application/json")],
                    body: Array(#"{"title":"\#(title)"}"#.utf8))
                let json = try JSONDecoder().decode(JSON.self, from: Data(response.body))
                namespaces.append(try #require(json["result"]?["id"]?.stringValue, "\(response.text)"))
            }
        }

        func next(_ m: inout RequestMutator) -> FuzzRequest {
            let ns = Self.root + "/" + (m.chance(95) ? m.pick(namespaces) : m.mutate(namespaces[0]))
            let key = m.pick(["k", "a%2Fb", "%F0%9F%98%80", "sp%20ace", String(repeating: "x", count: 512), "k%00z"])
            let boundary = "b0undary"
            let multipart =
                "--\(boundary)\r\nContent-Disposition: form-data; name=\"value\"\r\n\r\nhello\r\n"
                + "--\(boundary)\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n{\"m\":1}\r\n--\(boundary)--\r\n"
            let routes: [(String, String, String?, String?)] = [
                ("GET", Self.root + "?page=1&per_page=20", nil, nil),
                ("POST", Self.root, #"{"title":"t"}"#, "application/json"),
                ("GET", ns, nil, nil),
                ("PUT", ns, #"{"title":"renamed"}"#, "application/json"),
                ("GET", ns + "/keys?prefix=k&limit=10&cursor=", nil, nil),
                ("PUT", ns + "/values/\(key)?expiration_ttl=120", "value", "text/plain"),
                ("PUT", ns + "/values/\(key)?expiration=1900000000", "value", "application/octet-stream"),
                ("PUT", ns + "/values/\(key)", multipart, "multipart/form-data; boundary=\(boundary)"),
                ("GET", ns + "/values/\(key)", nil, nil),
                ("GET", ns + "/metadata/\(key)", nil, nil),
                ("DELETE", ns + "/values/\(key)", nil, nil),
                (
                    "PUT", ns + "/bulk",
                    #"[{"key":"a","value":"1","expiration_ttl":120,"metadata":{"x":1}},{"key":"b","value":"aGk=","base64":true,"expiration":1900000000}]"#,
                    "application/json"
                ),
                ("POST", ns + "/bulk/delete", #"["a","b"]"#, "application/json"),
                ("DELETE", ns + "/bulk", #"["a"]"#, "application/json"),
                (
                    "POST", ns + "/bulk/get", #"{"keys":["a","b"],"type":"json","withMetadata":true}"#,
                    "application/json"
                ),
            ]
            let (method, target, body, contentType) = m.pick(routes)
            var request = FuzzRequest(
                method: m.method(method), target: m.target(target), headers: [], body: body.map { Array($0.utf8) })
            if let bytes = request.body, m.chance(60) { request.body = m.mutate(bytes) }
            if m.chance(97) { request.headers.append(Self.auth) }
            if let contentType {
                request.headers.append(("Content-Type", m.chance(90) ? contentType : m.headerValue(contentType)))
            }
            request.headers += m.extraHeaders()
            return request
        }
    }
}
