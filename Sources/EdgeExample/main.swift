import Edge
import EdgeHTTP
import EdgeKV
import EdgeKVSQLite
import Foundation
import HTTPTypes

// A handler that reads a KV key from its env, served on 127.0.0.1. Local state: --persist-to DIR, else
// $EDGEKV_PERSIST_TO, else .edgekv (the same file `edgekv kv` writes). Port: --port N, else 8787.
func option(_ name: String) -> String? {
    let args = CommandLine.arguments
    return args.firstIndex(of: name).flatMap { args.index(after: $0) < args.endIndex ? args[$0 + 1] : nil }
}

let store = try await SQLiteKVStore(
    directory: option("--persist-to") ?? ProcessInfo.processInfo.environment["EDGEKV_PERSIST_TO"] ?? ".edgekv")
let env = try Env(kv: ["KV": store.namespace(id: "KV")])

let runtime = EdgeRuntime(env: env) { request, context in
    let key = request.queryValue("key") ?? "greeting"
    guard let value = try await context.env.kv("KV").get(key) else {
        throw EdgeError(.notFound, "no value for \(key)")
    }
    return .text(value)
}

let port = Int(option("--port") ?? "") ?? 8787
try await EdgeServer(runtime: runtime, configuration: .init(host: "127.0.0.1", port: port)).run()
