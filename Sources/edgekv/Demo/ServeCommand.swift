import ArgumentParser
import DemoApp
import Edge
import EdgeCommandLine
import EdgeConfig
import EdgeHTTP
import EdgeKV
import EdgeKVCloudflare
import EdgeKVConsistency
import EdgeKVSQLite
import EdgeWrangler
import Foundation
import HTTPTypes
import Logging

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the session demo app with its platform env from the wrangler config.",
        discussion: """
            KV bindings come from the config's kv_namespaces (locally `preview_id ?? id ?? binding`, as wrangler \
            dev does; with --remote the namespace `id` on Workers KV), vars from its vars and --var. The binding \
            SESSIONS exists even without a config. Values given with --var show in `ps`: put secrets such as \
            SESSION_KEYS in a --var-file. --record FILE writes every request and response as a fixture that \
            `edgekv replay` runs, created owner-only (0600) with its missing folders (an existing FILE is refused \
            unless --force is given): header, query, form and JSON values whose name \
            contains a --redact word are redacted, bodies over 64 KiB cut. With --consistency eventual, KV acts like \
            production: writes reach other locations after 60 s, reads are cached, one write per second per key; \
            the location comes from the X-EdgeKV-Location or CF-IPCountry header (else `default`); a location is 1 \
            to 64 letters, digits, '_' or '-', and a header naming anything else is answered 400. Stops on SIGINT or \
            SIGTERM.

            Limits: a request head is at most 64 KiB; POST /login reads at most 64 KiB of body (a larger \
            Content-Length is refused with 413 before the body is read, and the connection closes). Idle, \
            header, body and shutdown timeouts below bound what a client can hold open.
            """)

    @Option(help: "The address to listen on.") var host = "127.0.0.1"
    @Option(help: "The port to listen on (0 picks a free one).") var port = 8787
    @Option(
        name: .customLong("var"),
        help: ArgumentHelp("A var for the env, K=V (repeatable; shows in `ps`).", valueName: "K=V"))
    var vars: [String] = []
    @Flag(help: "Bind KV namespaces to Workers KV through the REST client.") var remote = false
    @Option(
        help: ArgumentHelp(
            "Record requests and responses as a fixture (mode 0600; bodies over "
                + "\(Recorder.recordedBodyLimit / 1024) KiB are recorded cut, and replay skips them).",
            valueName: "file"))
    var record: String?
    @Flag(help: "With --record, overwrite the file if it exists.") var force = false
    @Option(
        help: ArgumentHelp(
            "With --record, also redact names containing this word (repeatable). Always redacted, case-insensitively "
                + "and anywhere in the name (so `monkey` too): \(Redactor.defaultWords.joined(separator: ", ")).",
            valueName: "word"))
    var redact: [String] = []
    @Option(
        name: .customLong("var-file"),
        help: ArgumentHelp(
            "Read vars from this dotenv file of NAME=VALUE lines, for secrets such as SESSION_KEYS (repeatable; "
                + "--var wins).", valueName: "file"))
    var varFiles: [String] = []
    @Option(help: ArgumentHelp("`strong` (default) or `eventual`.", valueName: "mode")) var consistency = "strong"
    @OptionGroup var state: StateOptions
    @OptionGroup(title: "Connection limits") var connection: ServerOptions

    func validate() throws {
        for v in vars where !v.contains("=") || v.hasPrefix("=") {
            throw ValidationError("--var takes NAME=VALUE, got \(String(reflecting: v)).")
        }
        if consistency != "strong" && consistency != "eventual" {
            throw ValidationError("--consistency is strong or eventual.")
        }
        if !(0...65535).contains(port) { throw ValidationError("--port must be between 0 and 65535.") }
    }

    var overrides: [String: String] {
        var out: [String: String] = [:]
        for v in vars {
            let parts = v.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            out[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        return out
    }

    func run() async throws {
        let config = try state.loadConfig() ?? WranglerConfig()
        var overrides: [String: String] = [:]
        for file in varFiles { overrides.merge(try SecretFile.variables(file)) { _, later in later } }
        overrides.merge(self.overrides) { _, flag in flag }
        var env: Env
        if remote {
            let client = CloudflareClient(configuration: try CloudflareConfiguration.fromEnvironment())
            var kv: [String: any KVNamespace] = [:]
            for entry in config.kvNamespaces {
                guard let id = entry.id else {
                    throw CLIError("the binding \"\(entry.binding)\" has no id; --remote needs the namespace id")
                }
                kv[entry.binding] = client.namespace(id: id)
            }
            guard kv["SESSIONS"] != nil else {
                throw CLIError("--remote needs a SESSIONS binding with an id in the config's kv_namespaces")
            }
            env = try Env(kv: kv, vars: config.vars).settingVars(overrides)
        } else {
            let store = try await state.openStore()
            env = try Env(config: config, namespaces: store, overrides: overrides)
            if env.bindings["SESSIONS"] == nil { env.bindings["SESSIONS"] = .kv(store.namespace(id: "SESSIONS")) }
        }
        var logger = Logger(label: "edgekv.serve")
        logger.logLevel = .info
        let demo = DemoApp()
        do {
            try demo.validate(env)
        } catch {
            // The demo answers 500 naming the variable (what a developer wants to see in the browser); say it once
            // here too.
            Output.diagnostic("warning: every request will answer 500: \(error)")
        }
        var app = demo.runtime(
            env: env, logger: logger, middleware: consistency == "eventual" ? [RequestLocation.check] : [])
        if consistency == "eventual" {
            let simulators = env.bindings.compactMapValues { binding -> ConsistencySimulator? in
                if case .kv(let base) = binding { return ConsistencySimulator(base: base) }
                return nil
            }
            let base = env
            app.envForRequest = { request in
                // RequestLocation.check answers a request with an invalid location before it reads KV.
                guard let location = RequestLocation.of(request) else { return base }
                var env = base
                for (name, simulator) in simulators { env.bindings[name] = .kv(simulator.namespace(at: location)) }
                return env
            }
        }
        if let record {
            try OutputFile.createParent(of: record, for: "the recording")
            if !force && FileManager.default.fileExists(atPath: record) {
                throw CLIError("\(record) already exists; pass --force to overwrite it, or name another file")
            }
        }
        let recorder = try record.map {
            try Recorder(
                path: $0, name: "recorded \(ISO8601DateFormatter().string(from: Date()))", redact: redact,
                logger: logger)
        }
        let runtime = recorder?.runtime(recording: app) ?? app
        let server = EdgeServer(
            runtime: runtime,
            configuration: EdgeServer.Configuration(
                host: host, port: port, logger: logger, timeouts: connection.timeouts))
        let host = host
        let summary =
            "store \(env.string("SESSION_STORE") ?? "kv"), KV \(remote ? "remote" : "local (\(state.persistTo))"), consistency \(consistency)"
        let recording = record
        do {
            try await server.runNamingPort { port in
                print("EdgeKV demo listening on http://\(urlHost(host)):\(port) (\(summary))")
                if let recording { print("Recording requests to \(recording)") }
                fflush(nil)
            }
        } catch {
            // A server that never served leaves no empty recording behind to block the next try with --port.
            if let recorder, let recording, recorder.steps == 0 {
                try? FileManager.default.removeItem(atPath: recording)
            }
            throw error
        }
        // The recording runtime wraps the app's: the app's `waitUntil` work is its own to await.
        await app.shutdown()
    }
}
