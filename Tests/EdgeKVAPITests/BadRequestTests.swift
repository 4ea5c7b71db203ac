import EdgeKV
import EdgeKVAPI
import EdgeKVSQLite
import EdgeKVTestSupport
import Foundation
import Testing

/// Unknown routes, wrong methods, broken bodies and bodies over the limits: a 4xx envelope that names the problem,
/// and nothing changed.
@Suite struct BadRequestTests {
    static let ns = "0123456789abcdef0123456789abcdef"

    @Test(arguments: [
        "/", "/client/v4", "/client/v4/", "/client/v4/accounts", "/client/v4/accounts/acc",
        "/client/v4/accounts/acc/storage/kv", "/client/v4/accounts/acc/workers/scripts",
        "/client/v4/accounts/acc/storage/r2/namespaces", "/client/v4/user/tokens/verify", "/favicon.ico",
        "/client/v4/accounts/acc/storage/kv/namespaces/\(ns)/unknown",
        "/client/v4/accounts/acc/storage/kv/namespaces/\(ns)/values",
        "/client/v4/accounts/acc/storage/kv/namespaces/\(ns)/values/a/b",
        "/client/v4/accounts/acc/storage/kv/namespaces/\(ns)/metadata",
        "/client/v4/accounts/acc/storage/kv/namespaces/\(ns)/keys/extra",
        "/client/v4/accounts/acc/storage/kv/namespaces/\(ns)/bulk/put",
        "/client/v4/accounts/acc/storage/kv/namespaces/\(ns)/bulk/get/more",
    ])
    func unknownRoutesAre7003(target: String) async throws {
        try await APIServer.with { api in
            for method in ["GET", "POST", "PUT", "DELETE"] {
                try expectFailure(
                    try await api.sendRaw(method, target), status: 404, code: 7003, message: "No route for the URI")
            }
        }
    }

