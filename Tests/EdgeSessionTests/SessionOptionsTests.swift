import Edge
import EdgeKV
import EdgeSession
import Foundation
import HTTPTypes
import Testing

@Suite("session() options")
struct SessionOptionsTests {
    static let sessionHeader = HTTPField.Name("X-Session")!

    @Test func customGetAndSetSessionIdReplaceTheCookie() async throws {
        var options = SessionOptions(store: UnsafeMemoryStore(), defaultData: AppData())
        options.getSessionId = { request, _ in request.headers[Self.sessionHeader] }
        options.setSessionId = { update, _, response in
            response.headers[Self.sessionHeader] = update.id ?? "cleared"
        }
        let runtime = EdgeRuntime(middleware: [try session(options)], handler: testApp)
        let first = await runtime.handle(Request("/"))
        #expect(first.setCookies.isEmpty)
        let id = try #require(first.headers[Self.sessionHeader])
        let second = await runtime.handle(Request("/", headers: [Self.sessionHeader: id]))
        #expect(try second.decode([String: Int].self) == ["visits": 2])
        let logout = await runtime.handle(Request(method: .post, "/logout", headers: [Self.sessionHeader: id]))
        #expect(logout.headers[Self.sessionHeader] == "cleared")
    }

    @Test func cookieNameAndOptionsAreHonoured() async throws {
        var options = SessionOptions(store: UnsafeMemoryStore(), defaultData: AppData())
        options.cookieName = "sid"
        // hattip flaw 2: `expires` was frozen at start-up. Here the lifetime is always maxAge from the save.
        options.cookieOptions = CookieOptions(
            maxAge: 999, domain: "example.com", path: "/app", expires: Date(timeIntervalSince1970: 2_000_000_000),
            secure: true, sameSite: .strict)
        options.maxAge = 60
        let runtime = EdgeRuntime(middleware: [try session(options)], handler: testApp)
        let cookie = try #require(await runtime.handle(Request("/")).setCookie("sid"))
        #expect(cookie.maxAge == 60)
        #expect(cookie.attributes["domain"] == "example.com")
        #expect(cookie.attributes["path"] == "/app")
        #expect(cookie.attributes["samesite"] == "Strict")
        #expect(cookie.has("Secure"))
        #expect(!cookie.has("HttpOnly"))
        #expect(!cookie.has("Expires"))
    }

    /// Session data whose encoder writes its keys in the order the handler chose (`descending` is not stored), so
    /// that two equal values can be encoded in two key orders on purpose rather than by the luck of a dictionary.
    struct OrderedCounts: Codable, Sendable {
        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
        var counts: [String: Int] = [:]
        var descending = false

        init(counts: [String: Int] = [:], descending: Bool = false) {
            self.counts = counts
            self.descending = descending
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            for key in container.allKeys { counts[key.stringValue] = try container.decode(Int.self, forKey: key) }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            let names = counts.keys.sorted()
            for name in descending ? names.reversed() : names {
                try container.encode(counts[name]!, forKey: Key(stringValue: name))
            }
        }
    }

    // hattip flaw 10: change detection by `JSON.stringify` depended on key order. Here the encoding is canonical.
    @Test func dataRebuiltWithTheSameContentIsNotAChange() async throws {
        let counts = Dictionary(uniqueKeysWithValues: (0..<16).map { ("key\($0)", $0) })
        // The two values do encode differently unless keys are sorted: otherwise this test would prove nothing.
        let plain = JSONEncoder()
        #expect(
            try plain.encode(OrderedCounts(counts: counts))
                != plain.encode(OrderedCounts(counts: counts, descending: true)))

