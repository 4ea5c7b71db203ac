import Edge
import EdgeHTTP
import EdgeKV
import EdgeKVAPI
import EdgeKVCloudflare
import EdgeKVSQLite
import EdgeSync
import Foundation
import HTTPTypes
import Logging
import Synchronization

let syncToken = "edgekv-sync-test-token"
let quiet = Logger(label: "edgekv-sync-tests", factory: { _ in SwiftLogNoOpLogHandler() })

/// Decides, per request (numbered from 0), whether to answer with a fault; nil lets KVAPI answer.
typealias FaultRule = @Sendable (Int, Request, [UInt8], SQLiteKVStore) async throws -> Response?

/// The local REST API app on 127.0.0.1 (ephemeral port) over an in-memory store, behind an Edge handler that can
/// inject faults and counts the requests it receives.
struct APIServer: Sendable {
    let store: SQLiteKVStore
    let namespaceID: String
    let server: RunningEdgeServer
    let requests: RequestLog

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
    var log: [String] { requests.lines.withLock { $0 } }

    static func with<T>(faults: FaultRule? = nil, _ body: (APIServer) async throws -> T) async throws -> T {
        let store = try await SQLiteKVStore(inMemoryWithClock: SystemClock())
        let info = try await store.createNamespace(title: "sync")
        let app = KVAPI(namespaces: store, configuration: KVAPI.Configuration(token: syncToken)).handler
        let requests = RequestLog()
        let handler: Handler = { request, context in
            let marker = info.id
            let suffix = request.path.components(separatedBy: marker).last ?? request.path
            let index = requests.lines.withLock { log in
                log.append("\(request.method.rawValue) \(suffix.hasPrefix("/values/") ? "/values" : suffix)")
                return log.count - 1
            }
            guard let faults else { return try await app(request, context) }
            let bytes = try await request.bytes(limit: 200_000_000)
            if let answer = try await faults(index, request, bytes, store) { return answer }
            return try await app(Request(head: request.head, body: .bytes(bytes)), context)
        }
        return try await EdgeServer(
            runtime: EdgeRuntime(logger: quiet, handler: handler),
            configuration: EdgeServer.Configuration(host: "127.0.0.1", port: 0, logger: quiet)
        ).withRunning { server in
            try await body(APIServer(store: store, namespaceID: info.id, server: server, requests: requests))
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

/// The requests a server saw.
final class RequestLog: Sendable {
    let lines = Mutex<[String]>([])
}
