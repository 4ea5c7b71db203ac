import ArgumentParser
import EdgeConfig
import EdgeKV
import EdgeKVCloudflare
import EdgeKVSQLite
import Foundation

/// Where local state and configuration come from; every command that touches state takes these.
struct StateOptions: ParsableArguments {
    @Option(name: .customLong("persist-to"), help: ArgumentHelp("Directory of the local state.", valueName: "dir"))
    var persistTo: String = ".edgekv"

    @Option(
        name: .customLong("config"),
        help: ArgumentHelp(
            "A wrangler.toml, wrangler.json or wrangler.jsonc (default: the one in the working directory).",
            valueName: "file"))
    var config: String?

    @Option(name: .customLong("env"), help: ArgumentHelp("The config environment to use.", valueName: "name"))
    var environment: String?

    /// The wrangler configuration, or nil when there is none.
    func loadConfig() throws -> WranglerConfig? {
        let loaded: WranglerConfig?
        if let config {
            let url = URL(fileURLWithPath: config)
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw CLIError("the config file \(config) does not exist")
            }
            loaded = try WranglerConfig.load(from: url)
        } else {
            loaded = try WranglerConfig.discover(in: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
        }
        guard let loaded else {
            if let environment { throw CLIError("--env \(environment) needs a wrangler config file") }
            return nil
        }
        return try loaded.environment(environment)
    }

    /// Opens the local state, creating it when missing.
    func openStore(mmapBytes: Int = 1 << 30) async throws -> SQLiteKVStore {
        try await SQLiteKVStore(directory: persistTo, mmapBytes: mmapBytes)
    }

    /// Opens the local state for a command that does not add anything (reads, deletes), creating nothing: when
    /// there is no state yet, an empty in-memory store stands in for it, so the command behaves as on empty state.
    func openExistingStore(mmapBytes: Int = 1 << 30) async throws -> SQLiteKVStore {
        do {
            return try await SQLiteKVStore(directory: persistTo, mmapBytes: mmapBytes, createIfMissing: false)
        } catch let error as SQLiteKVStoreError where error.code == .missing {
            return try await SQLiteKVStore(inMemoryWithClock: SystemClock())
        }
    }

    /// The local state (created when missing only if `creating`), or Workers KV through the REST client
    /// (configured from CLOUDFLARE_* variables).
    func openManager(_ location: LocationOptions, creating: Bool = true) async throws -> any KVNamespaceManager {
        guard location.remote else { return creating ? try await openStore() : try await openExistingStore() }
        return CloudflareClient(configuration: try CloudflareConfiguration.fromEnvironment())
    }
}

/// Local state (the default) or Workers KV.
struct LocationOptions: ParsableArguments {
    @Flag(help: "Use local state (the default).")
    var local = false

    @Flag(
        help: """
            Use Workers KV through Cloudflare's API (CLOUDFLARE_API_TOKEN or CLOUDFLARE_API_KEY + CLOUDFLARE_EMAIL, \
            CLOUDFLARE_ACCOUNT_ID, CLOUDFLARE_API_BASE_URL).
            """)
    var remote = false

    func validate() throws {
        if local && remote { throw ValidationError("--local and --remote cannot be used together.") }
    }
}

/// Which namespace a key command works on.
struct NamespaceOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The binding name from the config's kv_namespaces.", valueName: "name"))
    var binding: String?

    @Option(name: .customLong("namespace-id"), help: ArgumentHelp("The namespace id.", valueName: "id"))
    var namespaceId: String?

    @Flag(help: "Use the binding's preview_id (an error when it has none).")
    var preview = false

    @OptionGroup var location: LocationOptions

    func validate() throws {
        if binding != nil && namespaceId != nil {
            throw ValidationError("Give either --binding or --namespace-id, not both.")
        }
        if binding == nil && namespaceId == nil {
            throw ValidationError("Specify the namespace with --binding NAME or --namespace-id ID.")
        }
        if namespaceId?.isEmpty == true { throw ValidationError("--namespace-id must not be empty.") }
    }

    /// The namespace id: --namespace-id as given; for a binding locally, `preview_id ?? id ?? binding` from the
    /// config — the namespace `wrangler dev` and `edgekv serve` use, so what the CLI writes is what a local server
    /// reads — and remotely its `id`; preview_id with --preview; without a config (locally) the binding name.
    func resolveID(config: WranglerConfig?) throws -> String {
        let id = try unvalidatedID(config: config)
        do {
            try KVNamespaceInfo.validateID(id)
        } catch let error as KVNamespaceError {
            throw CLIError(error.message)
        }
        return id
    }

    private func unvalidatedID(config: WranglerConfig?) throws -> String {
        if let namespaceId { return namespaceId }
        guard let binding else { throw ValidationError("Specify --binding or --namespace-id.") }
        guard let config else {
            if location.remote {
                throw CLIError(
                    "--remote --binding \(binding) needs a wrangler config with kv_namespaces; or give --namespace-id")
            }
            return binding
        }
        guard let entry = config.namespaceBinding(named: binding) else {
            let known = config.kvNamespaces.map(\.binding)
            let file = config.fileURL?.lastPathComponent ?? "the config"
            throw CLIError(
                "no KV binding named \"\(binding)\" in \(file)"
                    + (known.isEmpty ? " (it has no kv_namespaces)" : " (bindings: \(known.joined(separator: ", ")))"))
        }
        if preview {
            guard let previewId = entry.previewId else {
                throw CLIError("the binding \"\(binding)\" has no preview_id; add one to its kv_namespaces entry")
            }
            return previewId
        }
        if location.remote {
            guard let id = entry.id else {
                throw CLIError("the binding \"\(binding)\" has no id; add the namespace id to its kv_namespaces entry")
            }
            return id
        }
        return entry.devNamespaceId
    }
}

/// Opens the namespace the options name, locally or remotely. Local state is created only when `creating`:
/// a command that adds nothing leaves a folder without state as it found it.
func openNamespace(
    _ state: StateOptions, _ options: NamespaceOptions, creating: Bool
) async throws -> any KVNamespace {
    let id = try options.resolveID(config: try state.loadConfig())
    return try await state.openManager(options.location, creating: creating).namespace(id: id)
}
