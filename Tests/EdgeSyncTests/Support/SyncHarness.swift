import Edge
import EdgeHTTP
import EdgeKV
import EdgeKVAPI
import EdgeKVCloudflare
import EdgeKVSQLite
import EdgeKVTestSupport
import EdgeSync
import Foundation
import HTTPTypes

let syncToken = "edgekv-sync-test-token"

/// Decides, per request (numbered from 0), whether to answer with a fault; nil lets KVAPI answer.
typealias FaultRule = @Sendable (Int, Request, [UInt8], SQLiteKVStore) async throws -> Response?

/// The local REST API app on 127.0.0.1 (ephemeral port) over an in-memory store with one namespace, behind an Edge
/// handler that can inject faults and counts the requests it receives.
struct SyncServer: Sendable {
    let api: APIServer
    let namespaceID: String

    var store: SQLiteKVStore { api.store }
    var server: RunningEdgeServer { api.server }
    var namespace: any KVNamespace { store.namespace(id: namespaceID) }

    func remote(attempts: Int = 1, lanes: Int = 2) -> CloudflareKVNamespace {
        let client = CloudflareClient(
            configuration: CloudflareConfiguration(
                baseURL: server.baseURL + "/client/v4", accountID: "account", credentials: .token(syncToken),
                retry: CloudflareRetryPolicy(
                    maxAttempts: attempts, deadline: .seconds(20), baseDelay: .milliseconds(20),
                    maxDelay: .milliseconds(50)),
                lanes: lanes))
        return CloudflareKVNamespace(client: client, id: namespaceID)
    }

    /// Requests seen, as `METHOD path-suffix` (e.g. `PUT /bulk`, `POST /bulk/get`, `GET /keys`).
    var log: [String] {
        api.requests.all.map { request in
            let suffix = request.path.components(separatedBy: namespaceID).last ?? request.path
            return "\(request.method) \(suffix.hasPrefix("/values/") ? "/values" : suffix)"
        }
    }

    static func with<T>(faults: FaultRule? = nil, _ body: (SyncServer) async throws -> T) async throws -> T {
        let store = try await SQLiteKVStore(inMemoryWithClock: SystemClock())
        let info = try await store.createNamespace(title: "sync")
        var intercept: APIServer.Intercept?
        if let faults {
            intercept = { index, request, context, app in
                let bytes = try await request.bytes(limit: 200_000_000)
                if let answer = try await faults(index, request, bytes, store) { return answer }
                return try await app(Request(head: request.head, body: .bytes(bytes)), context)
            }
        }
        return try await APIServer.with(
            store: store, clock: SystemClock(), configuration: KVAPI.Configuration(token: syncToken),
            intercept: intercept
        ) { api in
            try await body(SyncServer(api: api, namespaceID: info.id))
        }
    }
}

/// A Cloudflare error envelope answer.
func errorAnswer(_ status: Int, code: Int, _ message: String) -> Response {
    let error: JSONValue = ["code": .int(Int64(code)), "message": .string(message)]
    let body: JSONValue = ["success": false, "errors": [error], "messages": [], "result": .null]
    var fields = HTTPFields()
    fields[.contentType] = "application/json"
    return Response(status: HTTPResponse.Status(code: status), headers: fields, body: .text(body.serialized))
}

/// Every live entry of a namespace, through its listing and reads.
func contents(_ ns: any KVNamespace, prefix: String = "") async throws -> [String: KVEntry] {
    var result: [String: KVEntry] = [:]
    var cursor: String?
    repeat {
        let page = try await ns.listEntries(KVListRequest(prefix: prefix, limit: 1000, cursor: cursor))
        for key in page.keys {
            if let entry = try await ns.readEntry(key.name) { result[key.name] = entry }
        }
        cursor = page.listComplete ? nil : page.cursor
    } while cursor != nil
    return result
}

/// Writes entries straight into a namespace.
func seed(_ ns: any KVNamespace, _ entries: [String: KVEntry]) async throws {
    let writes = entries.sorted { $0.key < $1.key }.map {
        ($0.key, KVWrite(value: $0.value.value, metadata: $0.value.metadata, expiration: $0.value.expiration))
    }
    for start in stride(from: 0, to: writes.count, by: 500) {
        try await ns.writeEntries(Array(writes[start..<min(writes.count, start + 500)]))
    }
}

/// Bytes that are not valid UTF-8.
let binaryValue: [UInt8] = [0xFF, 0x00, 0xC3, 0x28, 0x80, 0xFE, 0x01]
