import Edge
import EdgeHTTP
import EdgeKV
import EdgeKVSQLite
import EdgeKVTestSupport
import HTTPTypes
import Testing

/// The env is per request: bindings by name, clear errors, and no leaks between requests in flight.
@Suite struct EnvTests {
    /// Many requests in flight at once, each with its own env (its own KV namespace and var), each sees only its own.
    @Test func perRequestEnvIsolationUnderConcurrency() async throws {
        let tenants = 32
        let requestsPerTenant = 8
        let store = try await SQLiteKVStore(inMemoryWithClock: SystemClock())
        var envs: [Env] = []
        for tenant in 0..<tenants {
            let namespace = store.namespace(id: "tenant-ns-\(tenant)")
            try await namespace.put("owner", "tenant-\(tenant)")
            envs.append(try Env(kv: ["KV": namespace], vars: ["TENANT": "tenant-\(tenant)"]))
        }
        let defaultEnv = try Env(vars: ["TENANT": "default"])
        let runtime = EdgeRuntime(env: defaultEnv, logger: quietLogger) { request, context in
            let before = try context.env.requireString("TENANT")
            // Interleave with the other requests between reading the var and the namespace.
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...5)))
            let owner = try await context.env.kv("KV").get("owner") ?? "missing"
            try await context.env.kv("KV").put("seen-by-\(request.queryValue("n") ?? "?")", before)
            let after = try context.env.requireString("TENANT")
            return .text("\(before) \(owner) \(after)")
        }

        let results = await withTaskGroup(of: (Int, Int, String).self) { group in
            for n in 0..<(tenants * requestsPerTenant) {
                let tenant = n % tenants
                let env = envs[tenant]
                group.addTask {
                    let response = await runtime.handle(Request(method: .get, "/?n=\(n)"), env: env)
                    let body = (try? await response.body.collect()).map { String(decoding: $0, as: UTF8.self) }
                    return (n, response.status.code, body ?? "unreadable")
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == tenants * requestsPerTenant)
        for (n, status, body) in results {
            let tenant = "tenant-\(n % tenants)"
            #expect(status == 200, "request \(n): \(body)")
            #expect(body == "\(tenant) \(tenant) \(tenant)", "request \(n)")
        }
        // Every write went to the namespace of the request's own env.
        for tenant in 0..<tenants {
            let keys = try await store.namespace(id: "tenant-ns-\(tenant)").list(prefix: "seen-by-").keys
            #expect(keys.count == requestsPerTenant)
            for key in keys {
                #expect(try await store.namespace(id: "tenant-ns-\(tenant)").get(key.name) == "tenant-\(tenant)")
            }
        }
        // A request without its own env gets the runtime's, which has no KV binding: a 500 that leaks nothing.
        let fallback = await runtime.handle(Request(method: .get, "/"))
        #expect(fallback.status == .internalServerError)
        #expect(try await fallback.body.collect() == Array(#"{"error":"internal server error"}"#.utf8))
    }

    struct ErrorCase: Sendable, CustomTestStringConvertible {
        var label: String
        var message: String
        var lookup: @Sendable (Env) throws -> Void

        var testDescription: String { label }
    }

    static let configured = "configured KV namespaces: SESSIONS, USERS; vars: MODE, REGION"

    static let errorCases: [ErrorCase] = [
        ErrorCase(
            label: "missing KV binding",
            message: #"no KV namespace is bound to "CACHE"; "# + configured,
            lookup: { _ = try $0.kv("CACHE") }),
        ErrorCase(
            label: "var asked for as KV",
            message: #"the binding "MODE" is a string var, not a KV namespace; "# + configured,
            lookup: { _ = try $0.kv("MODE") }),
        ErrorCase(
            label: "KV asked for as a var",
            message: #"the binding "SESSIONS" is a KV namespace, not a string var; "# + configured,
            lookup: { _ = try $0.requireString("SESSIONS") }),
        ErrorCase(
            label: "missing var",
            message: #"the var "SECRET" is not set; "# + configured,
            lookup: { _ = try $0.requireString("SECRET") }),
    ]

    @Test(arguments: errorCases)
    func bindingErrorsNameTheBindingAndWhatIsConfigured(_ errorCase: ErrorCase) async throws {
        let store = try await SQLiteKVStore(inMemoryWithClock: SystemClock())
        let env = try Env(
            kv: ["SESSIONS": store.namespace(id: "s"), "USERS": store.namespace(id: "u")],
            vars: ["MODE": "dev", "REGION": "eu"])
        let error = #expect(throws: EnvError.self) { try errorCase.lookup(env) }
        #expect(error?.description == errorCase.message)
    }

    @Test func emptyEnvSaysNothingIsConfigured() {
        let error = #expect(throws: EnvError.self) { try Env().kv("SESSIONS") }
        #expect(
            error?.description == #"no KV namespace is bound to "SESSIONS"; configured KV namespaces: none; vars: none"#
        )
    }

    @Test func varsAndLookups() async throws {
        let store = try await SQLiteKVStore(inMemoryWithClock: SystemClock())
        let env = try Env(kv: ["SESSIONS": store.namespace(id: "s")], vars: ["MODE": "dev"])
        #expect(env.string("MODE") == "dev")
        #expect(env.string("SESSIONS") == nil)
        #expect(env.string("NOPE") == nil)
        let changed = env.settingVars(["MODE": "prod", "EXTRA": "1"])
        #expect(changed.string("MODE") == "prod")
        #expect(changed.string("EXTRA") == "1")
        #expect(env.string("MODE") == "dev")
        let error = #expect(throws: EnvError.self) {
            try Env(kv: ["SESSIONS": store.namespace(id: "s")], vars: ["SESSIONS": "x"])
        }
        #expect(error?.description == #""SESSIONS" is both a KV namespace binding and a var; rename one of them"#)
    }
}
