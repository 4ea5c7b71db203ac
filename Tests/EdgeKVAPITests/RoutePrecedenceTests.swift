import EdgeKV
import EdgeKVAPI
import EdgeKVTestSupport
import Testing

/// Which answer wins when a request is wrong in more than one way, and the codes KV failures are answered with.
@Suite struct RoutePrecedenceTests {
    static let ns = "0123456789abcdef0123456789abcdef"

    /// (method, target, status, message): the account, then the namespace id, then a value's key are checked before
    /// the route and the method; a metadata key only once the method is right.
    static let cases: [(String, String, Int, String)] = [
        ("GET", "/client/v4/accounts/%zz/storage/kv/namespaces/\(ns)/unknown", 400, "Could not URL-decode account id"),
        ("PATCH", "/client/v4/accounts/%zz/storage/kv/namespaces", 400, "Could not URL-decode account id"),
        ("GET", "/client/v4/accounts/%zz/storage/kv", 404, "No route for the URI"),
        ("GET", "/accounts/acc/storage/kv/namespaces/%zz/unknown", 400, "Could not URL-decode namespace id"),
        ("PATCH", "/client/v4/accounts/acc/storage/kv/namespaces//keys", 400, "Could not URL-decode namespace id"),
        (
            "PATCH", "/client/v4/accounts/acc/storage/kv/namespaces/\(ns)/values/%zz", 400,
            "Could not URL-decode key name"
        ),
        ("PATCH", "/client/v4/accounts/acc/storage/kv/namespaces/\(ns)/values//", 400, "Key names must not be empty"),
        (
            "PATCH", "/client/v4/accounts/acc/storage/kv/namespaces/\(ns)/metadata/%zz", 405,
            "Method PATCH not allowed for this route"
        ),
        (
            "GET", "/client/v4/accounts/acc/storage/kv/namespaces/\(ns)/metadata/%zz", 400,
            "Could not URL-decode key name"
        ),
        ("GET", "/client/v4/accounts/acc/storage/kv/namespaces/\(ns)/values/", 404, "No route for the URI"),
    ]

    @Test(arguments: cases)
    func theFirstProblemInPathOrderIsAnswered(
        method: String, target: String, status: Int, message: String
    )
        async throws
    {
        try await APIServer.with { api in
            try expectFailure(try await api.sendRaw(method, target), status: status, message: message)
        }
    }

    @Test func aPinnedAccountIsCheckedBeforeTheRoute() async throws {
        try await APIServer.with(KVAPI.Configuration(accountID: "mine")) { api in
            let other = "/client/v4/accounts/other/storage/kv/namespaces/\(Self.ns)/unknown"
            try expectFailure(try await api.sendRaw("GET", other), status: 403, code: 10000)
            try expectFailure(
                try await api.sendRaw("GET", "/client/v4/accounts/other/storage/r2"), status: 404, code: 7003)
        }
    }

    /// A key over the limit is the service's 414 with its text, and the API's bad-request code: no code made up
    /// from the status.
    @Test func aKVFailureKeepsItsStatusWithADocumentedCode() async throws {
        try await APIServer.with { api in
            let ns = try await api.createNamespace()
            let long = String(repeating: "k", count: 600)
            try expectFailure(
                try await api.send("GET", "/\(ns)/values/\(long)"), status: 414, code: 10400,
                message: "UTF-8 encoded length of 600 exceeds key length limit of 512.")
            try expectFailure(
                try await api.send("GET", "/\(ns)/metadata/\(long)"), status: 414, code: 10400,
                message: "UTF-8 encoded length of 600 exceeds key length limit of 512.")
        }
    }
}
