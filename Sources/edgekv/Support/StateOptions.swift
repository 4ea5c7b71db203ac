import ArgumentParser
import EdgeCommandLine
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
        name: [.customShort("c"), .customLong("config")],
        help: ArgumentHelp(
            "A wrangler.toml, wrangler.json or wrangler.jsonc (default: the one in the working directory).",
            valueName: "file"))
    var config: String?

    @Option(
        name: [.customShort("e"), .customLong("env")],
        help: ArgumentHelp("The config environment to use.", valueName: "name"))
    var environment: String?

    func validate() throws {
        // A config named on the command line must exist, whether or not the command goes on to read it: a
        // misspelt path is a mistake to report, not to ignore.
        if let config {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: config, isDirectory: &isDirectory) else {
                throw ValidationError("the config file \(config) does not exist.")
            }
            if isDirectory.boolValue { throw ValidationError("the config file \(config) is a directory.") }
        }
    }

    /// Refuses --env for a command that reads no config, where it would otherwise be silently ignored.
    func refuseEnvironment(_ command: String) throws {
        if let environment {
            throw ValidationError("`\(command)` reads no config, so --env \(environment) has no meaning here.")
        }
    }

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
    @Option(
        help: ArgumentHelp(
            "The binding name from the config's kv_namespaces (without a config, the namespace id).",
            valueName: "name"))
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
}

/// A namespace id as a command resolved it, with where it came from.
struct NamespaceTarget {
    let id: String
    /// Why the id is what it is, when that is not obvious (a binding name used as the id without a config).
    let reason: String?

    /// Whether a read must find the namespace. A binding name used as the id without a config is the README's
    /// first stumble: a typo, or a namespace created under another id, would read as empty. A namespace id given
    /// as such, or a config binding (which `wrangler dev` or `edgekv serve` may not have written to yet), reads
    /// as empty state when missing, as in wrangler's local mode.
    var mustExist: Bool { reason != nil }

    /// Resolves `--binding` or `--namespace-id` (one of them is given): --namespace-id as given; for a binding
    /// locally, `preview_id ?? id ?? binding` from the config — the namespace `wrangler dev` and `edgekv serve` use,
    /// so what the CLI writes is what a local server reads — and remotely its `id`; preview_id with --preview;
    /// without a config (locally) the binding name.
    static func resolve(
        binding: String?, namespaceId: String?, preview: Bool, remote: Bool, config: WranglerConfig?
    ) throws -> NamespaceTarget {
        let target = try unvalidated(
            binding: binding, namespaceId: namespaceId, preview: preview, remote: remote, config: config)
        do {
            try KVNamespaceInfo.validateID(target.id)
        } catch let error as KVNamespaceError {
            throw CLIError(error.message)
        }
        return target
    }

    private static func unvalidated(
        binding: String?, namespaceId: String?, preview: Bool, remote: Bool, config: WranglerConfig?
    ) throws -> NamespaceTarget {
        if let namespaceId { return NamespaceTarget(id: namespaceId, reason: nil) }
        guard let binding else { throw ValidationError("Specify --binding or --namespace-id.") }
        guard let config else {
            if remote {
                throw CLIError(
                    "--remote --binding \(binding) needs a wrangler config with kv_namespaces; or give --namespace-id")
            }
            return NamespaceTarget(id: binding, reason: "no config: the binding name is the namespace id")
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
            return NamespaceTarget(id: previewId, reason: nil)
        }
        if remote {
            guard let id = entry.id else {
                throw CLIError("the binding \"\(binding)\" has no id; add the namespace id to its kv_namespaces entry")
            }
            return NamespaceTarget(id: id, reason: nil)
        }
        return NamespaceTarget(id: entry.devNamespaceId, reason: nil)
    }

    /// The error for a namespace the local state does not have, naming the ones it has.
    func notFound(among namespaces: [KVNamespaceInfo]) -> CLIError {
        let why = reason.map { " (\($0))" } ?? ""
        let known =
            namespaces.isEmpty
            ? "there are no namespaces yet"
            : "the namespaces are "
                + namespaces.map { $0.id == $0.title ? "\"\($0.id)\"" : "\"\($0.title)\" (id \($0.id))" }
                .joined(separator: ", ")
        return CLIError("no KV namespace \"\(id)\"\(why); \(known)")
    }
}

/// Opens the namespace the options name, locally or remotely, for a command that adds nothing: local state is not
/// created. A binding name used as the namespace id without a config must name a namespace the local state has;
/// otherwise the error names the ones it has (as the REST API answers 404 for a missing namespace).
func openNamespace(_ state: StateOptions, _ options: NamespaceOptions) async throws -> any KVNamespace {
    let target = try NamespaceTarget.resolve(
        binding: options.binding, namespaceId: options.namespaceId, preview: options.preview,
        remote: options.location.remote, config: try state.loadConfig())
    let manager = try await state.openManager(options.location, creating: false)
    if !options.location.remote && target.mustExist, try await manager.namespaceInfo(id: target.id) == nil {
        throw target.notFound(among: try await manager.listNamespaces())
    }
    return manager.namespace(id: target.id)
}

/// A namespace opened for writing; the write may create it.
struct WritableNamespace {
    let manager: any KVNamespaceManager
    let id: String
    /// What to say once the write has landed, when the namespace did not exist before it.
    let creationNotice: String?

    var kv: any KVNamespace { manager.namespace(id: id) }

    /// Says on stderr that the write created the namespace, if it did (a write of nothing creates nothing).
    func announceCreation() async throws {
        if let creationNotice, try await manager.namespaceInfo(id: id) != nil { Output.diagnostic(creationNotice) }
    }
}

/// Opens the namespace the options name for writing, creating local state when missing. The first write to a
/// namespace the local state lacks creates it; the returned notice says so.
func openNamespaceForWriting(_ state: StateOptions, _ options: NamespaceOptions) async throws -> WritableNamespace {
    let target = try NamespaceTarget.resolve(
        binding: options.binding, namespaceId: options.namespaceId, preview: options.preview,
        remote: options.location.remote, config: try state.loadConfig())
    let manager = try await state.openManager(options.location, creating: true)
    var notice: String?
    if !options.location.remote, try await manager.namespaceInfo(id: target.id) == nil {
        notice = "created namespace \"\(target.id)\"" + (target.reason.map { " (\($0))" } ?? "")
    }
    return WritableNamespace(manager: manager, id: target.id, creationNotice: notice)
}
