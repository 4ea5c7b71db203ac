import Edge
import EdgeHTTP
import EdgeKVTestSupport
import Foundation
import HTTPTypes
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Routing, headers, JSON and queries through the same handler, in-process and over a real socket.
@Suite struct RoutingTests {
    struct Route: Sendable, CustomTestStringConvertible {
        var method: HTTPRequest.Method
        var target: String
        var body: String?
        var status: Int
        var response: String

        var testDescription: String { "\(method) \(target) → \(status)" }
    }

    static let routes: [Route] = [
        Route(method: .get, target: "/", status: 200, response: "home"),
        Route(method: .get, target: "/hello", status: 200, response: "hello, world"),
        Route(method: .get, target: "/hello?name=x", status: 200, response: "hello, world"),
        Route(method: .post, target: "/hello", status: 405, response: #"{"error":"use GET"}"#),
        Route(method: .get, target: "/items/42", status: 200, response: #"{"count":1,"name":"42"}"#),
        Route(method: .get, target: "/items/a%20b", status: 200, response: #"{"count":1,"name":"a%20b"}"#),
        Route(
            method: .put, target: "/items/7", body: #"{"name":"ignored","count":5}"#, status: 200,
            response: #"{"count":5,"name":"7"}"#),
        Route(method: .patch, target: "/items/7", body: "", status: 200, response: "patched 7"),
        Route(method: .delete, target: "/items/7", status: 204, response: ""),
        Route(method: .get, target: "/items", status: 404, response: #"{"error":"not found"}"#),
        Route(method: .get, target: "/items/1/2", status: 404, response: #"{"error":"not found"}"#),
        Route(method: .get, target: "/nowhere", status: 404, response: #"{"error":"not found"}"#),
        Route(method: .options, target: "/", status: 404, response: #"{"error":"not found"}"#),
    ]

    @Test(arguments: Transport.allCases, routes)
    func routesByMethodAndPath(transport: Transport, route: Route) async throws {
        let runtime = EdgeRuntime(logger: quietLogger, handler: TestApp.handler)
        let response = try await Harness.with(transport, runtime) { harness in
            try await harness.send(route.method, route.target, body: route.body.map { Array($0.utf8) })
        }
        #expect(response.status == route.status)
        #expect(response.text == route.response)
        if route.status == 405 { #expect(response.header("Allow") == "GET") }
    }

    @Test(arguments: Transport.allCases)
    func headersBothWays(transport: Transport) async throws {
        let runtime = EdgeRuntime(logger: quietLogger, handler: TestApp.handler)
        let response = try await Harness.with(transport, runtime) { harness in
            try await harness.send(
                .get, "/headers",
                headers: [("X-Trace", "abc-123"), ("Accept", "text/plain"), ("Accept", "application/json")])
        }
        #expect(response.status == 200)
        #expect(response.header("x-echo-trace") == "abc-123")
        #expect(response.header("X-Echo-Accept") == "text/plain | application/json")
        #expect(response.headers("X-Multi") == ["one", "two"])
        #expect(response.header("Content-Type") == "text/plain; charset=utf-8")
        if transport == .http { #expect(response.header("Content-Length") == "7") }
    }

    @Test(arguments: Transport.allCases)
    func jsonInAndOut(transport: Transport) async throws {
        let runtime = EdgeRuntime(logger: quietLogger, handler: TestApp.handler)
        try await Harness.with(transport, runtime) { harness in
            let created = try await harness.send(
                .post, "/json", headers: [("Content-Type", "application/json")],
                body: Array(#"{"name":"widget","count":2}"#.utf8))
            #expect(created.status == 201)
            #expect(created.header("Content-Type") == "application/json")
            #expect(created.text == #"{"count":3,"name":"widget","received":true}"#)
            #expect(try created.json(TestApp.Receipt.self) == TestApp.Receipt(name: "widget", count: 3, received: true))

            for bad in ["", "not json", #"{"name":"widget"}"#, #"{"name":1,"count":2}"#, "[1,2]"] {
                let rejected = try await harness.send(.post, "/json", body: Array(bad.utf8))
                #expect(rejected.status == 400, "body \(bad.debugDescription)")
                #expect(rejected.text == #"{"error":"the request body is not valid JSON for this route"}"#)
            }
        }
    }

    struct QueryCase: Sendable, CustomTestStringConvertible {
        var target: String
        var query: String?
        var items: [[String]]

        var testDescription: String { target }
    }

    static let queries: [QueryCase] = [
        QueryCase(target: "/query", query: nil, items: []),
        QueryCase(target: "/query?", query: "", items: []),
        QueryCase(target: "/query?a=1&b=2", query: "a=1&b=2", items: [["a", "1"], ["b", "2"]]),
        QueryCase(target: "/query?a=1&a=2", query: "a=1&a=2", items: [["a", "1"], ["a", "2"]]),
        QueryCase(target: "/query?x=a+b%20c", query: "x=a+b%20c", items: [["x", "a b c"]]),
        QueryCase(target: "/query?k%C3%A4y=%E2%9C%93", query: "k%C3%A4y=%E2%9C%93", items: [["käy", "✓"]]),
        QueryCase(target: "/query?flag&b=", query: "flag&b=", items: [["flag", ""], ["b", ""]]),
        QueryCase(target: "/query?=v", query: "=v", items: [["", "v"]]),
        QueryCase(target: "/query?a=b=c", query: "a=b=c", items: [["a", "b=c"]]),
        QueryCase(target: "/query?a=1&&b=2&", query: "a=1&&b=2&", items: [["a", "1"], ["b", "2"]]),
        QueryCase(target: "/query?a=%ZZ&b=%E2%9C", query: "a=%ZZ&b=%E2%9C", items: [["a", "%ZZ"], ["b", "%E2%9C"]]),
        QueryCase(target: "/query?plus=%2B", query: "plus=%2B", items: [["plus", "+"]]),
    ]

    @Test(arguments: Transport.allCases, queries)
    func queryParsing(transport: Transport, query: QueryCase) async throws {
        let runtime = EdgeRuntime(logger: quietLogger, handler: TestApp.handler)
        let response = try await Harness.with(transport, runtime) { harness in
            try await harness.send(.get, query.target)
        }
        #expect(response.status == 200)
        let echo = try response.json(TestApp.QueryEcho.self)
        #expect(echo.query == query.query)
        #expect(echo.items == query.items)
    }

    @Test func requestParts() {
        let request = Request(method: .get, "/a%20b/c?x=1&y=two&x=3")
        #expect(request.target == "/a%20b/c?x=1&y=two&x=3")
        #expect(request.path == "/a%20b/c")
        #expect(request.query == "x=1&y=two&x=3")
        #expect(request.queryValue("x") == "1")
        #expect(request.queryValue("y") == "two")
        #expect(request.queryValue("z") == nil)
        #expect(!request.isSecure)
        #expect(Request(method: .get, "/", scheme: "https").isSecure)
        #expect(Request(method: .get, "/", headers: [HTTPField.Name("X-Forwarded-Proto")!: "HTTPS"]).isSecure)
    }

    @Test(arguments: Transport.allCases)
    func platformAndClientIP(transport: Transport) async throws {
        let runtime = EdgeRuntime(logger: quietLogger, handler: TestApp.handler)
        try await Harness.with(transport, runtime) { harness in
            #expect(try await harness.send(.get, "/ip").text == "edgekv 127.0.0.1")
            let proxied = try await harness.send(.get, "/ip", headers: [("CF-Connecting-IP", "203.0.113.9")])
            #expect(proxied.text == "edgekv 203.0.113.9")
        }
    }

    @Test func responseHelpers() async throws {
        let text = Response.text("hi", status: .accepted, headers: [.contentType: "text/html"])
        #expect(text.status == .accepted)
        #expect(text.headers[.contentType] == "text/html")
        #expect(text.body.bufferedBytes == Array("hi".utf8))

        let json = try Response.json(["path": "/a/b", "z": "1"])
        #expect(json.headers[.contentType] == "application/json")
        #expect(json.body.bufferedBytes.map { String(decoding: $0, as: UTF8.self) } == #"{"path":"/a/b","z":"1"}"#)

        let bytes = Response.bytes([0, 255])
        #expect(bytes.headers[.contentType] == "application/octet-stream")
        #expect(Response.empty().status == .noContent)
        #expect(try await Response.empty().body.collect().isEmpty)
    }

    /// A client that is not ours: FoundationNetworking's URLSession (libcurl underneath) talks to the server too.
    @Test func urlSessionClient() async throws {
        let runtime = EdgeRuntime(logger: quietLogger, handler: TestApp.handler)
        try await withServer(runtime) { server in
            let session = URLSession(configuration: .ephemeral)
            defer { session.finishTasksAndInvalidate() }
            var request = URLRequest(url: URL(string: "\(server.baseURL)/json")!)
            request.httpMethod = "POST"
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(#"{"name":"via urlsession","count":41}"#.utf8)
            let (data, response) = try await session.data(for: request)
            let http = try #require(response as? HTTPURLResponse)
            #expect(http.statusCode == 201)
            #expect(String(decoding: data, as: UTF8.self) == #"{"count":42,"name":"via urlsession","received":true}"#)
        }
    }
}
