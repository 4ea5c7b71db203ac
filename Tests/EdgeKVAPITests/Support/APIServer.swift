import Edge
import EdgeHTTP
import EdgeKV
import EdgeKVAPI
import EdgeKVSQLite
import EdgeKVTestSupport
import Foundation
import Logging
import Testing

/// A logger that drops everything, so that access logs do not flood the test output.
let quietLogger = Logger(label: "edgekv-api-tests", factory: { _ in SwiftLogNoOpLogHandler() })

/// The account id in the tests' paths (the API serves any account id unless one is pinned).
let testAccount = "023e105f4ecef8ad9ca31a8372d0c353"

/// Where the tests' manual clocks start: 2026-01-01T00:00:00Z, in epoch seconds.
let testNow: Int64 = 1_767_225_600

/// The KV API served over a real socket on 127.0.0.1 (an ephemeral port) from a fresh SQLite state on a manual
/// clock. Every request goes through ``HTTPTestClient``, so tests see the bytes a client sees.
struct APIServer: Sendable {
    let directory: TemporaryDirectory
    let store: SQLiteKVStore
    let clock: ManualClock
    let server: RunningEdgeServer
    let client: HTTPTestClient
    /// The account id in ``root``.
    var account = testAccount
    /// Header lines sent with every request (credentials, say).
    var defaultHeaders: [(name: String, value: String)] = []

    /// `/client/v4/accounts/{account}/storage/kv/namespaces`.
    var root: String { "/client/v4/accounts/\(account)/storage/kv/namespaces" }

    /// Starts a server for `configuration`, runs `body`, and stops the server, even when `body` throws.
    static func with<T>(
        _ configuration: KVAPI.Configuration = KVAPI.Configuration(), _ body: (APIServer) async throws -> T
    ) async throws -> T {
        let directory = try TemporaryDirectory()
        let clock = ManualClock(seconds: testNow)
        let store = try await SQLiteKVStore(directory: directory.path, clock: clock)
        let api = KVAPI(namespaces: store, configuration: configuration)
        let runtime = EdgeRuntime(clock: clock, logger: quietLogger, handler: api.handler)
        return try await EdgeServer(
            runtime: runtime, configuration: EdgeServer.Configuration(host: "127.0.0.1", port: 0, logger: quietLogger)
        ).withRunning { server in
            try await body(
                APIServer(
                    directory: directory, store: store, clock: clock, server: server,
                    client: HTTPTestClient(port: server.port)))
        }
    }

    /// Sends `method` to ``root`` + `path` (`""`, `"/NS/keys?limit=10"`, …) with ``defaultHeaders`` first.
    func send(
        _ method: String, _ path: String, headers: [(name: String, value: String)] = [], body: [UInt8]? = nil
    ) async throws -> HTTPTestResponse {
        try await client.request(method, root + path, headers: defaultHeaders + headers, body: body)
    }

    /// Sends a JSON body (`Content-Type: application/json`).
    func send(_ method: String, _ path: String, json: String) async throws -> HTTPTestResponse {
        try await send(method, path, headers: [("Content-Type", "application/json")], body: Array(json.utf8))
    }

    /// Sends `target` as is (no ``root`` in front).
    func sendRaw(
        _ method: String, _ target: String, headers: [(name: String, value: String)] = [], body: [UInt8]? = nil
    ) async throws -> HTTPTestResponse {
        try await client.request(method, target, headers: defaultHeaders + headers, body: body)
    }

    /// Sends the head of a request that declares a JSON body of `declaredLength` bytes, then only `sent` of it, and
    /// reads the answer: one the server can give only if it answers before the body is complete (else the read
    /// times out and this throws).
    func sendPartial(
        _ method: String, _ path: String, declaredLength: Int, sent: [UInt8]
    ) async throws
        -> HTTPTestResponse
    {
        var head = "\(method) \(root)\(path) HTTP/1.1\r\nHost: 127.0.0.1:\(server.port)\r\nConnection: close\r\n"
        for (name, value) in defaultHeaders { head += "\(name): \(value)\r\n" }
        head += "Content-Type: application/json\r\nContent-Length: \(declaredLength)\r\n\r\n"
        return try await HTTPTestClient(port: server.port, timeout: .seconds(20)).send(raw: Array(head.utf8) + sent)
    }

