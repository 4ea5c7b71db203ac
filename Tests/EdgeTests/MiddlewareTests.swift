import Edge
import EdgeHTTP
import EdgeKVTestSupport
import HTTPTypes
import InMemoryLogging
import Logging
import Testing

/// Middleware order, changes on the way in and out, and how errors become responses.
@Suite struct MiddlewareTests {
    /// Logs `name in` before calling `next` and `name out` after.
    static func tracing(_ name: String, _ log: EventLog) -> some Middleware {
        MiddlewareFunction { request, context, next in
            log.append("\(name) in")
            let response = try await next(request, context)
            log.append("\(name) out")
            return response
        }
    }

    enum User: ContextLocalKey {
        typealias Value = String
    }

    @Test(arguments: Transport.allCases)
    func middlewareRunsInOrderAroundTheHandler(transport: Transport) async throws {
        let log = EventLog()
        let runtime = EdgeRuntime(
            middleware: [Self.tracing("first", log), Self.tracing("second", log), Self.tracing("third", log)],
            logger: quietLogger
        ) { _, _ in
            log.append("handler")
            return .text("ok")
        }
        let response = try await Harness.with(transport, runtime) { try await $0.send(.get, "/") }
        #expect(response.text == "ok")
        #expect(
            log.all == ["first in", "second in", "third in", "handler", "third out", "second out", "first out"])
    }

    @Test(arguments: Transport.allCases)
    func middlewareChangesRequestOnTheWayInAndResponseOnTheWayOut(transport: Transport) async throws {
        let rewrite = MiddlewareFunction { request, context, next in
            var request = request
            if request.path == "/old" { request.head.path = "/new?from=old" }
            request.headers[HTTPField.Name("X-User")!] = "alice"
            context[local: User.self] = "alice from locals"
            var response = try await next(request, context)
            response.headers[HTTPField.Name("X-Powered-By")!] = "edge"
            response.headers[.cacheControl] = "no-store"
            if response.status == .notFound { response.status = .gone }
            return response
        }
        let runtime = EdgeRuntime(middleware: [rewrite], logger: quietLogger) { request, context in
            guard request.path == "/new" else { throw EdgeError(.notFound, "not found") }
            let user = request.headers[HTTPField.Name("X-User")!] ?? "nobody"
            return .text("\(request.target) \(user) \(context[local: User.self] ?? "no local")")
        }
        try await Harness.with(transport, runtime) { harness in
            let response = try await harness.send(.get, "/old")
            #expect(response.status == 200)
            #expect(response.text == "/new?from=old alice alice from locals")
            #expect(response.header("X-Powered-By") == "edge")
            #expect(response.header("Cache-Control") == "no-store")
            // An error thrown by the handler passes up through the middleware; the runtime answers it.
            let missing = try await harness.send(.get, "/elsewhere")
            #expect(missing.status == 404)
            #expect(missing.header("X-Powered-By") == nil)
        }
    }

    @Test(arguments: Transport.allCases)
    func middlewareCanAnswerWithoutCallingNext(transport: Transport) async throws {
        let log = EventLog()
        let auth = MiddlewareFunction { request, context, next in
            guard request.headers[.authorization] == "Bearer good" else {
                return .text("no entry", status: .unauthorized, headers: [.wwwAuthenticate: "Bearer"])
            }
            return try await next(request, context)
        }
        let runtime = EdgeRuntime(middleware: [auth], logger: quietLogger) { _, _ in
            log.append("handler")
            return .text("secret stuff")
        }
        try await Harness.with(transport, runtime) { harness in
            let denied = try await harness.send(.get, "/")
            #expect(denied.status == 401)
            #expect(denied.text == "no entry")
            #expect(denied.header("WWW-Authenticate") == "Bearer")
            #expect(log.all.isEmpty)
            let allowed = try await harness.send(.get, "/", headers: [("Authorization", "Bearer good")])
            #expect(allowed.text == "secret stuff")
            #expect(log.all == ["handler"])
        }
    }

    @Test func middlewareCanRecoverFromErrors() async throws {
        let recover = MiddlewareFunction { request, context, next in
            do {
                return try await next(request, context)
            } catch is SecretError {
                return .text("recovered", status: .serviceUnavailable)
            }
        }
        let runtime = EdgeRuntime(middleware: [recover], logger: quietLogger, handler: TestApp.handler)
        let response = try await HTTPTestResponse(await runtime.handle(Request(method: .get, "/fail")))
        #expect(response.status == 503)
        #expect(response.text == "recovered")
    }

    enum Visits: ContextLocalKey {
        typealias Value = Int
    }

    final class Account: Sendable {
        let name: String
        init(name: String) { self.name = name }
    }

    enum CurrentAccount: ContextLocalKey {
        typealias Value = Account
    }

    @Test func localsKeepEachKeysValueApartAndCanBeReplacedAndRemoved() {
        let context = Context(platform: Platform(env: Env()), request: Request(method: .get, "/"))
        #expect(context[local: User.self] == nil)
        context[local: User.self] = "alice"
        context[local: Visits.self] = 3
        let account = Account(name: "bob")
        context[local: CurrentAccount.self] = account
        #expect(context[local: User.self] == "alice")
        #expect(context[local: Visits.self] == 3)
        #expect(context[local: CurrentAccount.self] === account)
        context[local: Visits.self] = 4
        #expect(context[local: Visits.self] == 4)
        context[local: User.self] = nil
        #expect(context[local: User.self] == nil)
        #expect(context[local: Visits.self] == 4)
        #expect(context[local: CurrentAccount.self]?.name == "bob")
    }

    @Test func composeWithoutMiddlewareIsTheHandler() async throws {
        let handler = compose([]) { request, _ in .text(request.path) }
        let context = Context(platform: Platform(env: Env()), request: Request(method: .get, "/x"))
        #expect(try await handler(Request(method: .get, "/x"), context).body.collect() == Array("/x".utf8))
    }

    @Test(arguments: Transport.allCases)
    func thrownErrorsBecome500WithoutLeakingTheirText(transport: Transport) async throws {
        let logs = InMemoryLogHandler()
        let runtime = EdgeRuntime(logger: Logger(label: "test", factory: { _ in logs }), handler: TestApp.handler)
        let response = try await Harness.with(transport, runtime) { try await $0.send(.get, "/fail?token=x") }
        #expect(response.status == 500)
        #expect(response.header("Content-Type") == "application/json")
        #expect(response.text == #"{"error":"internal server error"}"#)
        #expect(!response.text.contains("hunter2"))
        #expect(!response.headers.contains { $0.value.contains("hunter2") })
        // The operator still learns what failed.
        let entry = try #require(logs.entries.first { $0.level == .error })
        #expect(entry.message == "handler failed")
        #expect(entry.metadata["error"] == "database password is hunter2")
        #expect(entry.metadata["path"] == "/fail")
    }

    struct StatusCase: Sendable, CustomTestStringConvertible {
        var status: HTTPResponse.Status
        var message: String
        var headers: [String: String] = [:]

        var testDescription: String { "\(status.code)" }
    }

    static let statuses: [StatusCase] = [
        StatusCase(status: .badRequest, message: "the name is missing"),
        StatusCase(status: .unauthorized, message: "log in first", headers: ["WWW-Authenticate": "Bearer"]),
        StatusCase(status: .forbidden, message: "not yours"),
        StatusCase(status: .notFound, message: "no such item"),
        StatusCase(status: .conflict, message: "already exists"),
        StatusCase(status: HTTPResponse.Status(code: 418), message: "I'm a teapot"),
        StatusCase(status: .tooManyRequests, message: "slow down", headers: ["Retry-After": "1"]),
        StatusCase(status: .serviceUnavailable, message: "try later"),
    ]

    @Test(arguments: Transport.allCases, statuses)
    func edgeErrorAnswersWithItsStatus(transport: Transport, statusCase: StatusCase) async throws {
        let runtime = EdgeRuntime(logger: quietLogger) { _, _ in
            var fields = HTTPFields()
            for (name, value) in statusCase.headers { fields[HTTPField.Name(name)!] = value }
            throw EdgeError(statusCase.status, statusCase.message, headers: fields)
        }
        let response = try await Harness.with(transport, runtime) { try await $0.send(.get, "/") }
        #expect(response.status == statusCase.status.code)
        #expect(try response.json([String: String].self) == ["error": statusCase.message])
        for (name, value) in statusCase.headers { #expect(response.header(name) == value) }
    }

    @Test(arguments: Transport.allCases)
    func errorHandlerCanBeReplaced(transport: Transport) async throws {
        let runtime = EdgeRuntime(
            logger: quietLogger,
            errorHandler: { error, request, _ in
                .text("custom: \(type(of: error)) at \(request.path)", status: .badGateway)
            },
            handler: TestApp.handler)
        let response = try await Harness.with(transport, runtime) { try await $0.send(.get, "/fail") }
        #expect(response.status == 502)
        #expect(response.text == "custom: SecretError at /fail")
    }
}
