import ArgumentParser
import Crypto
import Edge
import EdgeCommandLine
import EdgeKV
import EdgeKVSQLite
import EdgeSession
import EdgeSessionRedis
import EdgeSupport
import Foundation
import HTTPTypes
import Synchronization

struct SessionBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "session",
        abstract: "Benchmark the session middleware with each store against the floor of its own work.",
        discussion: """
            In one process: requests through an in-process EdgeRuntime with the session middleware in front of a \
            handler that reads and increments a small session ({"user": "alice", "visits": n}), the Set-Cookie of \
            each response sent back as the next request's Cookie, as a browser does. Each store is measured beside \
            its floor, the work no implementation can skip, done in the same round: JSON decode and encode of the \
            data plus HMAC-SHA256 sign and verify in hattip's format (signed), AES-256-GCM seal and open in \
            hattip's format (encrypted), percent-encoding and decoding (unsigned), or the backend's own get and \
            set (memory: a dictionary under a lock; redis: GET and SET EX through the same client; kv: get and put \
            through the same namespace of the local emulator). ratio = cost / floor; the target for the signed and \
            encrypted cookie stores is at most 2. The median of the rounds counts. Redis is reported unavailable, \
            not measured, when it cannot be reached.
            """)

    @Flag(help: "Print one JSON object instead of a table.") var json = false
    @Option(help: "Rounds per store, at least 1 (the median counts).") var rounds = 5
    @Option(help: "Requests per store and round, at least 100 (the floor runs as many times).") var requests = 10_000
    @Option(
        name: .customLong("redis-url"),
        help: "The Redis server (default: EDGEKV_TEST_REDIS_URL, else redis://127.0.0.1:16379).")
    var redisURL: String?
    @Option(name: .customLong("work-dir"), help: "Where the KV store's state file goes (default: a temp dir).")
    var workDir: String?
    @Option(
        help: """
            Requests in a row before the floor takes its turn, and floor steps in a row before the requests do. \
            Small values make both run with the same (colder) caches; large ones give the floor a hot loop. At \
            least 1.
            """)
    var slice = 500
    @Option(
        help: """
            Browsers taking turns, each with its own session (default 1; from 1 to --requests). With many more than the 4096 saves a \
            middleware remembers, a loaded session is seldom one it saved lately, and change detection encodes the \
            loaded data again.
            """)
    var browsers = 1
    @Option(
        name: .customLong("store"),
        help: "Measure only this store (repeatable): \(SessionBenchRunner.storeNames.joined(separator: ", ")).")
    var stores: [String] = []
    @Flag(help: quickHelp) var quick = false

    func validate() throws {
        if rounds < 1 { throw ValidationError("--rounds must be at least 1.") }
        if requests < 100 { throw ValidationError("--requests must be at least 100.") }
        if slice < 1 { throw ValidationError("--slice must be at least 1.") }
        if browsers < 1 { throw ValidationError("--browsers must be at least 1.") }
        if browsers > requests { throw ValidationError("--browsers must not exceed --requests.") }
        if let unknown = stores.first(where: { !SessionBenchRunner.storeNames.contains($0) }) {
            throw ValidationError(
                "unknown store \(unknown); the stores are \(SessionBenchRunner.storeNames.joined(separator: ", ")).")
        }
    }

    func run() async throws {
        warnIfDebugBuild()
        let dir =
            workDir
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("edgekv-bench-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { if workDir == nil { try? FileManager.default.removeItem(atPath: dir) } }
        let url =
            redisURL ?? ProcessInfo.processInfo.environment["EDGEKV_TEST_REDIS_URL"] ?? "redis://127.0.0.1:16379"
        // A quick run: the fewest requests --requests allows (enough for every browser to hold a session).
        var report = try await SessionBenchRunner(
            dir: dir, redisURL: url, rounds: quick ? 1 : rounds, requests: quick ? max(100, browsers) : requests,
            slice: slice, browsers: browsers, stores: stores.isEmpty ? SessionBenchRunner.storeNames : stores,
            verbose: !json
        ).run()
        report.quick = quick
        if json {
            try Output.printJSON(report.json)
        } else {
            print(report.table)
        }
        try finishBenchmark(missed: report.missed, quick: quick)
    }
}

