import Edge
import EdgeHTTP
import EdgeKV
import EdgeKVAPI
import EdgeKVCloudflare
import EdgeKVSQLite
import EdgeKVTestSupport
import Foundation
import Logging
import Synchronization
import Testing

/// The KV conformance suite through the REST client, over a real socket, against the local REST API app.
///
/// Every case runs: the suite's pages are at least 10 keys (the REST API's smallest page), the server and the
/// binding's checks share the case's manual clock, and binary values travel raw (single reads and writes) or as
/// base64 (bulk writes). Bulk reads go through `/bulk/get`, which carries text values only — as the binding's bulk
/// reads do.
@Suite struct CloudflareConformanceTests {
    @Test(arguments: KVConformance.cases)
    func overHTTP(_ c: KVConformanceCase) async throws {
        let servers = ServerBox()
        let outcome = await Result(catching: { try await run(c, servers: servers) })
        await servers.stopAll()
        try outcome.get()
    }

    func run(_ c: KVConformanceCase, servers: ServerBox) async throws {
        try await c.run { clock in
            let store = try await SQLiteKVStore(inMemoryWithClock: clock)
            let api = KVAPI(namespaces: store, configuration: KVAPI.Configuration(token: "conformance-token"))
            var logger = Logger(label: "test")
            logger.logLevel = .warning
            let server = try await EdgeServer(
                runtime: EdgeRuntime(clock: clock, logger: logger, handler: api.handler),
                configuration: EdgeServer.Configuration(port: 0, logger: logger)
            ).start()
            servers.add(server)
            let client = CloudflareClient(
                configuration: CloudflareConfiguration(
                    baseURL: server.baseURL + "/client/v4", accountID: "account",
                    credentials: .token("conformance-token"),
                    retry: CloudflareRetryPolicy(maxAttempts: 1), lanes: 2))
            let info = try await store.createNamespace(title: "conformance")
            return CloudflareKVNamespace(client: client, id: info.id, clock: clock)
        }
    }
}

/// Servers started by a case, stopped when it ends.
final class ServerBox: Sendable {
    private let servers = Mutex<[RunningEdgeServer]>([])
    func add(_ server: RunningEdgeServer) { servers.withLock { $0.append(server) } }
    func stopAll() async {
        for server in servers.withLock({ $0 }) { try? await server.stop() }
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do {
            self = .success(try await body())
        } catch {
            self = .failure(error)
        }
    }
}
