import Edge
import EdgeKV
import EdgeKVConsistency
import EdgeKVSQLite
import Foundation
import HTTPTypes
import Logging

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Runs fixtures: in-process on fresh state with a virtual clock, or over HTTP against any server.
public struct ReplayRunner: Sendable {
    /// Where requests go.
    public enum Target: Sendable {
        /// In-process, against the fixture's app, on fresh in-memory KV state.
        case inProcess
        /// Over HTTP to a running server (`http://127.0.0.1:8787`); steps that need in-process state are skipped.
        case http(baseURL: String)
    }

    /// Apps by name.
    public var apps: [String: ReplayApp]
    /// Where requests go.
    public var target: Target
    /// Where the in-process apps log (silent by default: the fixtures' expectations speak for the app). Whatever its
    /// level, the errors an app logs during a step that fails on a 5xx are shown with the failure.
    public var logger: Logger

    /// Creates a runner.
    public init(
        apps: [ReplayApp], target: Target = .inProcess,
        logger: Logger = Logger(label: "edgekv.replay", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.apps = Dictionary(apps.map { ($0.name, $0) }) { a, _ in a }
        self.target = target
        self.logger = logger
    }

    /// Runs one fixture.
    public func run(_ fixture: Fixture) async -> ReplayResult {
        let start = ContinuousClock.now
        var result = ReplayResult(
            name: fixture.name, file: fixture.file, outcome: .passed, failures: [], broken: false, duration: .zero)
        do {
            if let reason = Self.cutBody(fixture) {
                result.outcome = .skipped(reason: reason)
            } else {
                switch target {
                case .inProcess: result.failures = try await runInProcess(fixture)
                case .http(let base):
                    if let reason = Self.needsInProcess(fixture) {
                        result.outcome = .skipped(reason: reason)
                    } else {
                        result.failures = try await runHTTP(fixture, base: base)
                    }
                }
            }
        } catch let error as StepUnreachable {
            result.failures.append("\(error)")
            result.broken = true
        } catch {
            result.failures.append("could not run: \(error)")
            result.broken = true
        }
        if !result.failures.isEmpty { result.outcome = .failed }
        result.duration = ContinuousClock.now - start
        return result
    }

    /// Loads and runs every fixture under `paths` (files or folders) in order; a fixture that breaks the format
    /// fails with the error naming its file, step and field.
    /// - Throws: ``FixtureError`` for a path that does not exist.
    public func run(paths: [String], each: (ReplayResult) -> Void = { _ in }) async throws -> ReplaySummary {
        var results: [ReplayResult] = []
        for file in try Fixture.files(in: paths) {
            var result: ReplayResult
            do {
                result = await run(try Fixture.load(path: file))
            } catch {
                result = ReplayResult(
                    name: (file as NSString).lastPathComponent, file: file, outcome: .failed, failures: ["\(error)"],
                    broken: true, duration: .zero)
            }
            each(result)
            results.append(result)
        }
        return ReplaySummary(results: results)
    }

    /// The location of requests that name none, under the consistency simulator.
    public static let defaultLocation = "default"

    /// Why a fixture cannot be replayed faithfully anywhere, or nil when it can: a request whose body the recorder
    /// cut would send other bytes than the recorded client did, so its expectations prove nothing.
    static func cutBody(_ fixture: Fixture) -> String? {
        for (i, step) in fixture.steps.enumerated() {
            guard case .request(let request, _) = step, let size = request.truncated else { continue }
            return "steps[\(i)].request.body was cut when recorded (\(request.body?.count ?? 0) of \(size) bytes kept)"
        }
        return nil
    }

    /// Why a fixture cannot run against a remote server, or nil when it can.
    static func needsInProcess(_ fixture: Fixture) -> String? {
        if !fixture.vars.isEmpty { return "sets env vars (the server has its own env)" }
        if !fixture.kv.isEmpty { return "seeds KV (needs in-process state)" }
        if fixture.consistency != nil { return "uses the consistency simulator (in-process only)" }
        if let i = fixture.steps.firstIndex(where: { $0.needsInProcessState }) {
            return "steps[\(i)] needs the in-process clock, KV or locations"
        }
        return nil
    }

    // MARK: In-process

    func runInProcess(_ fixture: Fixture) async throws -> [String] {
        guard let app = apps[fixture.app] else {
            throw FixtureError(
                description:
                    "app: unknown app \"\(fixture.app)\" (known: \(apps.keys.sorted().joined(separator: ", ")))")
        }
        // Only the app's bindings exist in production too: a seed under another name would test a world that is not.
        if let unknown = fixture.kv.keys.filter({ !app.kvBindings.contains($0) }).sorted().first {
            let known = app.kvBindings.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
            throw FixtureError(
                description: "env.kv.\(unknown): the app \"\(app.name)\" has no KV binding \"\(unknown)\" "
                    + (known.isEmpty ? "(it has none)" : "(its bindings: \(known))"))
        }
        let clock = ManualClock(seconds: fixture.now)
        let store = try await SQLiteKVStore(inMemoryWithClock: clock)
        var namespaces: [String: any KVNamespace] = [:]
        for binding in Set(app.kvBindings).union(fixture.kv.keys) { namespaces[binding] = store.namespace(id: binding) }
        for (binding, entries) in fixture.kv {
            try await namespaces[binding]!.writeEntries(
                entries.map { ($0.key, KVWrite(value: $0.value, metadata: $0.metadata, expiration: $0.expiration)) })
        }
        // With `consistency`, each binding goes through the simulator and a request sees the view of its location.
        let simulators = fixture.consistency.map { c in
            namespaces.mapValues { base in
                ConsistencySimulator(
                    base: base,
                    configuration: ConsistencySimulator.Configuration(
                        propagation: Double(c.propagation ?? 60), cacheTtl: Double(c.cacheTtl ?? 60),
                        writeLimit: c.writeLimit ?? true))
            }
        }
        func env(at location: String?) throws -> Env {
            guard let simulators else { return try Env(kv: namespaces, vars: fixture.vars) }
            let here = location ?? Self.defaultLocation
            return try Env(kv: simulators.mapValues { $0.namespace(at: here) }, vars: fixture.vars)
        }
        let capture = LogCapture()
        let runtime = app.makeRuntime(clock, capture.logger(teeing: logger))
        var jar = CookieJar()
        var failures: [String] = []
        for (index, step) in fixture.steps.enumerated() {
            let where_ = "steps[\(index)]"
            switch step {
            case .advance(let seconds): clock.advance(seconds: seconds)
            case .cookies(let edits):
                Self.edit(&jar, edits)
            case .expectKV(let specs):
                for (binding, spec) in specs.sorted(by: { $0.key < $1.key }) {
                    guard let kv = namespaces[binding] else {
                        failures.append("\(where_).expectKV.\(binding): no such KV binding")
                        continue
                    }
                    failures += try await Self.checkKV(kv, spec, path: "\(where_).expectKV.\(binding)")
                }
            case .request(let request, let expect):
                let now = clock.nowMilliseconds()
                let edgeRequest = Self.edgeRequest(request, cookie: jar.header(nowMilliseconds: now))
                _ = capture.take()
                let response = await runtime.handle(
                    edgeRequest, env: try env(at: request.location), clock: clock, awaitBackgroundWork: true)
                let body = try await response.body.collect()
                let replay = ReplayResponse(
                    status: response.status.code, headers: response.headers.map { ($0.name.rawName, $0.value) },
                    body: body)
                let problems = check(expect, replay, jar: &jar, now: now, step: where_, request: request)
                failures += problems
                // A 500 body says "internal server error"; the cause is in the log, which is silent without -v.
                let logged = capture.take()
                if !problems.isEmpty, replay.status >= 500, !logged.isEmpty {
                    failures.append(
                        "\(where_) (\(request.method) \(request.path)): the app logged: "
                            + logged.joined(separator: "\n      "))
                }
            }
        }
        return failures
    }

    func check(
        _ expect: Fixture.Expectation?, _ response: ReplayResponse, jar: inout CookieJar, now: Int64, step: String,
        request: Fixture.RequestStep
    ) -> [String] {
        let before = jar
        for cookie in response.headers where cookie.name.lowercased() == "set-cookie" {
            jar.apply(setCookie: cookie.value, nowMilliseconds: now)
        }
        guard let expect else { return [] }
        return ExpectationMatcher.check(
            expect, response, previousCookies: { before.value($0, nowMilliseconds: now) }, nowMilliseconds: now
        ).map { "\(step) (\(request.method) \(request.path)): expect.\($0)" }
    }

    /// Applies a `cookies` step. JSON objects have no order, so cookies new to the jar are added in name order:
    /// the `Cookie` header is the same on every run.
    static func edit(_ jar: inout CookieJar, _ edits: [String: String?]) {
        for (name, value) in edits.sorted(by: { $0.key < $1.key }) { jar.set(name, value) }
    }

    static func edgeRequest(_ r: Fixture.RequestStep, cookie: String?) -> Edge.Request {
        var headers = HTTPFields()
        for (name, value) in r.headers {
            if let field = HTTPField.Name(name) { headers.append(HTTPField(name: field, value: value)) }
        }
        if let cookie, headers[.cookie] == nil { headers[.cookie] = cookie }
        if r.isJSON, headers[.contentType] == nil { headers[.contentType] = "application/json" }
        if let location = r.location { headers[HTTPField.Name("X-EdgeKV-Location")!] = location }
        return Edge.Request(
            method: HTTPRequest.Method(r.method) ?? .get, r.path, headers: headers,
            body: r.body.map { .bytes($0) } ?? .empty)
    }

    static func checkKV(_ kv: any KVNamespace, _ spec: Fixture.KVExpectation, path: String) async throws -> [String] {
        var problems: [String] = []
        if let count = spec.count {
            var n = 0
            for try await _ in kv.listAll() { n += 1 }
            if n != count { problems.append("\(path).count: expected \(count) keys, got \(n)") }
        }
        for key in spec.has where try await kv.readEntry(key) == nil {
            problems.append("\(path).has: expected key \(ExpectationMatcher.quote(key)), it is missing")
        }
        for key in spec.lacks where try await kv.readEntry(key) != nil {
            problems.append("\(path).lacks: expected no key \(ExpectationMatcher.quote(key)), it exists")
        }
        for (key, value) in spec.values.sorted(by: { $0.key < $1.key }) {
            let got = try await kv.readEntry(key).map { String(decoding: $0.value, as: UTF8.self) }
            if got != value {
                problems.append(
                    "\(path).values.\(key): expected \(ExpectationMatcher.quote(value)), got \(got.map(ExpectationMatcher.quote) ?? "no key")"
                )
            }
        }
        return problems
    }

    // MARK: HTTP

    func runHTTP(_ fixture: Fixture, base: String) async throws -> [String] {
        let session = URLSession(configuration: Self.sessionConfiguration, delegate: NoRedirects(), delegateQueue: nil)
        defer { session.finishTasksAndInvalidate() }
        var jar = CookieJar()
        var failures: [String] = []
        for (index, step) in fixture.steps.enumerated() {
            let where_ = "steps[\(index)]"
            switch step {
            case .cookies(let edits):
                Self.edit(&jar, edits)
            case .request(let request, let expect):
                let now = SystemClock().nowMilliseconds()
                let base = base.hasSuffix("/") ? String(base.dropLast()) : base
                guard let url = URL(string: base + request.path) else {
                    throw FixtureError(description: "\(where_).request.path: not a valid URL with \(base)")
                }
                var urlRequest = URLRequest(url: url)
                urlRequest.httpMethod = request.method
                for (name, value) in request.headers { urlRequest.setValue(value, forHTTPHeaderField: name) }
                if let cookie = jar.header(nowMilliseconds: now), urlRequest.value(forHTTPHeaderField: "Cookie") == nil
                {
                    urlRequest.setValue(cookie, forHTTPHeaderField: "Cookie")
                }
                if request.isJSON, urlRequest.value(forHTTPHeaderField: "Content-Type") == nil {
                    urlRequest.setValue("application/json", forHTTPHeaderField: "Content-Type")
                }
                urlRequest.httpBody = request.body.map { Data($0) }
                let data: Data
                let response: URLResponse
                do {
                    (data, response) = try await session.data(for: urlRequest)
                } catch {
                    guard let unreachable = ReplayTargetUnreachable.from(error, baseURL: base) else { throw error }
                    // The server went away: the later steps would only repeat this.
                    throw StepUnreachable(step: "\(where_) (\(request.method) \(request.path))", error: unreachable)
                }
                guard let http = response as? HTTPURLResponse else {
                    throw FixtureError(description: "\(where_): not an HTTP response")
                }
                let replay = ReplayResponse(status: http.statusCode, headers: Self.headers(http), body: Array(data))
                failures += check(expect, replay, jar: &jar, now: now, step: where_, request: request)
            case .advance, .expectKV:
                throw FixtureError(description: "\(where_): needs in-process state")
            }
        }
        return failures
    }

    static var sessionConfiguration: URLSessionConfiguration {
        let c = URLSessionConfiguration.ephemeral
        c.httpCookieStorage = nil
        c.httpShouldSetCookies = false
        c.httpCookieAcceptPolicy = .never
        c.timeoutIntervalForRequest = 30
        return c
    }

    /// Every header line, with each `Set-Cookie` separate (URLSession joins repeated fields with commas).
    static func headers(_ response: HTTPURLResponse) -> [(name: String, value: String)] {
        var out: [(String, String)] = []
        for (k, v) in response.allHeaderFields {
            guard let name = k as? String, let value = v as? String else { continue }
            if name.lowercased() == "set-cookie" {
                out += splitSetCookie(value).map { (name, $0) }
            } else {
                out.append((name, value))
            }
        }
        return out
    }

    /// Splits a comma-joined `Set-Cookie` list, keeping the commas inside `Expires` dates.
    static func splitSetCookie(_ joined: String) -> [String] {
        var parts: [String] = []
        var current = ""
        for piece in joined.components(separatedBy: ",") {
            let trimmed = piece.trimmingCharacters(in: .whitespaces)
            // A new cookie starts with `name=`; a date fragment (" 01 Jan 2026 …") does not.
            if !current.isEmpty, let eq = trimmed.firstIndex(of: "="), !trimmed[..<eq].contains(" "),
                !trimmed[..<eq].contains(";")
            {
                parts.append(current)
                current = trimmed
            } else {
                current += current.isEmpty ? trimmed : "," + piece
            }
        }
        if !current.isEmpty { parts.append(current) }
        return parts
    }
}

/// A step whose request did not reach the target: `steps[0] (GET /): cannot reach …: connection refused`.
struct StepUnreachable: Error, CustomStringConvertible {
    let step: String
    let error: ReplayTargetUnreachable
    var description: String { "\(step): \(error)" }
}

/// Keeps redirects as responses, as a fixture expects them.
final class NoRedirects: NSObject, URLSessionTaskDelegate, Sendable {
    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }
}