/// The session data of the benchmark's handler.
struct SessionBenchData: Codable, Sendable {
    var visits: Int
    var user: String
}

struct SessionBenchReport {
    struct Figure {
        let name: String
        let floorDescription: String
        /// Microseconds per request through the runtime (median round).
        let costMicroseconds: Double
        /// Microseconds per floor iteration (median round).
        let floorMicroseconds: Double
        let target: Double?
        var requestsPerSecond: Double { 1e6 / costMicroseconds }
        var ratio: Double { costMicroseconds / floorMicroseconds }
    }
    enum Outcome {
        case measured(Figure)
        case unavailable(name: String, reason: String)
    }
    let outcomes: [Outcome]
    /// The runtime alone: the same request and cookie through an EdgeRuntime with no session middleware.
    let runtimeMicroseconds: Double
    let rounds: Int
    let requests: Int
    let slice: Int
    let browsers: Int
    /// Whether this was a `--quick` run (figures not comparable, targets not checked).
    var quick = false

    /// Each ratio over its target, as `signed: ratio 2.40, target ≤ 2.00`.
    var missed: [String] {
        outcomes.compactMap { outcome in
            guard case .measured(let f) = outcome, let target = f.target, f.ratio > target else { return nil }
            return "\(f.name): ratio \(String(format: "%.2f", f.ratio)), target ≤ \(String(format: "%.2f", target))"
        }
    }

    var json: JSONValue {
        func num(_ d: Double) -> JSONValue { .double((d * 1000).rounded() / 1000) }
        var stores: [String: JSONValue] = [:]
        for outcome in outcomes {
            switch outcome {
            case .measured(let f):
                var fields: [String: JSONValue] = [
                    "available": true, "cost_us_per_request": num(f.costMicroseconds),
                    "requests_per_second": num(f.requestsPerSecond), "floor_us": num(f.floorMicroseconds),
                    "floor": .string(f.floorDescription), "ratio": num(f.ratio),
                ]
                if let target = f.target {
                    fields["target"] = num(target)
                    fields["meets_target"] = .bool(f.ratio <= target)
                }
                stores[f.name] = .object(fields)
            case .unavailable(let name, let reason):
                stores[name] = ["available": false, "error": .string(reason)]
            }
        }
        return [
            "benchmark": "session",
            "baseline": "floor: the JSON and crypto or backend work alone, measured in the same rounds",
            "rounds": .int(Int64(rounds)),
            "requests_per_round": .int(Int64(requests)),
            "slice": .int(Int64(slice)),
            "browsers": .int(Int64(browsers)),
            "quick": .bool(quick),
            "runtime_without_session_us_per_request": num(runtimeMicroseconds),
            "stores": .object(stores),
        ]
    }

    var table: String {
        var lines = ["store      cost µs/req       req/s   floor µs   ratio  target   floor"]
        for outcome in outcomes {
            switch outcome {
            case .measured(let f):
                let target = f.target.map { String(format: "≤%4.2f", $0) } ?? "    -"
                lines.append(
                    f.name.padding(toLength: 9, withPad: " ", startingAt: 0)
                        + String(
                            format: "%12.2f  %10.0f  %9.2f  %6.2f  ", f.costMicroseconds, f.requestsPerSecond,
                            f.floorMicroseconds, f.ratio) + target + "   " + f.floorDescription)
            case .unavailable(let name, let reason):
                lines.append(name.padding(toLength: 9, withPad: " ", startingAt: 0) + "  unavailable: \(reason)")
            }
        }
        lines.append("")
        lines.append(
            "median of \(rounds) rounds of \(requests) requests from \(browsers) browser(s) and as many floor steps, "
                + "alternating every \(slice)")
        lines.append(
            String(
                format: "EdgeRuntime alone (same request and cookie, no session middleware): %.2f µs/request",
                runtimeMicroseconds))
        if quick { lines.append(quickRunNote) }
        return lines.joined(separator: "\n")
    }
}

