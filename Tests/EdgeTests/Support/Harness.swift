import Edge
import EdgeHTTP
import EdgeKVTestSupport
import HTTPTypes
import Testing

/// Where a test's requests go: straight into ``EdgeRuntime/handle(_:env:clientIP:clock:awaitBackgroundWork:)``, or
/// over a real socket to an ``EdgeServer`` on an ephemeral port. Tests that take a `Transport` argument check that
/// a handler behaves the same both ways.
enum Transport: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case inProcess
    case http

    var testDescription: String { rawValue }
}

/// Sends requests to one runtime through one transport and returns what a client sees.
struct Harness: Sendable {
    let runtime: EdgeRuntime
    let client: HTTPTestClient?

    /// Runs `body` with a harness for `runtime`; over HTTP the server is started first and stopped (gracefully)
    /// afterwards, even when `body` throws.
    static func with<T>(
        _ transport: Transport, _ runtime: EdgeRuntime, _ body: (Harness) async throws -> T
    ) async throws -> T {
        switch transport {
        case .inProcess:
            return try await body(Harness(runtime: runtime, client: nil))
        case .http:
            return try await withServer(runtime) { server in
                try await body(Harness(runtime: runtime, client: HTTPTestClient(port: server.port)))
            }
        }
    }

    /// Sends one request. In-process the response's header fields are listed in order, as a client would read them.
    func send(
        _ method: HTTPRequest.Method = .get, _ target: String, headers: [(name: String, value: String)] = [],
        body: [UInt8]? = nil
    ) async throws -> HTTPTestResponse {
        if let client {
            return try await client.request(method.rawValue, target, headers: headers, body: body)
        }
        var fields = HTTPFields()
        for (name, value) in headers { fields.append(HTTPField(name: HTTPField.Name(name)!, value: value)) }
        let response = await runtime.handle(Request(method: method, target, headers: fields, body: .bytes(body ?? [])))
        return try await HTTPTestResponse(response)
    }
}

extension HTTPTestResponse {
    /// What a client would read from an in-process response.
    init(_ response: Response) async throws {
        self.init(
            status: response.status.code, reason: response.status.reasonPhrase,
            headers: response.headers.map { HTTPTestHeader(name: $0.name.rawName, value: $0.value) },
            body: try await response.body.collect())
    }
}
