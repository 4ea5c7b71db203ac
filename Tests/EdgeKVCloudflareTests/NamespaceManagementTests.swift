import Edge
import EdgeKV
import EdgeKVAPI
import EdgeKVCloudflare
import EdgeKVSQLite
import EdgeKVTestSupport
import Foundation
import HTTPTypes
import Synchronization
import Testing

/// The REST client's namespace management against the local REST API app over a real socket, the global-key
/// credentials as they arrive at the server, and the configuration read from the environment.
@Suite struct NamespaceManagementTests {
    static let root = "/client/v4/accounts/\(faultAccount)/storage/kv/namespaces"

    /// Runs `body` and returns the ``KVNamespaceError`` it throws (nil, recorded as an issue, when it throws none).
    static func namespaceError(
        sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void
    ) async -> KVNamespaceError? {
        do {
            try await body()
            Issue.record("expected a KVNamespaceError, got success", sourceLocation: sourceLocation)
        } catch let error as KVNamespaceError {
            return error
        } catch {
            Issue.record("expected a KVNamespaceError, got \(error)", sourceLocation: sourceLocation)
        }
        return nil
    }

    @Test func createGetRenameAndDeleteChangeTheServersState() async throws {
        try await FaultServer.with(Script.none) { server in
            let client = server.client()
            let created = try await client.createNamespace(title: "users")
            #expect(created.title == "users")
            #expect(created.id.count == 32 && created.id.allSatisfy(\.isHexDigit), "\(created.id)")
            #expect(try await server.store.namespaceInfo(id: created.id) == created)
            #expect(try await client.getNamespace(id: created.id) == created)
            #expect(try await client.namespaceInfo(id: created.id) == created)

            let duplicate = await Self.namespaceError { _ = try await client.createNamespace(title: "users") }
            #expect(
                duplicate
                    == KVNamespaceError(
                        code: 10014, status: 400,
                        message: "a namespace with this account ID and title already exists: users"))

            try await client.renameNamespace(id: created.id, title: "people")
            #expect(try await server.store.namespaceInfo(id: created.id)?.title == "people")
            #expect(try await client.getNamespace(id: created.id).title == "people")
            let taken = await Self.namespaceError { try await client.renameNamespace(id: created.id, title: "faults") }
            #expect(taken?.code == 10014, "\(String(describing: taken))")
            #expect(try await server.store.namespaceInfo(id: created.id)?.title == "people")

            try await client.deleteNamespace(id: created.id)
            #expect(try await server.store.namespaceInfo(id: created.id) == nil)
            #expect(try await client.namespaceInfo(id: created.id) == nil)
            let missing = created.id
            #expect(
                await Self.namespaceError { try await client.deleteNamespace(id: missing) }
                    == KVNamespaceError.notFound(missing))
            #expect(
                await Self.namespaceError { try await client.renameNamespace(id: missing, title: "x") }
                    == KVNamespaceError.notFound(missing))
            do {
                _ = try await client.getNamespace(id: missing)
                Issue.record("getNamespace found a deleted namespace")
            } catch let error as CloudflareAPIError {
                #expect(error.status == 404 && error.code == 10013, "\(error)")
            }

            // What went over the wire, in order: the id is one path segment.
            let one = "\(Self.root)/\(created.id)"
            let sent = server.log.all.map { "\($0.method) \($0.target)" }
            #expect(
                sent == [
                    "POST \(Self.root)", "GET \(one)", "GET \(one)", "POST \(Self.root)", "PUT \(one)", "GET \(one)",
                    "PUT \(one)", "DELETE \(one)", "GET \(one)", "DELETE \(one)", "PUT \(one)", "GET \(one)",
                ], "\(sent)")
        }
    }

    @Test(arguments: ["", String(repeating: "t", count: 513), "nul\u{0}title"])
    func anInvalidTitleIsRefusedBeforeAnyRequest(_ title: String) async throws {
        try await FaultServer.with(Script.none) { (server: FaultServer) async throws in
            let client = server.client()
            let create = await Self.namespaceError { _ = try await client.createNamespace(title: title) }
            #expect(create?.code == 10019, "\(String(describing: create))")
            let rename = await Self.namespaceError {
                try await client.renameNamespace(id: server.namespaceID, title: title)
            }
            #expect(rename?.code == 10019, "\(String(describing: rename))")
            #expect(server.log.count == 0)
            #expect(try await server.store.listNamespaces().map(\.title) == ["faults"])
        }
    }

    @Test func listingFollowsEveryPage() async throws {
        try await FaultServer.with(Script.none) { server in
            for i in 0..<230 { _ = try await server.store.createNamespace(title: String(format: "ns-%03d", i)) }
            let expected = try await server.store.listNamespaces()
            #expect(expected.count == 231)
            let client = server.client()

            let all = try await client.listNamespaces()
            #expect(all == expected, "every namespace once, ordered by title")
            let pages = server.log.all.map(\.target)
            #expect(pages.count >= 3, "231 namespaces are three pages of 100: \(pages)")
            for (index, target) in pages.enumerated() {
                #expect(target == "\(Self.root)?page=\(index + 1)&per_page=100", "\(pages)")
            }

            var streamed: [KVNamespaceInfo] = []
            for try await info in client.namespaces(perPage: 7) { streamed.append(info) }
            #expect(streamed.count == 231 && Set(streamed) == Set(expected), "33 pages of 7")

            // One page, as the API orders it.
            let byTitleDescending = expected.sorted { $0.title > $1.title }
            let page = try await client.listNamespaces(page: 2, perPage: 50, order: "title", direction: "desc")
            #expect(page == Array(byTitleDescending[50..<100]))
            let last = try await client.listNamespaces(page: 5, perPage: 50, order: "title", direction: "desc")
            #expect(last == Array(byTitleDescending[200..<231]))
            #expect(try await client.listNamespaces(page: 6, perPage: 50).isEmpty)
        }
    }

    // MARK: Email and global key

    /// The credential headers of each request, as the server received them.
    final class CredentialLog: Sendable {
        struct Entry: Sendable, Equatable {
            var authorization: String?
            var email: String?
            var key: String?
        }
        let entries = Mutex<[Entry]>([])

        var all: [Entry] { entries.withLock { $0 } }

        /// A script that records the headers, then lets the app answer.
        var script: FaultScript {
            { _, _ in
                .custom { request, context, app in
                    let entry = Entry(
                        authorization: request.headers[.authorization],
                        email: request.headers[HTTPField.Name("X-Auth-Email")!],
                        key: request.headers[HTTPField.Name("X-Auth-Key")!])
                    self.entries.withLock { $0.append(entry) }
                    return try await app(request, context)
                }
            }
        }
    }

    static let email = "ops@example.com"
    static let globalKey = "g1obal-api-key-0f1e2d3c4b5a"

    func globalKeyClient(_ server: FaultServer, key: String = globalKey) -> CloudflareClient {
        CloudflareClient(
            configuration: CloudflareConfiguration(
                baseURL: server.baseURL, accountID: faultAccount,
                credentials: .globalKey(email: Self.email, key: key), retry: .fast, lanes: 1))
    }

    @Test func aGlobalKeyTravelsAsXAuthEmailAndXAuthKeyWithoutABearer() async throws {
        let log = CredentialLog()
        try await FaultServer.with(
            log.script, api: KVAPI.Configuration(authEmail: Self.email, authKey: Self.globalKey)
        ) { server in
            let client = globalKeyClient(server)
            let info = try await client.createNamespace(title: "keyed")
            #expect(try await client.listNamespaces().map(\.title) == ["faults", "keyed"])
            try await client.renameNamespace(id: info.id, title: "keyed-2")
            let kv = client.namespace(id: info.id)
            try await kv.put("k", "v")
            #expect(try await kv.get("k") == "v")
            try await client.deleteNamespace(id: info.id)
            #expect(try await server.store.listNamespaces().map(\.title) == ["faults"])

            let entries = log.all
            #expect(entries.count == server.log.count && entries.count >= 6)
            for entry in entries {
                #expect(entry == CredentialLog.Entry(authorization: nil, email: Self.email, key: Self.globalKey))
            }
        }
    }

    @Test func aWrongGlobalKeyOrATokenIsRefusedAndNotShown() async throws {
        let wrong = "wr0ng-\(Self.globalKey)"
        try await FaultServer.with(
            Script.none, api: KVAPI.Configuration(authEmail: Self.email, authKey: Self.globalKey)
        ) {
            server in
            for client in [globalKeyClient(server, key: wrong), server.client()] {
                do {
                    _ = try await client.createNamespace(title: "intruder")
                    Issue.record("a wrong credential created a namespace")
                } catch let error as CloudflareAPIError {
                    #expect(error.status == 403 && error.code == 10000, "\(error)")
                    #expect(error.attempts == 1, "a refusal is not retried")
                    expectNoSecret(error, secrets: [wrong, Self.globalKey, faultToken])
                }
            }
            #expect(try await server.store.listNamespaces().map(\.title) == ["faults"])
        }
    }

    // MARK: fromEnvironment

    static let account = ["CLOUDFLARE_ACCOUNT_ID": faultAccount]

    @Test(arguments: [
        (
            [String: String](),
            "no Cloudflare credentials: set CLOUDFLARE_API_TOKEN (or CLOUDFLARE_API_KEY and CLOUDFLARE_EMAIL)"
        ),
        (
            account,
            "no Cloudflare credentials: set CLOUDFLARE_API_TOKEN (or CLOUDFLARE_API_KEY and CLOUDFLARE_EMAIL)"
        ),
        (
            account.merging(["CLOUDFLARE_API_TOKEN": " \n\t"]) { a, _ in a },
            "no Cloudflare credentials: set CLOUDFLARE_API_TOKEN (or CLOUDFLARE_API_KEY and CLOUDFLARE_EMAIL)"
        ),
        (
            account.merging(["CLOUDFLARE_EMAIL": email]) { a, _ in a },
            "no Cloudflare credentials: set CLOUDFLARE_API_TOKEN (or CLOUDFLARE_API_KEY and CLOUDFLARE_EMAIL)"
        ),
        (
            account.merging(["CLOUDFLARE_API_KEY": globalKey]) { a, _ in a },
            "CLOUDFLARE_API_KEY is set but CLOUDFLARE_EMAIL is not; set both"
        ),
        (
            account.merging(["CLOUDFLARE_API_KEY": globalKey, "CLOUDFLARE_EMAIL": ""]) { a, _ in a },
            "CLOUDFLARE_API_KEY is set but CLOUDFLARE_EMAIL is not; set both"
        ),
        (["CLOUDFLARE_API_TOKEN": faultToken], "no Cloudflare account: set CLOUDFLARE_ACCOUNT_ID"),
        (
            ["CLOUDFLARE_API_KEY": globalKey, "CLOUDFLARE_EMAIL": email, "CLOUDFLARE_ACCOUNT_ID": "  "],
            "no Cloudflare account: set CLOUDFLARE_ACCOUNT_ID"
        ),
        (
            account.merging(["CLOUDFLARE_API_TOKEN": faultToken, "CLOUDFLARE_API_BASE_URL": "ftp://127.0.0.1/v4"]) {
                a, _ in a
            },
            "CLOUDFLARE_API_BASE_URL is not an http(s) URL: ftp://127.0.0.1/v4"
        ),
        (
            account.merging(["CLOUDFLARE_API_TOKEN": faultToken, "CLOUDFLARE_API_BASE_URL": "127.0.0.1:8788"]) {
                a, _ in a
            },
            "CLOUDFLARE_API_BASE_URL is not an http(s) URL: 127.0.0.1:8788"
        ),
        (
            account.merging(["CLOUDFLARE_API_TOKEN": faultToken, "CLOUDFLARE_API_BASE_URL": "http://"]) { a, _ in a },
            "CLOUDFLARE_API_BASE_URL is not an http(s) URL: http://"
        ),
    ])
    func fromEnvironmentSaysWhatToSet(_ environment: [String: String], _ message: String) throws {
        do {
            let configuration = try CloudflareConfiguration.fromEnvironment(environment)
            Issue.record("expected \"\(message)\", got \(configuration)")
        } catch let error as CloudflareConfigurationError {
            #expect(error.description == message)
            expectNoSecret(error, secrets: [faultToken, Self.globalKey])
        }
    }

    @Test func fromEnvironmentReadsEachCredentialKind() throws {
        let token = try CloudflareConfiguration.fromEnvironment(
            Self.account.merging(["CLOUDFLARE_API_TOKEN": faultToken]) { a, _ in a })
        #expect(token.baseURL == "https://api.cloudflare.com/client/v4")
        #expect(token.accountID == faultAccount)
        guard case .token(let value) = token.credentials else {
            Issue.record("expected a token, got \(token.credentials)")
            return
        }
        #expect(value == faultToken)

        let key = try CloudflareConfiguration.fromEnvironment(
            Self.account.merging(["CLOUDFLARE_API_KEY": " \(Self.globalKey)\n", "CLOUDFLARE_EMAIL": Self.email]) {
                a, _ in a
            })
        guard case .globalKey(let email, let secret) = key.credentials else {
            Issue.record("expected a global key, got \(key.credentials)")
            return
        }
        #expect(email == Self.email && secret == Self.globalKey, "values are trimmed")

        // Both kinds set: the token is used (documented: the key pair counts only when no token is set).
        let both = try CloudflareConfiguration.fromEnvironment(
            Self.account.merging([
                "CLOUDFLARE_API_TOKEN": faultToken, "CLOUDFLARE_API_KEY": Self.globalKey,
                "CLOUDFLARE_EMAIL": Self.email,
            ]) { a, _ in a })
        #expect(both.credentials.description == "API token (redacted)")
        // A token beside a key without its email: no complaint about the email, the token is used.
        let tokenAndHalfPair = try CloudflareConfiguration.fromEnvironment(
            Self.account.merging(["CLOUDFLARE_API_TOKEN": faultToken, "CLOUDFLARE_API_KEY": Self.globalKey]) { a, _ in a
            })
        #expect(tokenAndHalfPair.credentials.description == "API token (redacted)")
    }

    @Test func aConfigurationFromTheEnvironmentWorksAgainstTheServer() async throws {
        let log = CredentialLog()
        try await FaultServer.with(log.script) { server in
            // Padded values and a trailing slash on the base, as a shell or a copied URL leave them.
            let configuration = try CloudflareConfiguration.fromEnvironment([
                "CLOUDFLARE_API_BASE_URL": server.baseURL + "/", "CLOUDFLARE_ACCOUNT_ID": " \(faultAccount) ",
                "CLOUDFLARE_API_TOKEN": "\(faultToken)\n", "CLOUDFLARE_API_KEY": Self.globalKey,
                "CLOUDFLARE_EMAIL": Self.email,
            ])
            #expect(configuration.baseURL == server.baseURL)
            let client = CloudflareClient(configuration: configuration)
            #expect(try await client.listNamespaces().map(\.title) == ["faults"])
            #expect(
                server.log.all.map(\.target) == [
                    "\(Self.root)?page=1&per_page=100", "\(Self.root)?page=2&per_page=100",
                ])
            #expect(log.all.first == CredentialLog.Entry(authorization: "Bearer \(faultToken)", email: nil, key: nil))
        }
    }
}