struct SessionBenchRunner {
    let dir: String
    let redisURL: String
    let rounds: Int
    let requests: Int
    /// Requests in a row before the floor takes its turn (and floor steps before the requests do).
    let slice: Int
    /// Browsers taking turns, each with its own session.
    let browsers: Int
    /// The stores to measure.
    let stores: [String]
    let verbose: Bool

    static let storeNames = ["unsigned", "signed", "encrypted", "memory", "redis", "kv"]

    func log(_ s: String) { if verbose { Output.diagnostic(s) } }

    func run() async throws -> SessionBenchReport {
        var subjects: [SessionBenchSubject] = []
        var unavailable: [String: String] = [:]

        if stores.contains("unsigned") {
            subjects.append(
                SessionBenchSubject(
                    name: "unsigned", store: UnsignedCookieStore(), floor: UnsignedFloor(), browsers: browsers))
        }
        if stores.contains("signed") {
            let key = SignedCookieStore.generateKey()
            subjects.append(
                SessionBenchSubject(
                    name: "signed", store: try SignedCookieStore(keys: [key]), floor: SignedFloor(key: key), target: 2,
                    browsers: browsers))
        }
        if stores.contains("encrypted") {
            let key = EncryptedCookieStore.generateKey()
            subjects.append(
                SessionBenchSubject(
                    name: "encrypted", store: try EncryptedCookieStore(keys: [key]), floor: EncryptedFloor(key: key),
                    target: 2, browsers: browsers))
        }
        if stores.contains("memory") {
            subjects.append(
                SessionBenchSubject(
                    name: "memory", store: UnsafeMemoryStore(), floor: MemoryFloor(), browsers: browsers))
        }

        let prefix = "edgekv-bench:\(UUID().uuidString):"
        var redis: RedisClient?
        if stores.contains("redis") {
            let client = try RedisClient(url: redisURL)
            do {
                guard case .status("PONG") = try await client.command(["PING"]) else {
                    throw CLIError("the server at \(client.configuration) did not answer PING with PONG")
                }
                redis = client
                subjects.append(
                    SessionBenchSubject(
                        name: "redis", store: RedisSessionStore(client: client, keyPrefix: prefix),
                        floor: RedisFloor(client: client, key: prefix + "floor"), browsers: browsers))
            } catch {
                unavailable["redis"] = "\(error)"
                log("Redis at \(client.configuration) is unavailable: \(error)")
            }
        }

        if stores.contains("kv") {
            // The local emulator, on a state file as `edgekv serve` uses it (the namespace keeps the store open).
            let namespace = try await SQLiteKVStore(path: dir + "/sessions.sqlite").namespace(id: "sessions")
            subjects.append(
                SessionBenchSubject(
                    name: "kv", store: KVSessionStore(binding: "SESSIONS"), floor: KVFloor(namespace: namespace),
                    env: try Env(kv: ["SESSIONS": namespace]), browsers: browsers))
        }

        let runtimeAlone = RuntimeAlone()
        // Every browser holds a session before the rounds start.
        let warmup = max(min(requests, 2_000), browsers)
        for subject in subjects {
            log("Warming up \(subject.name)…")
            _ = try await subject.requests(warmup)
            _ = try await subject.floors(warmup)
        }
        _ = try await runtimeAlone.requests(warmup)

        var costs: [String: [Double]] = [:]
        var floors: [String: [Double]] = [:]
        var alone: [Double] = []
        for round in 0..<rounds {
            log("Round \(round + 1) of \(rounds)…")
            for subject in subjects {
                // Requests and floor alternate in slices, so both see the same load on the machine.
                var cost = 0.0
                var floor = 0.0
                var done = 0
                while done < requests {
                    let count = min(slice, requests - done)
                    cost += try await subject.requests(count) * Double(count)
                    floor += try await subject.floors(count) * Double(count)
                    done += count
                }
                costs[subject.name, default: []].append(cost / Double(requests))
                floors[subject.name, default: []].append(floor / Double(requests))
            }
            alone.append(try await runtimeAlone.requests(requests))
        }

        if let redis, let subject = subjects.first(where: { $0.name == "redis" }) {
            for id in subject.cookies { try? await redis.delete(prefix + id) }
            try? await redis.delete(prefix + "floor")
        }

        let outcomes: [SessionBenchReport.Outcome] = Self.storeNames.compactMap { name in
            if let reason = unavailable[name] { return .unavailable(name: name, reason: reason) }
            guard let subject = subjects.first(where: { $0.name == name }) else { return nil }
            return .measured(
                SessionBenchReport.Figure(
                    name: name, floorDescription: subject.floor.description,
                    costMicroseconds: median(costs[name]!), floorMicroseconds: median(floors[name]!),
                    target: subject.target))
        }
        return SessionBenchReport(
            outcomes: outcomes, runtimeMicroseconds: median(alone), rounds: rounds, requests: requests,
            slice: slice, browsers: browsers)
    }

}

