import EdgeKV
import EdgeKVAPI
import EdgeKVTestSupport
import Foundation
import Testing

/// Bulk bodies are read as they arrive: the item past the limit, an invalid item and a body declared too large are
/// refused at once, before the rest of the body is sent, and nothing is written.
@Suite struct BulkStreamingTests {
    /// `PUT /bulk` with items `{"key":"kN","value":"v"}`, the two bulk deletes with items `"kN"`.
    static let endpoints: [(method: String, path: String, item: @Sendable (Int) -> String)] = [
        ("PUT", "/bulk", { #"{"key":"k\#($0)","value":"v"}"# }),
        ("POST", "/bulk/delete", { #""k\#($0)""# }),
        ("DELETE", "/bulk", { #""k\#($0)""# }),
    ]

    @Test(arguments: 0..<endpoints.count)
    func theItemPastTenThousandIsRefusedAsItArrives(endpoint: Int) async throws {
        let (method, path, item) = Self.endpoints[endpoint]
        try await APIServer.with { api in
            let ns = try await api.createNamespace()
            try await api.kv(ns).put("k0", "before")
            // 10,001 items of a body declared twice as long: only the limit can answer before the rest comes.
            let items = (0..<10_001).map(item).joined(separator: ",")
            let whole = "[" + items + "," + (10_001..<20_000).map(item).joined(separator: ",") + "]"
            let response = try await api.sendPartial(
                method, "/\(ns)\(path)", declaredLength: whole.utf8.count, sent: Array("[\(items),".utf8))
            try expectFailure(response, status: 400, code: 10400, message: "at most 10000")
            #expect(try await api.snapshot(ns) == ["k0": KVEntry(value: Array("before".utf8))])
        }
    }

    @Test func theWholeHugeArrayIsRefusedAndTheServerStaysUp() async throws {
        try await APIServer.with { api in
            let ns = try await api.createNamespace()
            // 20 MB: `[0,0,…]`, ten million items; the first one is already not an item.
            var body = [UInt8](repeating: UInt8(ascii: "0"), count: 20_000_001)
            body[0] = UInt8(ascii: "[")
            for i in stride(from: 2, to: body.count - 1, by: 2) { body[i] = UInt8(ascii: ",") }
            body[body.count - 1] = UInt8(ascii: "]")
            let write = try await api.send(
                "PUT", "/\(ns)/bulk", headers: [("Content-Type", "application/json")], body: body)
            try expectFailure(write, status: 400, message: "[0]: each item must be a JSON object")
            let delete = try await api.sendPartial(
                "POST", "/\(ns)/bulk/delete", declaredLength: body.count, sent: Array(body.prefix(64 * 1024)))
            try expectFailure(delete, status: 400, message: "[0]: expected a key name")
            #expect(try await api.snapshot(ns).isEmpty)
            try expectSuccess(try await api.send("PUT", "/\(ns)/bulk", json: #"[{"key":"a","value":"1"}]"#))
            #expect(try await api.kv(ns).get("a") == "1")
        }
    }

    @Test(arguments: [
        (
            "PUT", "/bulk", #"{"key":"\#(String(repeating: "k", count: 513))","value":"v"}"#, 414,
            "exceeds key length limit of 512"
        ),
        (
            "PUT", "/bulk", #"{"key":"x","value":"v","metadata":{"m":"\#(String(repeating: "x", count: 1100))"}}"#, 413,
            "exceeds limit of 1024"
        ),
        ("POST", "/bulk/delete", #""\#(String(repeating: "k", count: 513))""#, 400, "exceeds key length limit of 512"),
        ("DELETE", "/bulk", #""\#(String(repeating: "k", count: 513))""#, 400, "exceeds key length limit of 512"),
    ])
    func anItemOverALimitIsRefusedAsItArrives(
        method: String, path: String, item: String, status: Int, message: String
    ) async throws {
        try await APIServer.with { api in
            let ns = try await api.createNamespace()
            try await api.kv(ns).put("keep", "before")
            let first = method == "PUT" ? #"{"key":"keep","value":"after"}"# : #""keep""#
            let sent = "[\(first),\(item),"
            let response = try await api.sendPartial(
                method, "/\(ns)\(path)", declaredLength: sent.utf8.count + 1_000_000, sent: Array(sent.utf8))
            try expectFailure(response, status: status, message: "[1]")
            try expectFailure(response, status: status, message: message)
            #expect(try await api.snapshot(ns) == ["keep": KVEntry(value: Array("before".utf8))])
        }
    }

    @Test(arguments: [("PUT", "/bulk"), ("POST", "/bulk/delete"), ("DELETE", "/bulk"), ("POST", "/bulk/get")])
    func aBodyDeclaredOverTheLimitIsRefusedBeforeItIsSent(method: String, path: String) async throws {
        try await APIServer.with { api in
            let ns = try await api.createNamespace()
            let response = try await api.sendPartial(
                method, "/\(ns)\(path)", declaredLength: KVAPI.maxBulkBodyBytes + 1, sent: Array("[".utf8))
            try expectFailure(response, status: 413, code: 10413, message: "Request body too large")
        }
    }

    @Test func bulkGetStopsAtTheHundredAndFirstKey() async throws {
        try await APIServer.with { api in
            let ns = try await api.createNamespace()
            let keys = (0..<101).map { "\"k\($0)\"" }.joined(separator: ",")
            let response = try await api.sendPartial(
                "POST", "/\(ns)/bulk/get", declaredLength: 500_000,
                sent: Array(#"{"type":"text","keys":[\#(keys),"#.utf8))
            try expectFailure(response, status: 400, message: "You can request a maximum of 100 keys")
        }
    }

    @Test func validBulkWritesStreamedInSmallChunksStillWork() async throws {
        try await APIServer.with { api in
            let ns = try await api.createNamespace()
            let body = Array(BulkEndpointTests.referenceBody.utf8)
            let response = try await api.client.request(
                "PUT", api.root + "/\(ns)/bulk", headers: [("Content-Type", "application/json")], body: body,
                chunkSize: 7)
            #expect(try expectSuccess(response) == ["successful_key_count": 3, "unsuccessful_keys": []])
            #expect(try await api.kv(ns).get("bulk1") == "v1")
            let get = try await api.client.request(
                "POST", api.root + "/\(ns)/bulk/get", headers: [("Content-Type", "application/json")],
                body: Array(#"{ "withMetadata" : true , "keys" : [ "bulk1" , "nope" ] , "type" : "text" }"#.utf8),
                chunkSize: 3)
            #expect(
                try expectSuccess(get) == ["values": ["bulk1": ["value": "v1", "metadata": .null], "nope": .null]])
        }
    }
}