    @Test(arguments: [
        ("PATCH", ""), ("DELETE", ""), ("PUT", ""), ("POST", "/NS"), ("PATCH", "/NS"), ("POST", "/NS/keys"),
        ("DELETE", "/NS/keys"), ("POST", "/NS/values/k"), ("PATCH", "/NS/values/k"), ("PUT", "/NS/metadata/k"),
        ("DELETE", "/NS/metadata/k"), ("GET", "/NS/bulk"), ("POST", "/NS/bulk"), ("GET", "/NS/bulk/delete"),
        ("PUT", "/NS/bulk/delete"), ("GET", "/NS/bulk/get"), ("DELETE", "/NS/bulk/get"),
    ])
    func wrongMethodsAre405(method: String, path: String) async throws {
        try await APIServer.with { api in
            let ns = try await api.createNamespace("t")
            try await api.kv(ns).put("k", "v")
            let response = try await api.send(
                method, path.replacingOccurrences(of: "NS", with: ns), body: Array(#"["k"]"#.utf8))
            try expectFailure(response, status: 405, message: method)
            #expect(try await api.snapshot(ns) == ["k": KVEntry(value: [118])])
            #expect(try await api.store.listNamespaces() == [KVNamespaceInfo(id: ns, title: "t")])
        }
    }

    /// Broken `multipart/form-data` bodies: (Content-Type, body, a word of the message).
    static let brokenMultipart: [(String, String, String)] = {
        let b = "XyZ"
        let value = "--\(b)\r\nContent-Disposition: form-data; name=\"value\"\r\n\r\nnew\r\n"
        return [
            ("multipart/form-data", value + "--\(b)--\r\n", "boundary"),
            ("multipart/form-data; boundary=", value + "--\(b)--\r\n", "boundary"),
            ("multipart/form-data; charset=utf-8", value + "--\(b)--\r\n", "boundary"),
            ("multipart/form-data; boundary=\(b)", value, "closing boundary"),  // truncated
            ("multipart/form-data; boundary=\(b)", String(value.prefix(40)), "closing boundary"),
            ("multipart/form-data; boundary=\(b)", "", "closing boundary"),
            ("multipart/form-data; boundary=other", value + "--\(b)--\r\n", "closing boundary"),
            (
                "multipart/form-data; boundary=\(b)",
                "--\(b)\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n{}\r\n--\(b)--\r\n", "value"
            ),
            ("multipart/form-data; boundary=\(b)", "--\(b)--\r\n", "multipart"),
            (
                "multipart/form-data; boundary=\(b)",
                "--\(b)\r\nContent-Disposition: form-data\r\n\r\nnew\r\n--\(b)--\r\n", "name"
            ),
            ("multipart/form-data; boundary=\(b)", "garbage --\(b)--", "multipart"),
            (
                "multipart/form-data; boundary=\(b)",
                "--\(b)\r\nno colon header\r\n\r\nnew\r\n--\(b)--\r\n", "multipart"
            ),
            ("multipart/form-data; boundary=\(String(repeating: "b", count: 300))", value, "boundary"),
            // MultipartKit 4.7.1 traps on a non-ASCII byte in a header name: refused before it parses.
            (
                "multipart/form-data; boundary=\(b)",
                "--\(b)\r\nContent-Dispositioné: form-data; name=\"value\"\r\n\r\nnew\r\n--\(b)--\r\n", "ASCII"
            ),
            (
                "multipart/form-data; boundary=\(b)",
                value + "--\(b)\r\n\u{80}: x\r\n\r\nnew\r\n--\(b)--\r\n", "ASCII"
            ),
        ]
    }()

    @Test(arguments: 0..<brokenMultipart.count)
    func brokenMultipartIs400AndChangesNothing(index: Int) async throws {
        let (contentType, body, word) = Self.brokenMultipart[index]
        try await APIServer.with { api in
            let ns = try await api.createNamespace()
            try await api.kv(ns).put("k", "old", options: KVPutOptions(metadata: ["old": true]))
            let response = try await api.send(
                "PUT", "/\(ns)/values/k", headers: [("Content-Type", contentType)], body: Array(body.utf8))
            try expectFailure(response, status: 400, message: word)
            #expect(try await api.snapshot(ns) == ["k": KVEntry(value: Array("old".utf8), metadata: ["old": true])])
        }
    }

    @Test func malformedJSONIs400AndChangesNothing() async throws {
        try await APIServer.with { api in
            let ns = try await api.createNamespace("t")
            try await api.kv(ns).put("k", "v")
            // Bulk bodies are read item by item and report their first problem, so the item before the trailing comma
            // is one that both bulk writes and bulk deletes take.
            let bodies = [
                "{", "[", "nul", "{\"title\":\"x\",}", "\u{FF}\u{FE}", "{\"title\":\"\\u12\"}", "[,]",
                #"[{"key":"a","value":"b","name":"a"},]"#,
            ]
            for body in bodies {
                for (method, path) in [
                    ("POST", ""), ("PUT", "/\(ns)"), ("PUT", "/\(ns)/bulk"), ("POST", "/\(ns)/bulk/delete"),
                    ("DELETE", "/\(ns)/bulk"), ("POST", "/\(ns)/bulk/get"),
                ] {
                    try expectFailure(try await api.send(method, path, json: body), status: 400, message: "JSON")
                }
            }
            #expect(try await api.snapshot(ns) == ["k": KVEntry(value: [118])])
            #expect(try await api.store.listNamespaces() == [KVNamespaceInfo(id: ns, title: "t")])
        }
    }

    @Test func aValueOverTwentyFiveMebibytesIs413AndWritesNothing() async throws {
        try await APIServer.with { api in
            let ns = try await api.createNamespace()
            try await api.kv(ns).put("k", "old")
            // Just over the value limit: the KV service's text.
            let over = [UInt8](repeating: 120, count: KVLimits.maxValueBytes + 1)
            try expectFailure(
                try await api.send("PUT", "/\(ns)/values/k", body: over), status: 413,
                message: "Value length of 26214401 exceeds limit of 26214400.")
            // Far over, streamed in chunks: refused before it is all read.
            let far = [UInt8](repeating: 120, count: KVLimits.maxValueBytes + 1_000_000)
            let chunked = try await api.client.request(
                "PUT", api.root + "/\(ns)/values/k", body: far, chunkSize: 1 << 20)
            try expectFailure(chunked, status: 413, message: "too large")
            // (The same limit through multipart is not sent here: a debug build's MultipartKit scans a 25 MiB part at
            // about 1 µs a byte, starving the other tests' servers; release parses it in well under a second.)
            #expect(try await api.kv(ns).get("k") == "old")
            // Exactly at the limit is fine.
            let at = [UInt8](repeating: 121, count: KVLimits.maxValueBytes)
            try expectSuccess(try await api.send("PUT", "/\(ns)/values/k", body: at))
            #expect(try await api.send("GET", "/\(ns)/values/k").body == at)
        }
    }

    @Test func bodiesOverTheJSONLimitsAre413AndChangeNothing() async throws {
        try await APIServer.with { api in
            let ns = try await api.createNamespace("t")
            try await api.kv(ns).put("k", "v")
            // A bulk write over 100 MB, a namespace body over 64 KiB, a bulk get over 1 MiB.
            let bulk = "[" + String(repeating: " ", count: KVAPI.maxBulkBodyBytes) + "]"
            try expectFailure(try await api.send("PUT", "/\(ns)/bulk", json: bulk), status: 413, message: "too large")
            let title = #"{"title":"\#(String(repeating: "t", count: 70_000))"}"#
            try expectFailure(try await api.send("POST", "", json: title), status: 413)
            try expectFailure(try await api.send("PUT", "/\(ns)", json: title), status: 413)
            let keys = #"{"keys":["\#(String(repeating: "k", count: 1_100_000))"]}"#
            try expectFailure(try await api.send("POST", "/\(ns)/bulk/get", json: keys), status: 413)
            #expect(try await api.snapshot(ns) == ["k": KVEntry(value: [118])])
            #expect(try await api.store.listNamespaces() == [KVNamespaceInfo(id: ns, title: "t")])
        }
    }

    @Test func badPercentEncodingInTheNamespaceOrAccountIs400() async throws {
        try await APIServer.with { api in
            try expectFailure(try await api.send("GET", "/%zz/keys"), status: 400, message: "namespace id")
            try expectFailure(
                try await api.sendRaw("GET", "/client/v4/accounts/%E0%A4/storage/kv/namespaces"), status: 400,
                message: "account id")
        }
    }

    @Test func pathsWithoutTheClientV4PrefixAreServedToo() async throws {
        try await APIServer.with { api in
            let ns = try await api.createNamespace("t")
            try expectSuccess(try await api.sendRaw("GET", "/accounts/acc/storage/kv/namespaces/\(ns)"))
            try expectSuccess(try await api.sendRaw("GET", "/client/v4/accounts/acc/storage/kv/namespaces/\(ns)/"))
        }
    }
}