/// The handler every store runs behind: reads the session, checks its user and counts the visit. With several
/// browsers, each names itself in `X-Browser` and its first visit makes the user `alice-<browser>`, so that no two
/// sessions hold the same data.
let sessionBenchHandler: Handler = { request, context in
    let session = try context.session(SessionBenchData.self)
    let user = request.headers[SessionBenchSubject.browserHeader].map { "alice-" + $0 } ?? "alice"
    let visits = try session.withData { data in
        if data.visits == 0 { data.user = user }
        guard data.user == user else { throw CLIError("the session lost its user") }
        data.visits += 1
        return data.visits
    }
    return Response(status: .ok, headers: [SessionBenchSubject.visitsHeader: String(visits)])
}

/// One store behind the session middleware in an in-process runtime, with a one-cookie browser and its floor.
final class SessionBenchSubject {
    static let visitsHeader = HTTPField.Name("X-Visits")!
    static let browserHeader = HTTPField.Name("X-Browser")!
    static let cookieName = "session"

    let name: String
    let floor: any SessionBenchFloor
    let target: Double?
    let runtime: EdgeRuntime
    /// Per browser: `session=<value>` as the browser holds it (the wire form), sent back as it is.
    private var cookiePairs: [String?]
    /// Per browser: the visits counted so far.
    private var visits: [Int]
    /// The browser that sends the next request.
    private var nextBrowser = 0
    /// The cookie values (the wire form) the browsers hold.
    var cookies: [String] {
        cookiePairs.compactMap { $0.map { String($0.utf8.dropFirst(Self.cookieName.utf8.count + 1))! } }
    }

    init(
        name: String, store: any SessionStore, floor: any SessionBenchFloor, target: Double? = nil, env: Env = Env(),
        browsers: Int
    ) {
        cookiePairs = Array(repeating: nil, count: browsers)
        visits = Array(repeating: 0, count: browsers)
        self.name = name
        self.floor = floor
        self.target = target
        let options = SessionOptions(store: store, defaultData: SessionBenchData(visits: 0, user: "alice"))
        // The options are the defaults, which the middleware accepts.
        runtime = EdgeRuntime(env: env, middleware: [try! session(options)], handler: sessionBenchHandler)
    }

