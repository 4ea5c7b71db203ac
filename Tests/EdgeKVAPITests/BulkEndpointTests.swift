import EdgeKV
import EdgeKVSQLite
import EdgeKVTestSupport
import Foundation
import Testing

/// `PUT /bulk`, `POST /bulk/delete`, `DELETE /bulk`, `POST /bulk/get`.
@Suite struct BulkEndpointTests {
    /// The reference's example body (compact JSON, as the SDKs send it).
    static let referenceBody =
        "["
        + [
            #"{"key":"bulk1","value":"v1"}"#,
            #"{"key":"bulk2","value":"{\"j\": 2}","metadata":{"m":2},"expiration_ttl":600}"#,
            #"{"key":"bulk3","value":"aGVsbG8=","base64":true,"expiration":1795979976}"#,
        ].joined(separator: ",") + "]"

    // MARK: Write

    @Test func bulkWriteStoresValuesMetadataExpirationsAndBase64() async throws {
        try await APIServer.with { api in
            let ns = try await api.createNamespace()
            let result = try expectSuccess(try await api.send("PUT", "/\(ns)/bulk", json: Self.referenceBody))
            #expect(result == ["successful_key_count": 3, "unsuccessful_keys": []])
            #expect(
                try await api.snapshot(ns) == [
                    "bulk1": KVEntry(value: Array("v1".utf8)),
                    "bulk2": KVEntry(value: Array(#"{"j": 2}"#.utf8), metadata: ["m": 2], expiration: testEpoch + 600),
                    "bulk3": KVEntry(value: Array("hello".utf8), expiration: 1_795_979_976),
                ])
            // Binary values through base64, and the last write of a key wins.
            let binary = Data((0...255).map { UInt8($0) }).base64EncodedString()
            let body =
                #"[{"key":"b","value":"\#(binary)","base64":true},{"key":"d","value":"1"},{"key":"d","value":"2"}]"#
            try expectSuccess(try await api.send("PUT", "/\(ns)/bulk", json: body))
            #expect(try await api.kv(ns).readEntry("b")?.value == (0...255).map { UInt8($0) })
            #expect(try await api.kv(ns).get("d") == "2")
            // Numbers may be floats or numeric strings; base64 false keeps the text.
            let numbers =
                #"[{"key":"f","value":"aGk=","base64":false,"expiration_ttl":120.5},"#
                + #"{"key":"s","value":"x","expiration":"1795979976"}]"#
            try expectSuccess(try await api.send("PUT", "/\(ns)/bulk", json: numbers))
            #expect(
                try await api.kv(ns).readEntry("f") == KVEntry(value: Array("aGk=".utf8), expiration: testEpoch + 120))
            #expect(try await api.kv(ns).readEntry("s")?.expiration == 1_795_979_976)
            // An empty array writes nothing and succeeds.
            #expect(
                try expectSuccess(try await api.send("PUT", "/\(ns)/bulk", json: "[]"))
                    == ["successful_key_count": 0, "unsuccessful_keys": []])
        }
    }

    @Test(arguments: [
        (#"{"key":"x","value":"v","expiration_ttl":30}"#, 400, "Invalid expiration_ttl of 30."),
        (#"{"key":"x"}"#, 400, "value"),
        (#"{"value":"v"}"#, 400, "key"),
        (#"{"key":"x","value":5}"#, 400, "value"),
        (#"{"key":7,"value":"v"}"#, 400, "key"),
        (#"{"key":"x","value":"!!not base64!!","base64":true}"#, 400, "base64"),
        (#""just a string""#, 400, "object"),
        ("null", 400, "object"),
        (#"{"key":"","value":"v"}"#, 400, "empty"),
        (#"{"key":"..","value":"v"}"#, 400, ".."),
        (#"{"key":"\#(String(repeating: "k", count: 513))","value":"v"}"#, 414, "exceeds key length limit of 512"),
        (#"{"key":"x","value":"v","metadata":{"m":"\#(String(repeating: "x", count: 1100))"}}"#, 413, "1024"),
        (#"{"key":"x","value":"v","expiration":1}"#, 400, "Invalid expiration of 1."),
        (#"{"key":"x","value":"v","expiration_ttl":"soon"}"#, 400, "expiration_ttl"),
        (#"{"key":"x","value":"v","expiration_ttl":true}"#, 400, "expiration_ttl"),
        (#"{"key":"x","value":"v","expiration_ttl":1e300}"#, 400, "expiration_ttl"),
        (#"{"key":"x","value":"v","expiration_ttl":-1e300}"#, 400, "expiration_ttl"),
        (#"{"key":"x","value":"v","expiration_ttl":9223372036854775807}"#, 400, "expiration_ttl"),
        (#"{"key":"x","value":"v","expiration":"inf"}"#, 400, "expiration"),
        (#"{"key":"x","value":"v","expiration":"1e999"}"#, 400, "expiration"),
        (#"{"key":"x","value":"v","expiration":92233720368547758070}"#, 400, "expiration"),
    ])
    func anInvalidItemNamesItsIndexAndNothingIsWritten(item: String, status: Int, message: String) async throws {
        try await APIServer.with { api in
            let ns = try await api.createNamespace()
            try await api.kv(ns).put("keep", "before")
            let body = #"[{"key":"a","value":"1"},{"key":"keep","value":"after"},\#(item),{"key":"z","value":"2"}]"#
            let response = try await api.send("PUT", "/\(ns)/bulk", json: body)
            try expectFailure(response, status: status, message: "[2]")
            try expectFailure(response, status: status, message: message)
            #expect(try await api.snapshot(ns) == ["keep": KVEntry(value: Array("before".utf8))])
        }
    }

    @Test func bulkWriteTakesAtMostTenThousandItems() async throws {
        try await APIServer.with { api in
            let ns = try await api.createNamespace()
            func body(_ count: Int) -> String {
                "[" + (0..<count).map { #"{"key":"k\#($0)","value":"v\#($0)"}"# }.joined(separator: ",") + "]"
            }
            try expectFailure(
                try await api.send("PUT", "/\(ns)/bulk", json: body(10_001)), status: 400, message: "10000")
            #expect(try await api.snapshot(ns).isEmpty)
            let result = try expectSuccess(try await api.send("PUT", "/\(ns)/bulk", json: body(10_000)))
            #expect(result["successful_key_count"] == 10_000)
            #expect(try await api.kv(ns).get("k9999") == "v9999")
            #expect(try await api.kv(ns).list(limit: 1000).keys.count == 1000)
        }
    }

    @Test(arguments: ["", "{", "[", #"[{"key":"a","value":"b"}"#, "{}", #"{"key":"a","value":"b"}"#, "\"x\"", "1"])
    func bulkWriteRejectsBodiesThatAreNotAJSONArray(body: String) async throws {
        try await APIServer.with { api in
            let ns = try await api.createNamespace()
            try expectFailure(try await api.send("PUT", "/\(ns)/bulk", json: body), status: 400)
            #expect(try await api.snapshot(ns).isEmpty)
        }
    }

    // MARK: Delete

    @Test(arguments: [("POST", "/bulk/delete"), ("DELETE", "/bulk")])
    func bulkDeleteTakesABareArrayOfNames(method: String, path: String) async throws {
        try await APIServer.with { api in
            let ns = try await api.createNamespace()
            for key in ["bulk1", "bulk2", "bulk3", "a b/c"] { try await api.kv(ns).put(key, "v") }
            let result = try expectSuccess(try await api.send(method, "/\(ns)\(path)", json: #"["bulk1","nope"]"#))
            #expect(result == ["successful_key_count": 2, "unsuccessful_keys": []])
            #expect(Set(try await api.snapshot(ns).keys) == ["bulk2", "bulk3", "a b/c"])
            // wrangler's file format: objects with a name.
            try expectSuccess(
                try await api.send(method, "/\(ns)\(path)", json: #"[{"name":"bulk2"},{"name":"a b/c"}]"#))
            #expect(Set(try await api.snapshot(ns).keys) == ["bulk3"])
            #expect(
                try expectSuccess(try await api.send(method, "/\(ns)\(path)", json: "[]"))
                    == ["successful_key_count": 0, "unsuccessful_keys": []])
        }
    }

    @Test(arguments: [
        "[1]", #"["a", 5]"#, #"["a", null]"#, #"["a", ""]"#, #"["a", ".."]"#, #"{"keys":["a"]}"#, #"[{"key":"a"}]"#,
        "[",
        "", #""a""#, #"["\#(String(repeating: "k", count: 513))"]"#,
    ])
    func anInvalidBulkDeleteDeletesNothing(body: String) async throws {
        try await APIServer.with { api in
            let ns = try await api.createNamespace()
            try await api.kv(ns).put("a", "v")
            let response = try await api.send("POST", "/\(ns)/bulk/delete", json: body)
            #expect((400..<500).contains(response.status))
            #expect(try !response.envelope().success)
            #expect(try await api.kv(ns).get("a") == "v")
        }
    }

    @Test func bulkDeleteTakesAtMostTenThousandKeys() async throws {
        try await APIServer.with { api in
            let ns = try await api.createNamespace()
            try await api.kv(ns).put("k0", "v")
            let names = (0..<10_001).map { "\"k\($0)\"" }
            try expectFailure(
                try await api.send("POST", "/\(ns)/bulk/delete", json: "[\(names.joined(separator: ","))]"),
                status: 400, message: "10000")
            #expect(try await api.kv(ns).get("k0") == "v")
            let result = try expectSuccess(
                try await api.send("DELETE", "/\(ns)/bulk", json: "[\(names.dropLast().joined(separator: ","))]"))
            #expect(result["successful_key_count"] == 10_000)
            #expect(try await api.kv(ns).get("k0") == nil)
        }
    }

    // MARK: Get

    func seed(_ api: APIServer) async throws -> String {
        let ns = try await api.createNamespace()
        try expectSuccess(try await api.send("PUT", "/\(ns)/bulk", json: Self.referenceBody))
        try await api.kv(ns).put("json", #"{"a":[1,2]}"#, options: KVPutOptions(metadata: "m"))
        return ns
    }

    @Test func bulkGetText() async throws {
        try await APIServer.with { api in
            let ns = try await seed(api)
            let expected: JSONValue = [
                "values": ["bulk1": "v1", "bulk2": #"{"j": 2}"#, "bulk3": "hello", "nope": .null]
            ]
            for body in [
                #"{"keys":["bulk1","bulk2","bulk3","nope"]}"#,
                #"{"keys":["bulk1","bulk2","bulk3","nope"],"type":"text"}"#,
                #"{"keys":["bulk1","bulk2","bulk3","nope"],"type":"text","withMetadata":false}"#,
            ] {
                #expect(try expectSuccess(try await api.send("POST", "/\(ns)/bulk/get", json: body)) == expected)
            }
        }
    }

    @Test func bulkGetWithMetadata() async throws {
        try await APIServer.with { api in
            let ns = try await seed(api)
            let body = #"{"keys":["bulk1","bulk2","nope"],"type":"text","withMetadata":true}"#
            let result = try expectSuccess(try await api.send("POST", "/\(ns)/bulk/get", json: body))
            #expect(
                result == [
                    "values": [
                        "bulk1": ["value": "v1", "metadata": .null],
                        "bulk2": ["value": #"{"j": 2}"#, "metadata": ["m": 2], "expiration": .int(testEpoch + 600)],
                        "nope": .null,
                    ]
                ])
        }
    }

    @Test func bulkGetJSON() async throws {
        try await APIServer.with { api in
            let ns = try await seed(api)
            let plain = try expectSuccess(
                try await api.send("POST", "/\(ns)/bulk/get", json: #"{"keys":["bulk2","json","nope"],"type":"json"}"#))
            #expect(plain == ["values": ["bulk2": ["j": 2], "json": ["a": [1, 2]], "nope": .null]])
            let withMetadata = try expectSuccess(
                try await api.send(
                    "POST", "/\(ns)/bulk/get", json: #"{"keys":["json"],"type":"json","withMetadata":true}"#))
            #expect(withMetadata == ["values": ["json": ["value": ["a": [1, 2]], "metadata": "m"]]])
            // A value that is not JSON fails the whole read.
            try expectFailure(
                try await api.send("POST", "/\(ns)/bulk/get", json: #"{"keys":["json","bulk1"],"type":"json"}"#),
                status: 400, message: "non-json value")
        }
    }

    @Test func bulkGetTakesOneToAHundredKeys() async throws {
        try await APIServer.with { api in
            let ns = try await seed(api)
            func body(_ count: Int) -> String {
                #"{"keys":[\#((0..<count).map { "\"k\($0)\"" }.joined(separator: ","))]}"#
            }
            let hundred = try expectSuccess(try await api.send("POST", "/\(ns)/bulk/get", json: body(100)))
            #expect(hundred["values"]?.objectValue?.count == 100)
            try expectFailure(
                try await api.send("POST", "/\(ns)/bulk/get", json: body(101)), status: 400,
                message: "You can request a maximum of 100 keys")
            try expectFailure(
                try await api.send("POST", "/\(ns)/bulk/get", json: body(0)), status: 400,
                message: "You must request a minimum of 1 key")
        }
    }

    @Test(arguments: [
        (#"{"keys":[""]}"#, 400, "keys[0]: Key name cannot be empty."),
        (#"{"keys":["a","."]}"#, 400, "keys[1]: \".\" is not allowed as a key name."),
        (#"{"keys":[".."]}"#, 400, "keys[0]: \"..\" is not allowed as a key name."),
        (
            #"{"keys":["\#(String(repeating: "k", count: 513))"]}"#, 414,
            "keys[0]: UTF-8 encoded length of 513 exceeds key length limit of 512."
        ),
    ])
    func bulkGetChecksKeyNamesAsEveryRouteDoes(body: String, status: Int, message: String) async throws {
        try await APIServer.with { api in
            let ns = try await seed(api)
            try expectFailure(
                try await api.send("POST", "/\(ns)/bulk/get", json: body), status: status, message: message)
        }
    }

    @Test(arguments: [
        #"{"keys":["a"],"type":"xml"}"#, #"{"keys":["a"],"withMetadata":"yes"}"#, #"{"keys":"a"}"#, #"{"keys":[1]}"#,
        #"["a"]"#, "{", "", #"{"type":"text"}"#,
    ])
    func bulkGetRejectsBadBodies(body: String) async throws {
        try await APIServer.with { api in
            let ns = try await seed(api)
            try expectFailure(try await api.send("POST", "/\(ns)/bulk/get", json: body), status: 400)
        }
    }
}
