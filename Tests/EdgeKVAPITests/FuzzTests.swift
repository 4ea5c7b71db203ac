import Edge
import EdgeKV
import EdgeKVSQLite
import EdgeKVTestSupport
import EdgeSupport
import Foundation
import HTTPTypes
import Testing

@testable import EdgeKVAPI

/// Generated inputs with fixed seeds, run in CI: thousands of random and mutated multipart and bulk JSON bodies go
/// through ``EdgeRuntime/handle(_:env:clientIP:clock:awaitBackgroundWork:)``. Every answer must be a 2xx or a 4xx
/// envelope, within a bounded time; a refused request must change nothing, and an accepted one must have stored
/// exactly what it said.
@Suite(.serialized) struct FuzzTests {
    /// The API in-process over an in-memory SQLite store.
    struct InProcessAPI {
        let store: SQLiteKVStore
        let runtime: EdgeRuntime
        let ns: String
        let root = "/client/v4/accounts/acc/storage/kv/namespaces"

        static func make() async throws -> InProcessAPI {
            let clock = ManualClock(seconds: testEpoch)
            let store = try await SQLiteKVStore(inMemoryWithClock: clock)
            let ns = try await store.createNamespace(title: "fuzz").id
            let api = KVAPI(namespaces: store)
            return InProcessAPI(
                store: store, runtime: EdgeRuntime(clock: clock, logger: quietLogger, handler: api.handler), ns: ns)
        }

        var kv: any KVNamespace { store.namespace(id: ns) }

        func snapshot() async throws -> [String: KVEntry] {
            var names: [String] = []
            for try await key in kv.listAll() { names.append(key.name) }
            return try await kv.readEntries(names)
        }

        /// Sends one request and checks the answer's shape and time.
        func send(
            _ method: HTTPRequest.Method, _ path: String, contentType: String?, body: [UInt8], context: String
        ) async throws -> (status: Int, envelope: Envelope?) {
            var headers = HTTPFields()
            if let contentType { headers[.contentType] = contentType }
            let start = ContinuousClock.now
            let response = await runtime.handle(
                Request(method: method, root + "/\(ns)" + path, headers: headers, body: .bytes(body)))
            let bytes = try await response.body.collect()
            let elapsed = ContinuousClock.now - start
            // Catches a hang or a parse gone quadratic (on the 1 MB pathological bodies that is hours, not seconds).
            // The worst request seen was 1.04 s in a debug build on two cores at load 14; 30 s is far above that.
            #expect(elapsed < .seconds(30), "\(context): took \(elapsed)")
            let status = response.status.code
            guard (200..<300).contains(status) || (400..<500).contains(status) else {
                Issue.record("\(context): status \(status): \(String(decoding: bytes.prefix(300), as: UTF8.self))")
                return (status, nil)
            }
            let wire = HTTPTestResponse(
                status: status,
                headers: response.headers.map { HTTPTestHeader(name: $0.name.rawName, value: $0.value) },
                body: bytes)
            do {
                return (status, try wire.envelope())
            } catch {
                Issue.record("\(context): \(error)")
                return (status, nil)
            }
        }
    }

    // MARK: Multipart

    /// A generated value write: the body, its Content-Type, and what a correct server stores when it accepts it
    /// unmutated.
    struct MultipartCase {
        var key: String
        var query: String
        var contentType: String
        var body: [UInt8]
        var value: [UInt8]?
        var metadata: String?
        var mutated: Bool
        /// Well-formed, valid and within the limits: a server must accept it.
        var clean: Bool
    }