    /// Microseconds per request over `count` requests from the browsers in turn, each sending the cookie its
    /// previous request got.
    func requests(_ count: Int) async throws -> Double {
        let result = try await SessionBenchFormat.microsecondsPerIteration(count) {
            let browser = nextBrowser
            nextBrowser = browser + 1 == cookiePairs.count ? 0 : browser + 1
            var request = SessionBenchFormat.request
            // Appended, not set through the subscript, which splits a Cookie value at "; " (a cost of the
            // client, not of the server).
            if let pair = cookiePairs[browser] { request.headers.append(HTTPField(name: .cookie, value: pair)) }
            if cookiePairs.count > 1 {
                request.headers.append(HTTPField(name: Self.browserHeader, value: String(browser)))
            }
            let response = await runtime.handle(request)
            // The fields are read in one pass: the subscript by name joins every value of the name into a new string.
            var setCookie: String?
            var visitsSeen: Int?
            for field in response.headers {
                if field.name == .setCookie {
                    setCookie = field.value
                } else if field.name == Self.visitsHeader {
                    visitsSeen = Int(field.value)
                }
            }
            guard response.status == .ok, let setCookie else {
                throw CLIError("the \(name) store answered \(response.status) without a session cookie")
            }
            cookiePairs[browser] = Self.pair(ofSetCookie: setCookie)
            visits[browser] += 1
            guard visitsSeen == visits[browser] else {
                throw CLIError(
                    "the \(name) store lost visits: expected \(visits[browser]), got \(response.headers)")
            }
        }
        return result
    }

    /// Microseconds per floor iteration over `count` iterations.
    func floors(_ count: Int) async throws -> Double {
        try await SessionBenchFormat.microsecondsPerIteration(count) { try await floor.step() }
    }

    /// `name=value` of a `Set-Cookie` for the session cookie: what a browser sends back.
    static func pair(ofSetCookie header: String) -> String? {
        guard header.hasPrefix(cookieName + "=") else { return nil }
        guard let end = header.utf8.firstIndex(of: UInt8(ascii: ";")) else { return header }
        return String(header[..<end])
    }
}

/// The same request and cookie through a runtime with no session middleware: what the runtime costs by itself.
struct RuntimeAlone {
    let runtime = EdgeRuntime { _, _ in Response(status: .ok, headers: [SessionBenchSubject.visitsHeader: "1"]) }
    let cookie =
        "session=" + String(repeating: "x", count: 43) + "." + "4A8uH5QB." + "%7B%22user%22%3A%22alice%22%2C%22visits"
        + "%22%3A1%7D"

    func requests(_ count: Int) async throws -> Double {
        try await SessionBenchFormat.microsecondsPerIteration(count) {
            var request = SessionBenchFormat.request
            request.headers.append(HTTPField(name: .cookie, value: cookie))
            let response = await runtime.handle(request)
            guard response.status == .ok else { throw CLIError("the bare runtime answered \(response.status)") }
        }
    }
}

/// The work a store's requests cannot avoid, done directly: one step is one request's worth of it.
protocol SessionBenchFloor: AnyObject, CustomStringConvertible {
    func step() async throws
}

/// JSON decode of the stored data, the handler's change, and JSON encode, with one reused coder each.
final class SessionBenchJSON {
    private let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
    private let decoder = JSONDecoder()

    func initial() throws -> [UInt8] { Array(try encoder.encode(SessionBenchData(visits: 0, user: "alice"))) }

    func update(_ json: some Collection<UInt8>) throws -> [UInt8] {
        var data = try decoder.decode(SessionBenchData.self, from: Data(json))
        data.visits += 1
        return Array(try encoder.encode(data))
    }
}

/// What the floors share: hattip's expiry `E`, the clock, and the split at the first `.`.
enum SessionBenchFormat {
    /// `GET /` without headers, made once: each request adds its cookie, as a browser sends the same page request
    /// with the cookie of the moment.
    static let request = Request("/")

    /// `E`: milliseconds since the epoch as minimal little-endian bytes, base64url.
    static func expiry(_ milliseconds: Int64) -> String { HattipFormat.encodeExpiry(milliseconds) }

