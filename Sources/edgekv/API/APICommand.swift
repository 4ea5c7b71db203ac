import ArgumentParser
import Edge
import EdgeHTTP
import EdgeKVAPI
import Foundation
import Logging

struct APICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api",
        abstract: "Serve the Cloudflare v4 Workers KV REST API over the local state.",
        discussion: """
            Serves /client/v4/accounts/{account_id}/storage/kv/namespaces… so that the REST client, wrangler \
            (CLOUDFLARE_API_BASE_URL) and the official SDKs (CLOUDFLARE_BASE_URL) work against local state. With \
            --token every request must carry `Authorization: Bearer <token>`; without it any credential is \
            accepted. The scheme is case-insensitive (`bearer` works). Stops on SIGINT or SIGTERM.

            Limits: a request head is at most 64 KiB; a value write at most 25 MiB plus 64 KiB of multipart framing, \
            a bulk request at most 100 MB and 10,000 items. A Content-Length over a route's limit is refused with \
            413 before the body is read, and a request that fails authentication is not read past its head; both \
            close the connection. Idle, header, body and shutdown timeouts below bound what a client can hold open.
            """)

    @Option(help: "The address to listen on.") var host = "127.0.0.1"
    @Option(help: "The port to listen on (0 picks a free one).") var port = 8788
    @Option(help: ArgumentHelp("Require this API token (also read from EDGEKV_API_TOKEN).", valueName: "token"))
    var token: String?
    @Option(name: .customLong("auth-email"), help: "Accept X-Auth-Email with --auth-key.") var authEmail: String?
    @Option(name: .customLong("auth-key"), help: "Accept this X-Auth-Key (global API key) with --auth-email.")
    var authKey: String?
    @Option(name: .customLong("account-id"), help: "Serve only this account id (default: any).") var accountID: String?
    @OptionGroup var state: StateOptions
    @OptionGroup(title: "Connection limits") var connection: ServerOptions

    func validate() throws {
        if (authEmail == nil) != (authKey == nil) { throw ValidationError("--auth-email and --auth-key go together.") }
        if !(0...65535).contains(port) { throw ValidationError("--port must be between 0 and 65535.") }
    }

    func run() async throws {
        let store = try await state.openStore()
        let token = token ?? ProcessInfo.processInfo.environment["EDGEKV_API_TOKEN"]
        let api = KVAPI(
            namespaces: store,
            configuration: KVAPI.Configuration(
                token: token, authEmail: authEmail, authKey: authKey, accountID: accountID))
        var logger = Logger(label: "edgekv.api")
        logger.logLevel = .notice
        let runtime = EdgeRuntime(logger: logger, handler: api.handler)
        let server = EdgeServer(
            runtime: runtime,
            configuration: EdgeServer.Configuration(
                host: host, port: port, logger: logger, timeouts: connection.timeouts))
        let host = host
        let accountID = accountID
        let auth = token != nil || authKey != nil
        try await server.run { port in
            let base = "http://\(host):\(port)/client/v4"
            print("EdgeKV KV API listening on \(base)")
            print("  wrangler:   CLOUDFLARE_API_BASE_URL=\(base)")
            print("  Python SDK: CLOUDFLARE_BASE_URL=\(base)")
            print("  account:    \(accountID ?? "any account id")")
            print("  auth:       \(auth ? "required (token not shown)" : "any credential accepted")")
            fflush(nil)
        }
    }
}