    static func multipartCase(_ g: inout SeededGenerator) -> MultipartCase {
        let boundary = g.pick([
            "871e4a7c5e341274738c194072cc2e51", "XyZ", "----WebKitFormBoundary\(g.int(0..<1_000_000))",
            "a'()+_,-./:=?b", String(repeating: "b", count: 70),
        ])
        var form = MultipartBody(boundary: boundary)
        var clean = true
        let value = FuzzInput.value(&g, boundary: boundary)
        var expectedValue: [UInt8]?
        if g.chance(0.9) {
            form.parts.append(
                .init(
                    name: "value", filename: g.chance(0.7) ? g.pick(["upload", "data.bin", "é.txt"]) : nil,
                    contentType: g.chance(0.8) ? g.pick(["application/octet-stream", "text/plain", "image/png"]) : nil,
                    body: value))
            expectedValue = value
            // RFC 2046: a delimiter line may not appear in a part (clients pick a boundary that is not in it).
            if ByteSearch.contains(value, Array("\r\n--\(boundary)".utf8)) {
                clean = false
            }
        } else {
            clean = false
        }
        var metadata: String?
        if g.chance(0.6) {
            switch g.int(0..<6) {
            case 0: metadata = ""
            case 1: metadata = g.pick(["just a string", "{", "[1,", "{\"a\":1}}"])
            default: metadata = FuzzInput.json(&g)
            }
            if let text = metadata, !text.isEmpty {
                if let parsed = try? JSONValue(parsing: text) {
                    if parsed.serialized.utf8.count > KVLimits.maxMetadataBytes { clean = false }
                } else {
                    clean = false
                }
            }
            let part = MultipartBody.Part(
                name: "metadata", contentType: g.pick(["application/json", "text/plain", nil]),
                body: Array((metadata ?? "").utf8))
            form.parts.insert(part, at: g.chance(0.8) ? form.parts.count : 0)
        }
        if g.chance(0.2) {
            form.parts.append(.init(name: g.pick(["other", "value2", "é"]), body: g.bytes(g.int(0..<20))))
        }
        var contentType = form.contentType
        if g.chance(0.2) {
            contentType = g.pick([
                "multipart/form-data; boundary=\"\(boundary)\"", "MULTIPART/FORM-DATA; BOUNDARY=\(boundary)",
                "multipart/form-data;boundary=\(boundary); charset=utf-8",
            ])
        } else if g.chance(0.1) {
            contentType = g.pick([
                "multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; boundary=\(boundary)x",
                "multipart/form-data; boundary=\"\(boundary)",
            ])
            clean = false
        }
        var query = ""
        if g.chance(0.3) {
            let ttl = g.pick(["60", "600", "120.5", "30", "abc", "1e300", "-1", "9223372036854775807", ""])
            query = "?expiration_ttl=\(ttl)"
            if !["60", "600", "120.5", ""].contains(ttl) { clean = false }
        }
        let key = FuzzInput.key(&g)
        if !FuzzInput.keys.contains(key) { clean = false }
        var body = form.bytes
        let mutated = g.chance(0.6)
        if mutated {
            body = FuzzInput.mutate(body, &g, tokens: FuzzInput.multipartTokens + ["--\(boundary)", "--\(boundary)--"])
        }
        return MultipartCase(
            key: key, query: query, contentType: contentType, body: body, value: expectedValue, metadata: metadata,
            mutated: mutated, clean: clean && !mutated)
    }

    @Test(.timeLimit(.minutes(5)), arguments: [UInt64(0x5EED_0001), 0x5EED_0002])
    func multipartBodies(seed: UInt64) async throws {
        let api = try await InProcessAPI.make()
        var g = SeededGenerator(seed: seed)
        var before = try await api.snapshot()
        var accepted = 0
        var checkedRoundTrips = 0
        for iteration in 0..<1_500 {
            let c = Self.multipartCase(&g)
            let context = "seed \(seed) iteration \(iteration)"
            let (status, envelope) = try await api.send(
                .put, "/values/\(segment(c.key))\(c.query)", contentType: c.contentType, body: c.body, context: context)
            guard let envelope else { continue }
            if status >= 400 {
                if c.clean { Issue.record("\(context): a clean write was refused: \(envelope.messages)") }
                if try await api.snapshot() != before {
                    Issue.record("\(context): a refused write changed the namespace")
                }
                continue
            }
            accepted += 1
            if !c.mutated, let value = c.value {
                let stored = try await api.kv.readEntry(c.key)
                if stored?.value != value { Issue.record("\(context): the stored value differs") }
                // Compared as stored: JSON numbers as JavaScript writes them (-0.0 is 0).
                let metadata = c.metadata.flatMap { $0.isEmpty ? nil : try? JSONValue(parsing: $0) }
                let normalised = try metadata.map { try JSONValue(parsing: $0.serialized) }
                if stored?.metadata != normalised {
                    let got = String(describing: stored?.metadata)
                    Issue.record("\(context): stored metadata \(got) ≠ \(c.metadata ?? "nil")")
                }
                checkedRoundTrips += 1
            }
            before = try await api.snapshot()
        }
        // The generator must exercise the accepting path too, not only the refusals.
        #expect(accepted > 200)
        #expect(checkedRoundTrips > 200)
    }

    // MARK: Bulk

