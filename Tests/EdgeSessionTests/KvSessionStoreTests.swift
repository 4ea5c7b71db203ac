import Edge
import EdgeKV
import EdgeKVConsistency
import EdgeKVSQLite
import EdgeKVTestSupport
import EdgeSession
import Foundation
import HTTPTypes
import Testing

@Suite("KvSessionStore")
struct KvSessionStoreTests {
    // hattip flaw 13: fractional TTLs. Here the TTL is whole seconds, at least KV's 60, while the session itself
    // still expires after its maxAge on the context clock.
    @Test func ttlIsWholeSecondsAndAtLeast60() async throws {
        let harness = try await SessionHarness(.kv, maxAge: 30)
        var browser = Browser()
        await harness.send(&browser, "/")
        let id = try #require(browser.session)
        let listed = try #require(try await harness.namespace!.list().keys.first)
        #expect(listed.name == id)
        #expect(listed.expiration == testEpoch + 60)
        let entry = try #require(try await harness.namespace!.getWithMetadata(id))
        #expect(entry.value == #"{"visits":1}"#)
        #expect(entry.metadata == .object(["expiresAt": .int((testEpoch + 30) * 1000)]))

        harness.clock.advance(seconds: 30)
        #expect(try await harness.send(&browser, "/state").decode(StateBody.self).fresh)
        #expect(try await harness.namespace!.get(id) != nil)  // KV keeps it to its own minimum

        let long = try await SessionHarness(.kv, maxAge: 7200)
        var other = Browser()
        await long.send(&other, "/")
        #expect(try await long.namespace!.list().keys.first?.expiration == testEpoch + 7200)
    }

    // A KV 429 reaches the app as a distinguishable error, so it can answer 429. The 429 is the consistency
    // simulator's write limit (a second write to a key within a second) over a real SQLite namespace.
    @Test func aRateLimitedWriteSurfacesAsRateLimited() async throws {
        let clock = ManualClock(seconds: testEpoch)
        let sqlite = try await SQLiteKVStore(inMemoryWithClock: clock)
        let truth = sqlite.namespace(id: "sessions")
        let simulator = ConsistencySimulator(
            base: truth, configuration: ConsistencySimulator.Configuration(propagation: 0, cacheTtl: 0))
        let errors = ErrorLog()
        let runtime = EdgeRuntime(
            env: try Env(kv: ["SESSIONS": simulator.namespace(at: "LHR")]),
            middleware: [try session(SessionOptions(store: KvSessionStore(), defaultData: AppData()))],
            clock: clock,
            errorHandler: { error, request, context in
                errors.append(error)
                guard let error = error as? SessionError, error.isRateLimited else {
                    return await defaultErrorHandler(error, request, context)
                }
                return (try? Response.json(["error": "too many requests"], status: .tooManyRequests)) ?? .empty()
            },
            handler: testApp)
        let first = await runtime.handle(Request("/"))
        #expect(first.status == .ok)
        let id = try #require(first.setCookie()?.value)
        #expect(errors.errors.isEmpty)

        // The same session written again within the second.
        clock.advance(milliseconds: 999)
        let response = await runtime.handle(Request("/", headers: [.cookie: "session=\(id)"]))
        #expect(response.status == .tooManyRequests)
        #expect(response.setCookie() == nil)
        let error = try #require(errors.errors.first as? SessionError)
        #expect(error.code == .rateLimited)
        #expect(error.description.contains("KV PUT failed: 429 Too Many Requests"))
        #expect((error.underlying as? KVError)?.status == 429)
        #expect(try await truth.get(id) == #"{"visits":1}"#, "the refused write changed the stored session")

        // A second later the write is allowed again.
        clock.advance(milliseconds: 1)
        let later = await runtime.handle(Request("/", headers: [.cookie: "session=\(id)"]))
        #expect(later.status == .ok)
        #expect(try later.decode([String: Int].self) == ["visits": 2])
        #expect(try await truth.get(id) == #"{"visits":2}"#)
        #expect(errors.errors.count == 1)
    }

    @Test func theKeyPrefixIsApplied() async throws {
        let sqlite = try await SQLiteKVStore(inMemoryWithClock: ManualClock(seconds: testEpoch))
        let namespace = sqlite.namespace(id: "sessions")
        let runtime = EdgeRuntime(
            env: try Env(kv: ["SESSIONS": namespace]),
            middleware: [
                try session(SessionOptions(store: KvSessionStore(keyPrefix: "sess:"), defaultData: AppData()))
            ],
            clock: ManualClock(seconds: testEpoch), handler: testApp)
        let id = try #require(await runtime.handle(Request("/")).setCookie()?.value)
        #expect(try await namespace.list().keys.map(\.name) == ["sess:" + id])
        let again = await runtime.handle(Request("/", headers: [.cookie: "session=\(id)"]))
        #expect(try again.decode([String: Int].self) == ["visits": 2])
    }

    // The namespace is the request's binding: two requests with different envs use different namespaces.
    @Test func theNamespaceComesFromTheRequestsEnv() async throws {
        let sqlite = try await SQLiteKVStore(inMemoryWithClock: ManualClock(seconds: testEpoch))
        let a = sqlite.namespace(id: "a")
        let b = sqlite.namespace(id: "b")
        let store = KvSessionStore { context in try context.env.kv("SESSIONS") }
        let errors = ErrorLog()
        let runtime = EdgeRuntime(
            middleware: [try session(SessionOptions(store: store, defaultData: AppData()))],
            clock: ManualClock(seconds: testEpoch),
            errorHandler: { error, request, context in
                errors.append(error)
                return await defaultErrorHandler(error, request, context)
            },
            handler: testApp)
        _ = await runtime.handle(Request("/"), env: try Env(kv: ["SESSIONS": a]))
        _ = await runtime.handle(Request("/"), env: try Env(kv: ["SESSIONS": b]))
        _ = await runtime.handle(Request("/"), env: try Env(kv: ["SESSIONS": b]))
        #expect(try await a.list().keys.count == 1)
        #expect(try await b.list().keys.count == 2)

        let missing = await runtime.handle(Request("/"), env: Env())
        #expect(missing.status == .internalServerError)
        let error = try #require(errors.errors.last as? SessionError)
        #expect(error.code == .storeFailed)
        #expect(error.description.contains("no KV namespace is bound to \"SESSIONS\""))
    }

    @Test func anEntryWrittenByHattipLoads() async throws {
        let harness = try await SessionHarness(.kv)
        let id = SessionID.generate()
        try await harness.namespace!.put(id, #"{"user":"carol","visits":5}"#)
        var browser = Browser()
        browser.session = id
        let state = try await harness.send(&browser, "/state").decode(StateBody.self)
        #expect(state == StateBody(fresh: false, id: id, visits: 5, user: "carol"))
    }
}