        let options = SessionOptions<OrderedCounts>(store: UnsafeMemoryStore(), defaultData: OrderedCounts())
        let runtime = EdgeRuntime(middleware: [try session(options)]) { request, context in
            let session = try context.session(OrderedCounts.self)
            if request.path == "/fill" {
                session.data = OrderedCounts(counts: counts)
            } else {
                // The same content, written in the opposite key order.
                session.data = OrderedCounts(counts: session.data.counts, descending: true)
            }
            return .text("ok")
        }
        let id = try #require(await runtime.handle(Request("/fill")).setCookie()?.value)
        let rebuilt = await runtime.handle(Request("/rebuild", headers: [.cookie: "session=\(id)"]))
        #expect(rebuilt.setCookie() == nil)
    }

    @Test func invalidOptionsAreRefused() throws {
        var options = SessionOptions(store: UnsafeMemoryStore(), defaultData: AppData())
        options.maxAge = 0
        #expect(throws: SessionError.self) { try session(options) }
        options.maxAge = 60
        options.rolling = RollingExpiry(minimumInterval: -1)
        #expect(throws: SessionError.self) { try session(options) }
        options.rolling = nil
        options.cookieName = "bad name"
        let error = try #require(throws: SessionError.self) { try session(options) }
        #expect(error.code == .invalidConfiguration)
    }

    @Test func defaultDataThatIsNotJSONIsRefusedUpFront() throws {
        struct Reading: Codable, Sendable { var value: Double }
        // JSON has no NaN: the default could never be saved, so the middleware is not made.
        let options = SessionOptions(store: UnsafeMemoryStore(), defaultData: Reading(value: .nan))
        let error = try #require(throws: SessionError.self) { try session(options) }
        #expect(error.code == .invalidConfiguration)
        #expect(error.description.contains("default session data"))
    }

    @Test func askingForASessionWithoutTheMiddlewareIsAClearError() async throws {
        struct Other: Codable, Sendable {}
        let runtime = EdgeRuntime(
            middleware: [try session(SessionOptions(store: UnsafeMemoryStore(), defaultData: AppData()))]
        ) { _, context in
            do {
                _ = try context.session(Other.self)
                return .text("unexpected")
            } catch let error as SessionError {
                return .text("\(error.code): \(error)")
            }
        }
        let body = await runtime.handle(Request("/")).body.bufferedBytes ?? []
        #expect(String(decoding: body, as: UTF8.self).hasPrefix("notInstalled: no session() middleware"))
    }

    @Test func defaultDataFunctionsSeeTheContext() async throws {
        let options = SessionOptions(store: UnsafeMemoryStore()) { context in
            AppData(visits: 0, user: context.env.string("GUEST_NAME"))
        }
        let runtime = EdgeRuntime(
            env: try Env(vars: ["GUEST_NAME": "guest"]), middleware: [try session(options)], handler: testApp)
        let state = try await runtime.handle(Request("/state")).decode(StateBody.self)
        #expect(state.user == "guest")
        #expect(state.fresh)
    }

    @Test func theStoreCanBeChosenPerRequest() async throws {
        let memory = UnsafeMemoryStore()
        let unsigned = UnsignedCookieStore()
        let options = SessionOptions<AppData>(
            store: .perRequest { context -> any SessionStore in
                context.env.string("SESSION_STORE") == "unsigned" ? unsigned : memory
            },
            defaultData: .value(AppData()))
        let runtime = EdgeRuntime(middleware: [try session(options)], handler: testApp)
        let viaMemory = await runtime.handle(Request("/"), env: try Env(vars: ["SESSION_STORE": "memory"]))
        #expect(SessionID.isWellFormed(try #require(viaMemory.setCookie()?.value)))
        let viaCookie = await runtime.handle(Request("/"), env: try Env(vars: ["SESSION_STORE": "unsigned"]))
        #expect(viaCookie.setCookie()?.value == "%7B%22visits%22%3A1%7D")
        #expect(memory.count == 1)
    }

    @Test func sessionIdsAreLongAndRandom() {
        let ids = Set((0..<1000).map { _ in SessionID.generate() })
        #expect(ids.count == 1000)
        #expect(ids.allSatisfy { $0.count == 43 && SessionID.isWellFormed($0) })
        #expect(!SessionID.isWellFormed(String(repeating: "A", count: 42)))
        #expect(!SessionID.isWellFormed(String(repeating: "+", count: 43)))
    }
}
