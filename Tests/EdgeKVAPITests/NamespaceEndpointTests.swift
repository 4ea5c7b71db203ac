import EdgeKV
import EdgeKVSQLite
import EdgeKVTestSupport
import Foundation
import Testing

/// `GET|POST /namespaces`, `GET|PUT|DELETE /namespaces/{id}` over a real socket.
@Suite struct NamespaceEndpointTests {
    @Test func createGetAndListOneNamespace() async throws {
        try await APIServer.with { api in
            let created = try expectSuccess(try await api.send("POST", "", json: #"{"title":"my-ns"}"#))
            let id = try #require(created["id"]?.stringValue)
            #expect(id.count == 32 && id.allSatisfy(\.isHexDigit))
            #expect(created["title"] == "my-ns")
            #expect(created["supports_url_encoding"] == true)

            #expect(try expectSuccess(try await api.send("GET", "/\(id)")) == created)

            let list = try await api.send("GET", "")
            #expect(try expectSuccess(list) == [created])
            #expect(
                try list.envelope().resultInfo
                    == ["page": 1, "per_page": 20, "count": 1, "total_count": 1, "total_pages": 1])
        }
    }

    @Test func listHonoursPagePerPageOrderAndDirection() async throws {
        try await APIServer.with { api in
            var ids: [String: String] = [:]
            for title in ["c", "a", "e", "b", "d"] { ids[title] = try await api.createNamespace(title) }
            func titles(_ query: String) async throws -> [String] {
                let result = try expectSuccess(try await api.send("GET", query))
                return try #require(result.arrayValue).compactMap { $0["title"]?.stringValue }
            }
            #expect(try await titles("?order=title&per_page=2") == ["a", "b"])
            #expect(try await titles("?order=title&per_page=2&page=2") == ["c", "d"])
            #expect(try await titles("?order=title&per_page=2&page=3") == ["e"])
            // Past the end: an empty page (the Python SDK's page iterator stops only on this).
            #expect(try await titles("?order=title&per_page=2&page=4") == [])
            #expect(try await titles("?order=title&per_page=2&page=400") == [])
            // Python renders floats: page=2.0, per_page=2.0.
            #expect(try await titles("?order=title&per_page=2.0&page=2.0") == ["c", "d"])
            #expect(try await titles("?order=title&direction=desc") == ["e", "d", "c", "b", "a"])
            #expect(try await titles("?direction=desc&order=title&page=1&per_page=50") == ["e", "d", "c", "b", "a"])
            let byID = ids.sorted { $0.value < $1.value }.map(\.key)
            #expect(try await titles("?order=id") == byID)
            #expect(try await titles("") == byID)
            #expect(try await titles("?order=id&direction=desc") == byID.reversed())

            let page = try await api.send("GET", "?order=title&per_page=2&page=3")
            #expect(
                try page.envelope().resultInfo
                    == ["page": 3, "per_page": 2, "count": 1, "total_count": 5, "total_pages": 3])
            let past = try await api.send("GET", "?per_page=2&page=9")
            #expect(try past.envelope().resultInfo?["count"] == 0)
        }
    }

    @Test(arguments: [
        "?page=0", "?page=-1", "?page=abc", "?per_page=0", "?per_page=1001", "?per_page=x", "?order=name",
        "?direction=up", "?page=1e400", "?page=nan",
    ])
    func listRejectsBadQueries(query: String) async throws {
        try await APIServer.with { api in
            try expectFailure(try await api.send("GET", query), status: 400)
        }
    }