    /// `E` for a session saved now with a lifetime of one hour.
    static func expiryInOneHour() -> String { expiry(nowMilliseconds() + 3_600_000) }

    static func nowMilliseconds() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    static func splitAtDot(_ bytes: ArraySlice<UInt8>) throws -> (ArraySlice<UInt8>, ArraySlice<UInt8>) {
        guard let dot = bytes.firstIndex(of: UInt8(ascii: ".")) else { throw CLIError("floor: no '.' in the cookie") }
        return (bytes[..<dot], bytes[(dot + 1)...])
    }

    /// Microseconds per iteration of `body`, run `count` times.
    static func microsecondsPerIteration(_ count: Int, _ body: () async throws -> Void) async rethrows -> Double {
        let start = ContinuousClock.now
        for _ in 0..<count { try await body() }
        return (ContinuousClock.now - start).inSeconds * 1e6 / Double(count)
    }
}

/// Signed: verify `b64u(mac) "." E "." P`, decode P, encode the new P, sign `E "." P`.
final class SignedFloor: SessionBenchFloor {
    /// The HMAC with the key absorbed once; each use is a copy (no key setup per request).
    let authenticator: HMAC<SHA256>
    let json = SessionBenchJSON()
    var cookie: [UInt8] = []
    var description: String { "JSON decode+encode, HMAC-SHA256 verify+sign of E.P, base64url" }

    init(key: SymmetricKey) {
        authenticator = HMAC(key: key)
        cookie = sign(try! json.initial())
    }

    func sign(_ payload: [UInt8]) -> [UInt8] {
        let signed = Array(SessionBenchFormat.expiryInOneHour().utf8) + [UInt8(ascii: ".")] + payload
        var mac = authenticator
        mac.update(data: signed)
        return Array(mac.finalize().withUnsafeBytes { Base64URL.encode($0) }.utf8) + [UInt8(ascii: ".")] + signed
    }

    func step() throws {
        let (signatureText, signed) = try SessionBenchFormat.splitAtDot(cookie[...])
        var mac = authenticator
        mac.update(data: signed)
        // `==` between a MAC and bytes compares in constant time.
        guard let signature = Base64URL.decode(String(decoding: signatureText, as: UTF8.self)),
            mac.finalize() == signature
        else { throw CLIError("floor: the signed cookie does not verify") }
        let (_, payload) = try SessionBenchFormat.splitAtDot(signed)
        cookie = sign(try json.update(payload))
    }
}

/// Encrypted: open `b64u(iv) "." b64u(ciphertext ‖ tag)`, decode P, encode the new P, seal `E "." P` with a
/// random 16-byte IV.
final class EncryptedFloor: SessionBenchFloor {
    let key: SymmetricKey
    let json = SessionBenchJSON()
    var cookie: [UInt8] = []
    var description: String { "JSON decode+encode, AES-256-GCM open+seal of E.P (16-byte IV), base64url" }

    init(key: SymmetricKey) {
        self.key = key
        cookie = try! seal(try! json.initial())
    }

    func seal(_ payload: [UInt8]) throws -> [UInt8] {
        var rng = SystemRandomNumberGenerator()
        var iv = [UInt8](repeating: 0, count: 16)
        iv.withUnsafeMutableBytes { buffer in
            buffer.storeBytes(of: rng.next() as UInt64, toByteOffset: 0, as: UInt64.self)
            buffer.storeBytes(of: rng.next() as UInt64, toByteOffset: 8, as: UInt64.self)
        }
        let plaintext = Array(SessionBenchFormat.expiryInOneHour().utf8) + [UInt8(ascii: ".")] + payload
        let box = try AES.GCM.seal(plaintext, using: key, nonce: AES.GCM.Nonce(data: iv))
        return Array((Base64URL.encode(iv) + "." + Base64URL.encode(box.ciphertext + box.tag)).utf8)
    }

