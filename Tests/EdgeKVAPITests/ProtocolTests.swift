import EdgeHTTP
import EdgeKV
import EdgeKVAPI
import EdgeKVTestSupport
import Foundation
import Testing

/// HTTP details a client relies on: the auth scheme's case, HEAD, and what an unauthenticated or oversized request
/// costs the server.
@Suite struct ProtocolTests {
    static let token = "pr0tocol-TOKEN-42"

    @Test(arguments: ["bearer", "BEARER", "Bearer", "bEaReR"])
    func theAuthSchemeIsCaseInsensitive(scheme: String) async throws {
        try await APIServer.with(KVAPI.Configuration(token: Self.token)) { api in
            try expectSuccess(try await api.send("GET", "", headers: [("Authorization", "\(scheme) \(Self.token)")]))
            try expectFailure(
                try await api.send("GET", "", headers: [("Authorization", "\(scheme) x\(Self.token)")]), status: 403,
                code: 10000)
        }
    }

    @Test func headAnswersLikeGetWithoutABody() async throws {
        try await APIServer.with { api in
            let ns = try await api.createNamespace()
            let put = try await api.send("PUT", "/\(ns)/values/greeting", body: Array("hello there".utf8))
            try expectSuccess(put)
            let get = try await api.send("GET", "/\(ns)/values/greeting")
            let head = try await api.send("HEAD", "/\(ns)/values/greeting")
            #expect(head.status == 200)
            #expect(head.body.isEmpty)
            #expect(head.header("content-length") == String(get.body.count))
            let list = try await api.send("HEAD", "")
            #expect(list.status == 200)
            #expect(list.body.isEmpty)
        }
    }

    @Test func anUnauthenticatedUploadIsNotReadPastItsHead() async throws {
        try await APIServer.with(KVAPI.Configuration(token: Self.token)) { api in
            let ns = "0f2ac74b498b48028cb68387c421e279"
            let connection = try await RawHTTPConnection(port: api.server.port, timeout: .seconds(10))
            try await connection.send(
                "PUT \(api.root)/\(ns)/values/k HTTP/1.1\r\nHost: x\r\nContent-Length: 20000000\r\n\r\nabc")
            let response = try await connection.readResponse()
            #expect(response.status == 401)
            #expect(response.header("connection")?.lowercased() == "close")
            _ = try await connection.readUntilClosed()
        }
    }

    @Test func aDeclaredLengthOverTheValueLimitIsRefusedAtOnce() async throws {
        try await APIServer.with { api in
            let ns = try await api.createNamespace()
            let connection = try await RawHTTPConnection(port: api.server.port, timeout: .seconds(10))
            try await connection.send(
                "PUT \(api.root)/\(ns)/values/k HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000000\r\n\r\nabc")
            let response = try await connection.readResponse()
            try expectFailure(response, status: 413, code: 10413)
            _ = try await connection.readUntilClosed()
            #expect(try await api.kv(ns).get("k") == nil)
        }
    }
}