    /// Creates a namespace through the API and returns its id.
    func createNamespace(_ title: String = "ns-\(UUID().uuidString)") async throws -> String {
        let result = try expectSuccess(try await send("POST", "", json: #"{"title":\#(JSONValue.string(title))}"#))
        return try #require(result["id"]?.stringValue)
    }

    /// The namespace `id` straight from the store, to check what a request changed (or did not).
    func kv(_ id: String) -> any KVNamespace { store.namespace(id: id) }

    /// Every key, value, metadata and expiration of namespace `id`, straight from the store.
    func snapshot(_ id: String) async throws -> [String: KVEntry] {
        var names: [String] = []
        for try await key in kv(id).listAll() { names.append(key.name) }
        return try await kv(id).readEntries(names)
    }
}

/// Percent-encodes a key as one path segment, as the Python SDK does (`quote(v, safe="!$&'()*+,;=:@")`).
func segment(_ key: String) -> String {
    var allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
    allowed.insert(charactersIn: "!$&'()*+,;=:@")
    return key.addingPercentEncoding(withAllowedCharacters: allowed)!
}

/// A Cloudflare v4 response envelope, checked for shape when it is read.
struct Envelope: Sendable {
    let status: Int
    let body: JSONValue

    var success: Bool { body["success"] == .bool(true) }
    var result: JSONValue? { body["result"] }
    var resultInfo: JSONValue? { body["result_info"] }
    var errors: [JSONValue] { body["errors"]?.arrayValue ?? [] }
    var codes: [Int64] {
        errors.compactMap {
            if case .int(let code) = $0["code"] { return code }
            return nil
        }
    }
    var messages: String { errors.compactMap { $0["message"]?.stringValue }.joined(separator: "; ") }
}

struct NotAnEnvelope: Error, CustomStringConvertible {
    let description: String
}

extension HTTPTestResponse {
    /// The body as an envelope: a JSON object with `success`, `errors`, `messages` and `result`, served as
    /// `application/json`, whose errors (when it failed) each carry a numeric `code` and a non-empty `message`.
    /// - Throws: ``NotAnEnvelope`` when the body is anything else (an empty body included).
    func envelope() throws -> Envelope {
        func fail(_ why: String) -> NotAnEnvelope {
            NotAnEnvelope(description: "status \(status): \(why); body: \(text.prefix(500).debugDescription)")
        }
        guard header("Content-Type")?.hasPrefix("application/json") == true else {
            throw fail("Content-Type is \(header("Content-Type") ?? "absent"), not application/json")
        }
        guard let body = try? JSONValue(parsing: body) else { throw fail("the body is not JSON") }
        guard case .bool(let success)? = body["success"] else { throw fail("no boolean \"success\"") }
        guard let errors = body["errors"]?.arrayValue, body["messages"]?.arrayValue != nil else {
            throw fail("no \"errors\" or \"messages\" array")
        }
        guard body.objectValue?["result"] != nil else { throw fail("no \"result\"") }
        if success {
            guard (200..<300).contains(status), errors.isEmpty else { throw fail("success with errors or status") }
        } else {
            guard (400..<500).contains(status) else { throw fail("a failure that is not a 4xx") }
            guard !errors.isEmpty, body["result"] == .null else { throw fail("a failure without errors") }
            for error in errors {
                guard case .int = error["code"], let message = error["message"]?.stringValue, !message.isEmpty else {
                    throw fail("an error without a numeric code and a message")
                }
            }
        }
        return Envelope(status: status, body: body)
    }
}

/// Checks that `response` is a 200 success envelope and returns its `result`.
@discardableResult
func expectSuccess(
    _ response: HTTPTestResponse, sourceLocation: SourceLocation = #_sourceLocation
) throws -> JSONValue {
    let envelope = try response.envelope()
    #expect(response.status == 200, "\(response.text)", sourceLocation: sourceLocation)
    #expect(envelope.success, "\(response.text)", sourceLocation: sourceLocation)
    return envelope.result ?? .null
}

/// Checks that `response` is a failure envelope with this status and code, whose message contains `text`.
func expectFailure(
    _ response: HTTPTestResponse, status: Int, code: Int64? = nil, message text: String? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let envelope = try response.envelope()
    #expect(response.status == status, "\(response.text)", sourceLocation: sourceLocation)
    #expect(!envelope.success, sourceLocation: sourceLocation)
    if let code { #expect(envelope.codes == [code], "\(response.text)", sourceLocation: sourceLocation) }
    if let text {
        #expect(envelope.messages.contains(text), "\(envelope.messages)", sourceLocation: sourceLocation)
    }
}

extension JSONValue {
    /// The integer, when this is an integer.
    var intValue: Int64? {
        if case .int(let i) = self { return i }
        return nil
    }
}

/// A `multipart/form-data` body as the Python SDK builds it: CRLF line ends, one part per field.
struct MultipartBody: Sendable {
    struct Part: Sendable {
        var name: String
        var filename: String?
        var contentType: String?
        var body: [UInt8]
    }

    var boundary = "871e4a7c5e341274738c194072cc2e51"
    var parts: [Part] = []

    /// The Python SDK's `values.update(value=bytes, metadata=…)`: `value` with `filename="upload"`, then the
    /// metadata part when given.
    static func sdk(
        _ value: [UInt8], metadata: String? = nil, metadataType: String = "application/json"
    )
        -> MultipartBody
    {
        var body = MultipartBody()
        body.parts.append(Part(name: "value", filename: "upload", contentType: "application/octet-stream", body: value))
        if let metadata {
            body.parts.append(Part(name: "metadata", contentType: metadataType, body: Array(metadata.utf8)))
        }
        return body
    }

    var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    var bytes: [UInt8] {
        var out: [UInt8] = []
        for part in parts {
            var head = "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(part.name)\""
            if let filename = part.filename { head += "; filename=\"\(filename)\"" }
            head += "\r\n"
            if let contentType = part.contentType { head += "Content-Type: \(contentType)\r\n" }
            head += "\r\n"
            out += Array(head.utf8) + part.body + Array("\r\n".utf8)
        }
        out += Array("--\(boundary)--\r\n".utf8)
        return out
    }
}

extension APIServer {
    /// The same server, with `headers` (credentials, say) sent on every request.
    func sending(_ headers: [(name: String, value: String)]) -> APIServer {
        var copy = self
        copy.defaultHeaders += headers
        return copy
    }
}