    func step() throws {
        let (ivText, sealedText) = try SessionBenchFormat.splitAtDot(cookie[...])
        guard let iv = Base64URL.decode(String(decoding: ivText, as: UTF8.self)),
            let sealed = Base64URL.decode(String(decoding: sealedText, as: UTF8.self)), sealed.count >= 16
        else { throw CLIError("floor: the encrypted cookie is not base64url") }
        let box = try AES.GCM.SealedBox(
            nonce: AES.GCM.Nonce(data: iv), ciphertext: sealed.dropLast(16), tag: sealed.suffix(16))
        let plaintext = Array(try AES.GCM.open(box, using: key))
        let (_, payload) = try SessionBenchFormat.splitAtDot(plaintext[...])
        cookie = try seal(try json.update(payload))
    }
}

/// Unsigned: percent-decode the cookie, decode P, encode the new P, percent-encode it (`encodeURIComponent`).
final class UnsignedFloor: SessionBenchFloor {
    let json = SessionBenchJSON()
    var cookie: [UInt8] = []
    var description: String { "JSON decode+encode, percent-decoding+encoding of P" }

    init() { cookie = Self.encode(try! json.initial()) }

    static func encode(_ bytes: [UInt8]) -> [UInt8] {
        Array(PercentCoding.encode(String(decoding: bytes, as: UTF8.self), keeping: .uriComponent).utf8)
    }

    static func decode(_ bytes: [UInt8]) throws -> [UInt8] {
        guard let text = bytes.withUnsafeBytes({ PercentCoding.decode($0) }) else {
            throw CLIError("floor: bad percent escape")
        }
        return Array(text.utf8)
    }

    func step() throws {
        cookie = Self.encode(try json.update(try Self.decode(cookie)))
    }
}

/// Memory: get the entry from a dictionary under a lock, decode, encode, set it back.
final class MemoryFloor: SessionBenchFloor {
    let json = SessionBenchJSON()
    let entries = Mutex<[String: String]>([:])
    let id = SessionID.generate()
    var description: String { "JSON decode+encode, dictionary get+set under a lock" }

    init() {
        let initial = String(decoding: try! json.initial(), as: UTF8.self)
        entries.withLock { $0[id] = initial }
    }

    func step() throws {
        guard let stored = entries.withLock({ $0[id] }) else { throw CLIError("floor: the entry is gone") }
        let updated = String(decoding: try json.update(stored.utf8), as: UTF8.self)
        entries.withLock { $0[id] = updated }
    }
}

/// Redis: GET, decode, encode, SET EX through the client the store uses.
final class RedisFloor: SessionBenchFloor {
    let client: RedisClient
    let key: String
    let json = SessionBenchJSON()
    var description: String { "JSON decode+encode, Redis GET + SET EX through the same client" }

    init(client: RedisClient, key: String) {
        self.client = client
        self.key = key
    }

    func step() async throws {
        let stored = try await client.get(key) ?? json.initial()
        try await client.set(key, try json.update(stored), expiresInSeconds: 3600)
    }
}

/// KV: get with metadata, decode, encode, put with an expiration TTL and metadata, through the same namespace.
final class KVFloor: SessionBenchFloor {
    let namespace: any KVNamespace
    let key = "floor-" + SessionID.generate()
    let json = SessionBenchJSON()
    var description: String { "JSON decode+encode, KV get+put (TTL, metadata) through the same namespace" }

    init(namespace: any KVNamespace) { self.namespace = namespace }

    func step() async throws {
        let stored = try await namespace.getWithMetadata(key)?.value ?? String(decoding: json.initial(), as: UTF8.self)
        let options = KVPutOptions(
            expirationTtl: 3600,
            metadata: .object(["expiresAt": .int(SessionBenchFormat.nowMilliseconds() + 3_600_000)]))
        try await namespace.put(key, String(decoding: try json.update(stored.utf8), as: UTF8.self), options: options)
    }
}
