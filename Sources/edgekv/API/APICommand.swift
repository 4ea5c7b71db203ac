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
            accepted; the scheme is case-insensitive (`bearer` works). Secrets given as flags show in `ps`: prefer \
            EDGEKV_API_TOKEN and EDGEKV_API_AUTH_KEY, or --token-file and --auth-key-file. Stops on SIGINT or \
            SIGTERM.

            Limits: a request head is at most 64 KiB; a value write at most 25 MiB plus 64 KiB of multipart framing, \
            a bulk request at most 100 MB and 10,000 items. A Content-Length over a route's limit is refused with \
            413 before the body is read, and a request that fails authentication is not read past its head; both \
            close the connection. Idle, header, body and shutdown timeouts below bound what a client can hold open.
            """)

    @Option(help: "The address to listen on.") var host = "127.0.0.1"
    @Option(help: "The port to listen on (0 picks a free one).") var port = 8788
    @Option(
        help: ArgumentHelp(
            "Require this API token; shows in `ps`, so prefer EDGEKV_API_TOKEN or --token-file.", valueName: "token"))
    var token: String?
    @Option(name: .customLong("auth-email"), help: "Accept X-Auth-Email with --auth-key.") var authEmail: String?
    @Option(
        name: .customLong("auth-key"),
        help: ArgumentHelp(
            "Accept this X-Auth-Key (global API key) with --auth-email; shows in `ps`, so prefer "
                + "EDGEKV_API_AUTH_KEY or --auth-key-file.", valueName: "key"))
    var authKey: String?
    @Option(
        name: .customLong("token-file"),
        help: ArgumentHelp("Read the API token from this file (trailing newlines dropped).", valueName: "file"))
    var tokenFile: String?
    @Option(
        name: .customLong("auth-key-file"),
        help: ArgumentHelp("Read the X-Auth-Key from this file (trailing newlines dropped).", valueName: "file"))
    var authKeyFile: String?
    @Option(name: .customLong("account-id"), help: "Serve only this account id (default: any).") var accountID: String?
    @OptionGroup var state: StateOptions
    @OptionGroup(title: "Connection limits") var connection: ServerOptions

    func validate() throws {
        try state.refuseEnvironment("api")
        if token != nil && tokenFile != nil { throw ValidationError("give --token or --token-file, not both.") }
        if authKey != nil && authKeyFile != nil {
            throw ValidationError("give --auth-key or --auth-key-file, not both.")
        }
        // EDGEKV_API_AUTH_KEY counts as --auth-key: set without --auth-email it is a mistake to report, not to ignore.
        let hasKey = authKey != nil || authKeyFile != nil || SecretFile.environment("EDGEKV_API_AUTH_KEY") != nil
        if (authEmail != nil) != hasKey {
            throw ValidationError("--auth-email and --auth-key (or --auth-key-file, EDGEKV_API_AUTH_KEY) go together.")
        }
        if !(0...65535).contains(port) { throw ValidationError("--port must be between 0 and 65535.") }
    }

    func run() async throws {
        let store = try await state.openStore()
        let token = try token ?? tokenFile.map(SecretFile.read) ?? SecretFile.environment("EDGEKV_API_TOKEN")
        let authKey = try authKey ?? authKeyFile.map(SecretFile.read) ?? SecretFile.environment("EDGEKV_API_AUTH_KEY")
        let api = KVAPI(
            namespaces: store,
            configuration: KVAPI.Configuration(
                token: token, authEmail: authEmail, authKey: authKey, accountID: accountID))
        var logger = Logger(label: "edgekv.api")
        // .info: one access-log line per request on stderr, as `edgekv serve` prints.
        logger.logLevel = .info
        let runtime = EdgeRuntime(logger: logger, handler: api.handler)
        let server = EdgeServer(
            runtime: runtime,
            configuration: EdgeServer.Configuration(
                host: host, port: port, logger: logger, timeouts: connection.timeouts))
        let host = host
        let accountID = accountID
        let auth = token != nil || authKey != nil
        try await server.runNamingPort { port in
            let base = "http://\(urlHost(host)):\(port)/client/v4"
            print("EdgeKV KV API listening on \(base)")
            print("  wrangler:   CLOUDFLARE_API_BASE_URL=\(base)")
            print("  Python SDK: CLOUDFLARE_BASE_URL=\(base)")
            print("  account:    \(accountID ?? "any account id")")
            print("  auth:       \(auth ? "required (token not shown)" : "any credential accepted")")
            fflush(nil)
        }
    }
}
