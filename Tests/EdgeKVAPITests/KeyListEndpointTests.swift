import EdgeKV
import EdgeKVSQLite
import EdgeKVTestSupport
import Foundation
import Testing

/// `GET /namespaces/{id}/keys`: prefix, limit, cursor, `result_info`.
@Suite struct KeyListEndpointTests {
    func names(_ result: JSONValue) throws -> [String] {
        try #require(result.arrayValue).map { try #require($0["name"]?.stringValue) }
    }

    @Test func listsNamesExpirationAndMetadataWithAnEmptyCursorAtTheEnd() async throws {
        try await APIServer.with { api in
            let ns = try await api.createNamespace()
            try await api.kv(ns).put("b", "2", options: KVPutOptions(expirationTtl: 600, metadata: ["m": 1]))
            try await api.kv(ns).put("a", "1")
            try await api.kv(ns).put("c", "3", options: KVPutOptions(expiration: testEpoch + 3600))
            let response = try await api.send("GET", "/\(ns)/keys")
            #expect(
                try expectSuccess(response) == [
                    ["name": "a"], ["name": "b", "expiration": .int(testEpoch + 600), "metadata": ["m": 1]],
                    ["name": "c", "expiration": .int(testEpoch + 3600)],
                ])
            #expect(try response.envelope().resultInfo == ["count": 3, "cursor": ""])

            let empty = try await api.send("GET", "/\(ns)/keys?prefix=zzz")
            #expect(try expectSuccess(empty) == [])
            #expect(try empty.envelope().resultInfo == ["count": 0, "cursor": ""])
        }
    }

    @Test func prefixIsFormDecoded() async throws {
        try await APIServer.with { api in
            let ns = try await api.createNamespace()
            for key in ["a b/c&x=y", "a bc", "a+b", "a+c", "ab", "ключ/1"] { try await api.kv(ns).put(key, "v") }
            func list(_ query: String) async throws -> [String] {
                try names(try expectSuccess(try await api.send("GET", "/\(ns)/keys?\(query)")))
            }
            // httpx sends prefix="a b/c&x=y" as prefix=a+b%2Fc%26x%3Dy: `+` is a space in a query.
            #expect(try await list("prefix=a+b%2Fc%26x%3Dy") == ["a b/c&x=y"])
            #expect(try await list("prefix=a+b") == ["a b/c&x=y", "a bc"])
            #expect(try await list("prefix=a%20b") == ["a b/c&x=y", "a bc"])
            #expect(try await list("prefix=a%2B") == ["a+b", "a+c"])
            #expect(try await list("prefix=%D0%BA%D0%BB%D1%8E%D1%87%2F") == ["ключ/1"])
            #expect(try await list("prefix=") == ["a b/c&x=y", "a bc", "a+b", "a+c", "ab", "ключ/1"])
        }
    }

    @Test(arguments: ["10", "10.0", "1000", "1000.0", "25.9", "500"])
    func acceptsLimitsFromTenToAThousand(limit: String) async throws {
        try await APIServer.with { api in
            let ns = try await api.createNamespace()
            try expectSuccess(try await api.send("GET", "/\(ns)/keys?limit=\(limit)"))
        }
    }

    @Test(arguments: ["9", "9.99", "0", "-1", "1001", "1001.0", "abc", "1e400", "9223372036854775807"])
    func rejectsLimitsOutOfRange(limit: String) async throws {
        try await APIServer.with { api in
            let ns = try await api.createNamespace()
            try expectFailure(try await api.send("GET", "/\(ns)/keys?limit=\(limit)"), status: 400)
        }
    }

    @Test func cursorPaginationReachesTheEnd() async throws {
        try await APIServer.with { api in
            let ns = try await api.createNamespace()
            let keys = (0..<25).map { "p/\($0 < 10 ? "0" : "")\($0)" }
            for key in keys + ["q/other"] { try await api.kv(ns).put(key, "v") }
            var seen: [String] = []
            var counts: [Int64] = []
            var cursor: String?
            var requests = 0
            repeat {
                // The Python SDK keeps prefix and limit and appends the cursor.
                var query = "?limit=10&prefix=p%2F"
                if let cursor {
                    query += "&cursor=\(cursor.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)"
                }
                let response = try await api.send("GET", "/\(ns)/keys\(query)")
                seen += try names(try expectSuccess(response))
                let info = try #require(try response.envelope().resultInfo)
                counts.append(try #require(info["count"]?.intValue))
                cursor = try #require(info["cursor"]?.stringValue)
                requests += 1
            } while cursor != "" && requests < 10
            #expect(seen == keys)
            #expect(counts == [10, 10, 5])
            #expect(cursor == "")

            // An explicit empty cursor starts from the beginning.
            let first = try await api.send("GET", "/\(ns)/keys?cursor=&limit=10")
            #expect(try names(try expectSuccess(first)) == Array(keys.prefix(10)))
            #expect(try first.envelope().resultInfo?["cursor"]?.stringValue?.isEmpty == false)
        }
    }

    @Test func aCursorThatIsNotOneOfOursIs400() async throws {
        try await APIServer.with { api in
            let ns = try await api.createNamespace()
            try await api.kv(ns).put("a", "v")
            try expectFailure(try await api.send("GET", "/\(ns)/keys?cursor=%21%21%21"), status: 400, message: "cursor")
        }
    }

    @Test func expiredKeysAreNotListed() async throws {
        try await APIServer.with { api in
            let ns = try await api.createNamespace()
            try await api.kv(ns).put("short", "v", options: KVPutOptions(expirationTtl: 60))
            try await api.kv(ns).put("long", "v", options: KVPutOptions(expirationTtl: 600))
            api.advance(seconds: 61)
            #expect(try names(try expectSuccess(try await api.send("GET", "/\(ns)/keys"))) == ["long"])
        }
    }

    @Test func rejectsAPrefixOverTheKeyLimit() async throws {
        try await APIServer.with { api in
            let ns = try await api.createNamespace()
            let response = try await api.send("GET", "/\(ns)/keys?prefix=\(String(repeating: "x", count: 513))")
            try expectFailure(response, status: 414, message: "exceeds key length limit of 512")
        }
    }
}
