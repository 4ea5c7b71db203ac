import Edge
import EdgeHTTP
import EdgeKVTestSupport
import HTTPTypes
import Testing

/// `ctx.setCookie` / `ctx.deleteCookie`: queued by the handler or middleware, appended after the chain returns,
/// dropped when the request fails.
@Suite struct ContextCookieTests {
    @Test(arguments: Transport.allCases)
    func queuedCookiesAreAppendedAfterTheHandler(transport: Transport) async throws {
        let stamp = MiddlewareFunction { request, context, next in
            let response = try await next(request, context)
            // Queued after the handler returned: still appended, after the handler's own.
            try context.setCookie("seen", "yes", options: CookieOptions(path: "/"))
            return response
        }
        let runtime = EdgeRuntime(middleware: [stamp], logger: quietLogger) { _, context in
            try context.setCookie(
                "session", "a b;c", options: CookieOptions(maxAge: 60, httpOnly: true, sameSite: .lax))
            try context.deleteCookie(
                "old", options: CookieOptions(maxAge: 999, path: "/", expires: SetCookieTests.newYear))
            #expect(context.outgoingCookies.map(\.name) == ["session", "old"])
            var headers = HTTPFields()
            headers.append(HTTPField(name: .setCookie, value: "own=1"))
            return .text("ok", headers: headers)
        }
        let response = try await Harness.with(transport, runtime) { try await $0.send(.get, "/") }
        #expect(response.status == 200)
        #expect(
            response.headers("Set-Cookie") == [
                "own=1",
                "session=a%20b%3Bc; Max-Age=60; HttpOnly; SameSite=Lax",
                "old=; Max-Age=0; Path=/",
                "seen=yes; Path=/",
            ])
    }

    @Test(arguments: Transport.allCases)
    func cookiesOfAFailedRequestAreDropped(transport: Transport) async throws {
        let runtime = EdgeRuntime(logger: quietLogger) { request, context in
            try context.setCookie("session", "new")
            try context.deleteCookie("other")
            switch request.path {
            case "/crash": throw SecretError()
            case "/reject": throw EdgeError(.badRequest, "nope")
            default: return .text("ok")
            }
        }
        try await Harness.with(transport, runtime) { harness in
            let crashed = try await harness.send(.get, "/crash")
            #expect(crashed.status == 500)
            #expect(crashed.headers("Set-Cookie").isEmpty)
            let rejected = try await harness.send(.get, "/reject")
            #expect(rejected.status == 400)
            #expect(rejected.headers("Set-Cookie").isEmpty)
            let fine = try await harness.send(.get, "/")
            #expect(fine.headers("Set-Cookie") == ["session=new", "other=; Max-Age=0"])
        }
    }

    @Test func cookiesQueuedByMiddlewareBeforeAFailureAreDropped() async throws {
        let early = MiddlewareFunction { request, context, next in
            try context.setCookie("early", "1")
            return try await next(request, context)
        }
        let runtime = EdgeRuntime(middleware: [early], logger: quietLogger) { _, _ in throw SecretError() }
        let response = await runtime.handle(Request(method: .get, "/"))
        #expect(response.status == .internalServerError)
        #expect(response.headers[values: .setCookie].isEmpty)
    }

    @Test func invalidCookieInAHandlerThrows() async throws {
        let context = Context(platform: Platform(env: Env()), request: Request(method: .get, "/"))
        let error = #expect(throws: CookieError.self) { try context.setCookie("bad name", "v") }
        #expect(error?.description == #"invalid cookie name "bad name": it must be an RFC 7230 token"#)
        #expect(throws: CookieError.self) { try context.deleteCookie("ok", options: CookieOptions(path: "/;x")) }
        #expect(context.outgoingCookies.isEmpty)
    }

    @Test(arguments: Transport.allCases)
    func requestCookiesReachTheHandler(transport: Transport) async throws {
        let runtime = EdgeRuntime(logger: quietLogger, handler: TestApp.handler)
        let response = try await Harness.with(transport, runtime) {
            try await $0.send(.get, "/cookies", headers: [("Cookie", #"a=1; b="x y"; a=2; c=%E2%9C%93; bad=%zz"#)])
        }
        #expect(try response.json([String: String].self) == ["a": "1", "b": "x y", "c": "✓", "bad": "%zz"])
    }
}
