import EdgeKV
import EdgeKVCloudflare
import EdgeKVTestSupport
import Testing

/// The request targets the client puts on the wire, as the server receives them: keys percent-encoded as one path
/// segment (the reference's table), query values form-safe.
@Suite struct EncodingTests {
    @Test(
        arguments: [
            ("a b/c?d#e%f", "a%20b%2Fc%3Fd%23e%25f"),
            ("ключ-ünicode", "%D0%BA%D0%BB%D1%8E%D1%87-%C3%BCnicode"),
            ("colon:bang!at@plus+amp&eq=", "colon:bang!at@plus+amp&eq="),
            ("~tilde_under-dash.", "~tilde_under-dash."),
            ("quote\"back\\slash[]{}|^`<>", "quote%22back%5Cslash%5B%5D%7B%7D%7C%5E%60%3C%3E"),
            ("😀\u{7F}\t", "%F0%9F%98%80%7F%09"),
        ])
    func keysAreOnePathSegment(_ key: String, _ encoded: String) async throws {
        try await FaultServer.with(Script.none) { server in
            let client = server.client()
            try await client.writeValue(namespaceID: server.namespaceID, key: key, value: Array(key.utf8))
            let read = try await client.readValue(namespaceID: server.namespaceID, key: key)
            #expect(read?.value == Array(key.utf8))
            let targets = server.log.all.map(\.target)
            #expect(targets.count == 2)
            for target in targets {
                #expect(target.hasSuffix("/storage/kv/namespaces/\(server.namespaceID)/values/\(encoded)"), "\(target)")
            }
            #expect(try await server.namespace.get(key) == key, "the server decoded the same key")
        }
    }

    @Test func queryValuesAreEncoded() async throws {
        try await FaultServer.with(Script.none) { server in
            let client = server.client()
            try await client.writeValue(namespaceID: server.namespaceID, key: "a b/c&x=y+z", value: [1])
            let page = try await client.listKeys(namespaceID: server.namespaceID, prefix: "a b/c&x=y+", limit: 10)
            #expect(page.keys.map(\.name) == ["a b/c&x=y+z"])
            let list = try #require(server.log.all.last?.target)
            #expect(list.hasSuffix("/keys?prefix=a%20b%2Fc%26x%3Dy%2B&limit=10"), "\(list)")
        }
    }
}