    @Test func createRejectsDuplicatesAndBadBodiesAndChangesNothing() async throws {
        try await APIServer.with { api in
            let id = try await api.createNamespace("taken")
            try expectFailure(
                try await api.send("POST", "", json: #"{"title":"taken"}"#), status: 400, code: 10014,
                message: "a namespace with this account ID and title already exists")
            try expectFailure(try await api.send("POST", "", json: #"{"title":""}"#), status: 400, code: 10019)
            let long = String(repeating: "t", count: 513)
            try expectFailure(try await api.send("POST", "", json: #"{"title":"\#(long)"}"#), status: 400, code: 10019)
            for body in [#"{"title":"#, "", "[]", #"{"title":5}"#, #"{"name":"x"}"#, "null", "\u{FF}"] {
                try expectFailure(try await api.send("POST", "", json: body), status: 400)
            }
            // A title of exactly 512 characters is fine.
            let edge = String(repeating: "é", count: 512)
            let made = try expectSuccess(try await api.send("POST", "", json: #"{"title":"\#(edge)"}"#))
            #expect(made["title"]?.stringValue == edge)
            let all = try await api.store.listNamespaces()
            #expect(Set(all.map(\.title)) == ["taken", edge])
            #expect(all.contains { $0.id == id })
        }
    }

    @Test func renameUpdatesTheTitle() async throws {
        try await APIServer.with { api in
            let id = try await api.createNamespace("old")
            let other = try await api.createNamespace("other")
            let renamed = try expectSuccess(try await api.send("PUT", "/\(id)", json: #"{"title":"new"}"#))
            #expect(renamed["id"]?.stringValue == id)
            #expect(renamed["title"] == "new")
            #expect(try expectSuccess(try await api.send("GET", "/\(id)"))["title"] == "new")
            // Renaming to its own title is fine; to another's is a duplicate.
            try expectSuccess(try await api.send("PUT", "/\(id)", json: #"{"title":"new"}"#))
            try expectFailure(
                try await api.send("PUT", "/\(id)", json: #"{"title":"other"}"#), status: 400, code: 10014)
            try expectFailure(
                try await api.send("PUT", "/0000000000000000000000000000000f", json: #"{"title":"x"}"#), status: 404,
                code: 10013)
            try expectFailure(try await api.send("PUT", "/\(id)", json: "{"), status: 400)
            #expect(try await api.store.namespaceInfo(id: id)?.title == "new")
            #expect(try await api.store.namespaceInfo(id: other)?.title == "other")
        }
    }

    @Test func deleteRemovesTheNamespaceAndItsKeys() async throws {
        try await APIServer.with { api in
            let id = try await api.createNamespace("doomed")
            try expectSuccess(try await api.send("PUT", "/\(id)/values/k", body: Array("v".utf8)))
            let deleted = try expectSuccess(try await api.send("DELETE", "/\(id)"))
            #expect(deleted == .object([:]))
            try expectFailure(try await api.send("GET", "/\(id)"), status: 404, code: 10013)
            try expectFailure(try await api.send("DELETE", "/\(id)"), status: 404, code: 10013)
            try expectFailure(try await api.send("GET", "/\(id)/values/k"), status: 404, code: 10013)
            #expect(try await api.kv(id).readEntry("k") == nil)
            #expect(try expectSuccess(try await api.send("GET", "")) == [])
        }
    }

    @Test(arguments: [
        ("GET", ""), ("GET", "/keys"), ("GET", "/values/k"), ("PUT", "/values/k"), ("DELETE", "/values/k"),
        ("GET", "/metadata/k"), ("PUT", "/bulk"), ("POST", "/bulk/delete"), ("DELETE", "/bulk"), ("POST", "/bulk/get"),
    ])
    func everyRouteAnswers10013ForAnUnknownNamespace(method: String, path: String) async throws {
        try await APIServer.with { api in
            let body: [UInt8]? =
                switch path {
                case "/bulk": Array(#"[{"key":"a","value":"b"}]"#.utf8)
                case "/bulk/delete": Array(#"["a"]"#.utf8)
                case "/bulk/get": Array(#"{"keys":["a"]}"#.utf8)
                case "/values/k" where method == "PUT": Array("v".utf8)
                default: nil
                }
            let ns = "0123456789abcdef0123456789abcdef"
            try expectFailure(try await api.send(method, "/\(ns)\(path)", body: body), status: 404, code: 10013)
            // Nothing was created on the way.
            #expect(try await api.store.listNamespaces().isEmpty)
        }
    }
}
