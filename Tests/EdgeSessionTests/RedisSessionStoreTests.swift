import Edge
import EdgeKV
import EdgeKVTestSupport
import EdgeSession
import EdgeSessionRedis
import Foundation
import HTTPTypes
import Testing

@Suite("RedisSessionStore")
struct RedisSessionStoreTests {
    struct URLCase: Sendable, CustomTestStringConvertible {
        var url: String
        var expected: RedisConfiguration
        var testDescription: String { url }
    }

    @Test(arguments: [
        URLCase(url: "redis://127.0.0.1:16379", expected: RedisConfiguration(host: "127.0.0.1", port: 16379)),
        URLCase(url: "redis://cache", expected: RedisConfiguration(host: "cache", port: 6379)),
        URLCase(
            url: "redis://:p%40ss%3Aword@localhost:6380/2",
            expected: RedisConfiguration(host: "localhost", port: 6380, password: "p@ss:word", database: 2)),
        URLCase(
            url: "REDIS://app:s3cret@[::1]:7000?db=3",
            expected: RedisConfiguration(host: "::1", port: 7000, username: "app", password: "s3cret", database: 3)),
        URLCase(url: "redis://h:1/", expected: RedisConfiguration(host: "h", port: 1)),
    ])
    func redisURLsParse(urlCase: URLCase) throws {
        #expect(try RedisConfiguration(url: urlCase.url) == urlCase.expected)
    }

    @Test(arguments: [
        "http://localhost", "rediss://:hunter2@localhost", "redis://", "redis://:hunter2@", "redis://h:0",
        "redis://h:65536", "redis://h:port", "redis://h/db", "redis://hunter2@h", "redis://[::1",
        "redis://:hunter2%zz@h",
    ])
    func badRedisURLsAreRefusedWithoutThePassword(url: String) throws {
        let error = try #require(throws: SessionError.self) { try RedisConfiguration(url: url) }
        #expect(error.code == .invalidConfiguration)
        #expect(error.description.contains("Redis URL"))
        #expect(!error.description.contains("hunter2"))
    }

    @Test func theDescriptionHidesThePassword() throws {
        let configuration = try RedisConfiguration(url: "redis://app:hunter2@cache:6380/4")
        #expect(configuration.description == "redis://app:***@cache:6380/4")
    }

    // hattip flaw 13: `EX maxAge / 1000` could be fractional. Here it is whole seconds, and the value carries the
    // expiry on the context clock.
    @Test func sessionsAreWrittenWithSetEXInWholeSeconds() async throws {
        let harness = try await SessionHarness(.redis, maxAge: 90)
        var browser = Browser()
        await harness.send(&browser, "/")
        let key = harness.redisPrefix + (try #require(browser.session))
        guard case .integer(let ttl) = try await harness.redis!.command(["TTL", key]) else {
            Issue.record("TTL did not answer an integer")
            return
        }
        #expect((1...90).contains(ttl))
        let value = try #require(try await harness.redis!.get(key))
        #expect(String(decoding: value, as: UTF8.self) == "\((testEpoch + 90) * 1000).{\"visits\":1}")
    }

    @Test func aDroppedConnectionIsReopened() async throws {
        let url = try TestRedis.requireURL()
        let client = try RedisClient(url: url, connections: 1)
        let killer = try RedisClient(url: url, connections: 1)
        let store = RedisSessionStore(client: client, keyPrefix: TestRedis.uniquePrefix())
        let context = Context(platform: Platform(env: Env()), request: Request("/"), clock: SystemClock())

        let id = try await store.save(nil, #"{"visits":1}"#, maxAge: 60, context: context)
        guard case .integer(let before) = try await client.command(["CLIENT", "ID"]) else {
            Issue.record("CLIENT ID did not answer an integer")
            return
        }
        #expect(try await killer.command(["CLIENT", "KILL", "ID", String(before)]) == .integer(1))

        #expect(try await store.load(id, context: context)?.data == #"{"visits":1}"#)
        guard case .integer(let after) = try await client.command(["CLIENT", "ID"]) else {
            Issue.record("CLIENT ID did not answer an integer")
            return
        }
        #expect(after != before)
    }

    @Test func theConfiguredDatabaseIsSelected() async throws {
        let url = try TestRedis.requireURL()
        var configuration = try RedisConfiguration(url: url)
        configuration.database = 5
        let db5 = RedisClient(configuration: configuration)
        configuration.database = 0
        let db0 = RedisClient(configuration: configuration)
        let key = TestRedis.uniquePrefix() + "db"
        try await db5.set(key, Array("five".utf8), expiresInSeconds: 60)
        #expect(try await db5.get(key) == Array("five".utf8))
        #expect(try await db0.get(key) == nil)
        try await db5.delete(key)
    }

    @Test func aRefusedPasswordIsAClearErrorThatDoesNotShowIt() async throws {
        var configuration = try RedisConfiguration(url: try TestRedis.requireURL())
        configuration.password = "hunter2-not-configured"
        let client = RedisClient(configuration: configuration)
        let error = try await #require(throws: RedisError.self) { _ = try await client.get("k") }
        #expect(error.kind == .reply)
        #expect(error.description.contains("AUTH"))
        #expect(!error.description.contains("hunter2"))
    }

    // A Redis that cannot be reached is a server error, not a silently fresh session.
    @Test func anUnreachableServerFailsTheRequest() async throws {
        let store = try RedisSessionStore(url: "redis://127.0.0.1:1")
        let errors = ErrorLog()
        let runtime = EdgeRuntime(
            middleware: [try session(SessionOptions(store: store, defaultData: AppData()))],
            errorHandler: { error, request, context in
                errors.append(error)
                return await defaultErrorHandler(error, request, context)
            },
            handler: testApp)
        let response = await runtime.handle(Request("/"))
        #expect(response.status == .internalServerError)
        let error = try #require(errors.errors.first as? SessionError)
        #expect(error.code == .storeFailed)
        #expect((error.underlying as? RedisError)?.kind == .connection)
        #expect(error.description.contains("127.0.0.1:1"))
    }

    @Test func plainJSONWrittenByHattipLoads() async throws {
        let harness = try await SessionHarness(.redis)
        let id = SessionID.generate()
        try await harness.redis!.set(harness.redisPrefix + id, Array(#"{"visits":4}"#.utf8), expiresInSeconds: 60)
        var browser = Browser()
        browser.session = id
        let state = try await harness.send(&browser, "/state").decode(StateBody.self)
        #expect(state.visits == 4)
        #expect(!state.fresh)
    }
}