    static func bulkItem(_ g: inout SeededGenerator) -> String {
        var fields: [String] = []
        if g.chance(0.97) {
            fields.append("\"key\":" + (g.chance(0.97) ? JSONValue.string(FuzzInput.key(&g)).serialized : "5"))
        }
        if g.chance(0.97) {
            if g.chance(0.3) {
                fields.append("\"value\":\"\(Data(g.bytes(g.int(0..<40))).base64EncodedString())\"")
                fields.append("\"base64\":true")
            } else if g.chance(0.95) {
                fields.append("\"value\":" + JSONValue.string("v\(g.int(0..<100))é\u{1}").serialized)
                if g.chance(0.1) { fields.append("\"base64\":" + g.pick(["false", "true", "null", "1"])) }
            } else {
                fields.append("\"value\":" + FuzzInput.json(&g, depth: 1))
            }
        }
        if g.chance(0.3) { fields.append("\"metadata\":" + FuzzInput.json(&g)) }
        if g.chance(0.2) {
            fields.append(
                "\"expiration_ttl\":"
                    + g.pick([
                        "60", "600", "120.5", "\"600\"", "30", "true", "1e300", "-5", "9223372036854775807", "null",
                    ]))
        }
        if g.chance(0.1) {
            fields.append(
                "\"expiration\":" + g.pick(["1795979976", "1795979976.5", "\"1795979976\"", "1", "\"inf\"", "1e400"]))
        }
        if g.chance(0.05) { fields.append("\"extra\":" + FuzzInput.json(&g)) }
        return "{" + fields.shuffled(using: &g).joined(separator: g.pick([",", ", ", " ,\n"])) + "}"
    }

    /// The bulk routes, as the fuzz test tells them apart.
    enum BulkRoute: CaseIterable {
        case write, deleteByPost, deleteByDelete, get

        var method: HTTPRequest.Method {
            switch self {
            case .write: .put
            case .deleteByPost, .get: .post
            case .deleteByDelete: .delete
            }
        }

        var path: String {
            switch self {
            case .write, .deleteByDelete: "/bulk"
            case .deleteByPost: "/bulk/delete"
            case .get: "/bulk/get"
            }
        }
    }

    static func bulkBody(_ g: inout SeededGenerator, route: BulkRoute) -> [UInt8] {
        let text: String
        switch route {
        case .write where g.chance(0.97):
            text = "[" + (0..<g.int(0..<8)).map { _ in bulkItem(&g) }.joined(separator: ",") + "]"
        case .get:
            var fields = [
                "\"keys\":[" + (0..<g.int(0..<6)).map { _ in "\"\(FuzzInput.key(&g))\"" }.joined(separator: ",") + "]"
            ]
            if g.chance(0.6) { fields.append("\"type\":" + g.pick(["\"text\"", "\"json\"", "\"xml\"", "null", "1"])) }
            if g.chance(0.6) { fields.append("\"withMetadata\":" + g.pick(["true", "false", "\"yes\"", "null"])) }
            text = "{" + fields.shuffled(using: &g).joined(separator: ",") + "}"
        default:
            let names = (0..<g.int(0..<6)).map { _ -> String in
                let key = JSONValue.string(FuzzInput.key(&g)).serialized
                return g.chance(0.2) ? "{\"name\":\(key)}" : g.chance(0.97) ? key : FuzzInput.json(&g, depth: 1)
            }
            text = "[" + names.joined(separator: ",") + "]"
        }
        return Array(text.utf8)
    }

