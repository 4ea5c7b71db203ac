import EdgeKV
import EdgeKVAPI
import EdgeKVSQLite
import EdgeKVTestSupport
import Foundation
import Testing

/// A NUL character (`%00` in a path, `\u0000` in JSON) in a namespace id or title is refused with a 400, and never
/// cut off: `<id>%00junk` must not reach namespace `<id>`.
@Suite struct NULCharacterTests {
    @Test(arguments: [
        ("PUT", "/values/k"), ("GET", "/values/k"), ("DELETE", "/values/k"), ("GET", "/metadata/k"), ("GET", "/keys"),
        ("PUT", "/bulk"), ("POST", "/bulk/delete"), ("POST", "/bulk/get"), ("GET", ""), ("PUT", ""), ("DELETE", ""),
    ])
    func namespaceIDWithNULIs400(method: String, path: String) async throws {
        try await APIServer.with { api in
            let id = try await api.createNamespace("target")
            try await api.kv(id).put("k", "original")
            let body: String =
                switch path {
                case "/bulk": #"[{"key":"k","value":"overwritten"}]"#
                case "/bulk/delete": #"["k"]"#
                case "/bulk/get": #"{"keys":["k"]}"#
                case "": #"{"title":"renamed"}"#
                default: "overwritten"
                }
            let response = try await api.send(
                method, "/\(id)%00junk\(path)", headers: [("Content-Type", "application/json")], body: Array(body.utf8))
            try expectFailure(response, status: 400, code: 10011, message: "NUL")
            #expect(try await api.snapshot(id)["k"]?.value == Array("original".utf8))
            #expect(try await api.store.listNamespaces() == [KVNamespaceInfo(id: id, title: "target")])
        }
    }

    @Test func titleWithNULIs400() async throws {
        try await APIServer.with { api in
            try expectFailure(
                try await api.send("POST", "", json: #"{"title":"abc\u0000def"}"#), status: 400, code: 10019,
                message: "NUL")
            let id = try await api.createNamespace("abc")
            try expectFailure(
                try await api.send("PUT", "/\(id)", json: #"{"title":"abc\u0000def"}"#), status: 400, code: 10019,
                message: "NUL")
            #expect(try await api.store.listNamespaces() == [KVNamespaceInfo(id: id, title: "abc")])
        }
    }

    @Test func keysWithNULStayWhole() async throws {
        try await APIServer.with { api in
            let id = try await api.createNamespace()
            try expectSuccess(try await api.send("PUT", "/\(id)/values/a", body: Array("plain".utf8)))
            try expectSuccess(try await api.send("PUT", "/\(id)/values/a%00b", body: Array("with NUL".utf8)))
            let snapshot = try await api.snapshot(id)
            #expect(snapshot["a"]?.value == Array("plain".utf8))
            #expect(snapshot["a\u{0}b"]?.value == Array("with NUL".utf8))
            #expect(try await api.send("GET", "/\(id)/values/a%00b").body == Array("with NUL".utf8))
        }
    }
}