    /// What a 2xx bulk answer promises, checked against the store.
    func checkAccepted(
        _ api: InProcessAPI, route: BulkRoute, body: [UInt8], result: JSONValue?, context: String
    ) async throws {
        let request = try #require(try? JSONValue(parsing: body), "\(context): accepted a body that is not JSON")
        switch route {
        case .write:
            var last: [String: [UInt8]] = [:]
            for item in request.arrayValue ?? [] {
                let key = try #require(item["key"]?.stringValue, "\(context)")
                let text = try #require(item["value"]?.stringValue, "\(context)")
                last[key] =
                    item["base64"] == .bool(true) ? Array(Data(base64Encoded: text) ?? Data()) : Array(text.utf8)
            }
            #expect(result?["successful_key_count"]?.intValue == Int64(request.arrayValue?.count ?? -1), "\(context)")
            for (key, value) in last {
                #expect(try await api.kv.readEntry(key)?.value == value, "\(context): \(key) not written")
            }
        case .get:
            let keys = request["keys"]?.arrayValue?.compactMap(\.stringValue) ?? []
            let values = try #require(result?["values"]?.objectValue, "\(context)")
            #expect(Set(values.keys) == Set(keys), "\(context)")
            let withMetadata = request["withMetadata"] == .bool(true)
            for key in keys {
                let stored = try await api.kv.readEntry(key)
                let returned = withMetadata ? values[key]?["value"] : values[key]
                if let stored {
                    if request["type"] == .string("json") {
                        #expect(returned == (try? JSONValue(parsing: stored.value)), "\(context): \(key)")
                    } else {
                        #expect(returned == .string(String(decoding: stored.value, as: UTF8.self)), "\(context)")
                    }
                    if withMetadata { #expect(values[key]?["metadata"] == stored.metadata ?? .null, "\(context)") }
                } else {
                    #expect(values[key] == .null, "\(context): \(key) is missing but not null")
                }
            }
        case .deleteByPost, .deleteByDelete:
            for item in request.arrayValue ?? [] {
                let key = try #require(item.stringValue ?? item["name"]?.stringValue, "\(context)")
                #expect(try await api.kv.readEntry(key) == nil, "\(context): \(key) not deleted")
            }
        }
    }

    @Test(.timeLimit(.minutes(5)), arguments: [UInt64(0xB01C_0001), 0xB01C_0002])
    func bulkBodies(seed: UInt64) async throws {
        let api = try await InProcessAPI.make()
        var g = SeededGenerator(seed: seed)
        var before = try await api.snapshot()
        var accepted: [BulkRoute: Int] = [:]
        let routes: [BulkRoute] = [.write, .write, .write, .deleteByPost, .deleteByDelete, .get, .get]
        for iteration in 0..<2_000 {
            let route = g.pick(routes)
            var body = Self.bulkBody(&g, route: route)
            if g.chance(0.5) { body = FuzzInput.mutate(body, &g, tokens: FuzzInput.jsonTokens) }
            let context =
                "seed \(seed) iteration \(iteration) \(route): \(String(decoding: body.prefix(300), as: UTF8.self))"
            let (status, envelope) = try await api.send(
                route.method, route.path, contentType: "application/json", body: body, context: context)
            guard let envelope else { continue }
            if status >= 400 {
                if try await api.snapshot() != before {
                    Issue.record("\(context): a refused request changed the namespace")
                }
                continue
            }
            accepted[route, default: 0] += 1
            try await checkAccepted(api, route: route, body: body, result: envelope.result, context: context)
            before = try await api.snapshot()
        }
        #expect(accepted[.write, default: 0] > 150)
        #expect(accepted[.get, default: 0] > 100)
        #expect(accepted[.deleteByPost, default: 0] + accepted[.deleteByDelete, default: 0] > 50)
    }

    // MARK: Pathological inputs

    /// Large, repetitive inputs that make naive parsers slow or deep: bounded time and a 4xx or 2xx envelope. (Sizes
    /// stay moderate: a debug build parses them on the same cooperative threads that other tests' servers use.)
    @Test(.timeLimit(.minutes(2)))
    func pathologicalBodies() async throws {
        let api = try await InProcessAPI.make()
        let b = "XyZ"
        let head = Array("--\(b)\r\nContent-Disposition: form-data; name=\"value\"\r\n\r\n".utf8)
        let tail = Array("\r\n--\(b)--\r\n".utf8)
        let multipart: [[UInt8]] = [
            Array(String(repeating: "--\(b)\r\n", count: 50_000).utf8),
            Array(String(repeating: "\r\n--\(b)", count: 50_000).utf8) + Array("--\r\n".utf8),
            Array(
                String(repeating: "--\(b)\r\nContent-Disposition: form-data; name=\"p\"\r\n\r\nx\r\n", count: 5_000)
                    .utf8)
                + head + Array("v".utf8) + tail,
            Array("--\(b)\r\n".utf8) + Array(String(repeating: "X-H: v\r\n", count: 20_000).utf8) + Array("\r\nv".utf8)
                + tail,
            Array(String(repeating: "--\(b)\r\nX", count: 20_000).utf8) + tail,
            Array(String(repeating: "--\(b)\r\nX: --\(b)\r\n", count: 20_000).utf8) + tail,
            head + [UInt8](repeating: 45, count: 1_000_000) + tail,
            head + [UInt8](repeating: 13, count: 100_000) + tail,
            head + Array(String(repeating: "\r\n--\(b.dropLast())", count: 50_000).utf8) + tail,
        ]
        for (index, body) in multipart.enumerated() {
            _ = try await api.send(
                .put, "/values/k", contentType: "multipart/form-data; boundary=\(b)", body: body,
                context: "multipart \(index)")
        }
        // The JSON bodies below are all refused: none may change what the multipart ones left.
        let afterMultipart = try await api.snapshot()
        let deep = "{\"a\":"
        let json: [[UInt8]] = [
            Array(String(repeating: "[", count: 1_000_000).utf8),
            Array(("[" + String(repeating: "{\"key\":\"k\",\"value\":\"v\"},", count: 9_999) + "{}]").utf8),
            Array(
                ("[{\"key\":\"k\",\"value\":\"v\",\"metadata\":" + String(repeating: deep, count: 509) + "1"
                    + String(repeating: "}", count: 509) + "}]").utf8),
            Array(("[" + String(repeating: "\"\\ud800\",", count: 20_000) + "\"\"]").utf8),
            Array(("[\"" + String(repeating: "\\u0000", count: 100_000) + "\"]").utf8),
            Array(("[" + String(repeating: "1e999,", count: 20_000) + "1]").utf8),
        ]
        for (index, body) in json.enumerated() {
            for route in BulkRoute.allCases {
                _ = try await api.send(
                    route.method, route.path, contentType: "application/json", body: body,
                    context: "json \(index) \(route)")
            }
        }
        #expect(try await api.snapshot() == afterMultipart)
    }
}
