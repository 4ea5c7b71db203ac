import ArgumentParser
import EdgeCommandLine
import EdgeConfig
import EdgeKV
import EdgeKVCloudflare
import EdgeKVMiniflare
import EdgeKVSQLite
import EdgeSync
import Foundation
import Synchronization

struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract:
            "Copy keys with values, metadata and expiration between local state, Workers KV, wrangler dev and JSON files.",
        discussion: """
            FROM and TO are local:NS (EdgeKV's --persist-to state), local:DIR:NS (EdgeKV's state in the folder DIR), \
            remote:NS (Workers KV through the REST API; CLOUDFLARE_* variables), wrangler:DIR:NS (the persistence of \
            wrangler dev, DIR being its .wrangler/state folder) or file:PATH (a JSON file in the format kv bulk put \
            reads: an array of {key, value, base64?, metadata?, expiration?}). NS is a binding from the config \
            (local and wrangler: preview_id ?? id ?? binding, as wrangler dev uses; remote: its id) or a namespace \
            id; NS is after the last colon, so a local namespace never contains one. Keys expiring within 60 s are \
            skipped.

            file:PATH as TO exports: the keys are written one by one to a temporary file beside PATH, renamed over \
            PATH at the end. The file then holds exactly the source's keys, so a PATH that exists is replaced only \
            with --delete. file:PATH as FROM seeds: every item is checked before anything is written; with \
            --delete, TO's keys the file lacks are deleted.

            The last line is `added N, changed N, deleted N, unchanged N, skipped N` (under --dry-run `would add N, \
            would change N, would delete N, …`); --verbose lists the keys before it, in key order. A sync that \
            stopped part way can simply be run again. Keys that still fail after retries are listed on stderr and \
            the exit code is 1.
            """)

    @Argument(help: "Where to copy from: local:NS, local:DIR:NS, remote:NS, wrangler:DIR:NS or file:PATH.")
    var from: String
    @Argument(help: "Where to copy to: local:NS, local:DIR:NS, remote:NS, wrangler:DIR:NS or file:PATH.")
    var to: String
    @Option(help: ArgumentHelp("Only keys starting with this prefix.", valueName: "prefix")) var prefix: String?
    @Flag(name: .customLong("dry-run"), help: "Show what would change (counts and bytes); change nothing.")
    var dryRun = false
    @Flag(help: "Also delete keys from TO that FROM does not have (within --prefix); replace a file TO.")
    var delete = false
    @Flag(name: .shortAndLong, help: "List every key with what happens to it.") var verbose = false
    @OptionGroup var state: StateOptions

    func validate() throws {
        let source = try endpoint(from)
        let destination = try endpoint(to)
        if from == to { throw ValidationError("FROM and TO are the same.") }
        if case .file = source, case .file = destination {
            throw ValidationError("FROM and TO are both files; copy the file instead.")
        }
    }

    func endpoint(_ text: String) throws -> SyncEndpoint {
        do {
            return try SyncEndpoint(parsing: text)
        } catch {
            throw ValidationError("\(error)")
        }
    }

    func run() async throws {
        let config = try state.loadConfig()
        let sourceEndpoint = try endpoint(from)
        let destinationEndpoint = try endpoint(to)
        // The source first, and it must exist: a misspelt source read as an empty namespace would make --delete
        // empty the destination. Nothing is created or written before it is found.
        let stores = LocalStores(readOnly: dryRun)
        let configuration = KVSync.Configuration(prefix: prefix, dryRun: dryRun, delete: delete)
        var meter = SyncMeter(total: nil)
        let report: SyncReport
        switch (sourceEndpoint, destinationEndpoint) {
        case (.file(let path), _):
            guard Self.isFile(path) else {
                throw CLIError("the source \(sourceEndpoint) does not exist (no such file); nothing was changed")
            }
            let destination = try await openDestination(destinationEndpoint, config, stores)
            report = try await KVSync.seed(
                fromFile: path, to: destination, configuration: configuration, observer: observer(meter))
        case (_, .file(let path)):
            let source = try await openSource(sourceEndpoint, config, stores)
            if FileManager.default.fileExists(atPath: path) && !delete {
                throw CLIError(
                    "\(path) already exists; a file destination is rewritten to hold exactly the source's keys, so "
                        + "keys only in the file would be lost: add --delete to replace it; nothing was changed")
            }
            report = try await KVSync.export(
                from: source, toFile: path, configuration: configuration, observer: observer(meter))
        default:
            let source = try await openSource(sourceEndpoint, config, stores)
            let destination = try await openDestination(destinationEndpoint, config, stores)
            let sync = KVSync(from: source, to: destination, configuration: configuration)
            if Output.stderrIsTerminal { meter = SyncMeter(total: try await sync.countSourceKeys()) }
            report = try await sync.run(observer: observer(meter))
        }
        meter.finish()
        for failure in report.failures { Output.diagnostic("failed: \(failure.key): \(failure.reason)") }
        if dryRun { Output.diagnostic("dry run: \(report.bytes) bytes would be copied; nothing was changed") }
        print(report.summary(dryRun: dryRun))
        if !report.failures.isEmpty {
            Output.diagnostic("\(report.failures.count) key(s) failed; run the same sync again to retry them")
            throw ExitCode(1)
        }
    }

    /// Lists each key under --verbose and feeds the progress meter.
    func observer(_ meter: SyncMeter) -> @Sendable (SyncEvent) -> Void {
        let verbose = verbose
        let dryRun = dryRun
        return { event in
            if verbose {
                let verb = dryRun && event.action != .unchanged && event.action != .skipped ? "would be " : ""
                var line = "\(verb)\(event.action.rawValue): \(event.key)"
                if let reason = event.reason { line += " (\(reason))" }
                FileHandle.standardOutput.write(Data((line + "\n").utf8))
            }
            meter.record(event)
        }
    }

    static func isFile(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
    }

    /// Opens the namespace to read from, without creating anything.
    /// - Throws: when the namespace (or the state holding it) does not exist, naming it.
    func openSource(
        _ endpoint: SyncEndpoint, _ config: WranglerConfig?, _ stores: LocalStores
    ) async throws -> any KVNamespace {
        switch endpoint {
        case .local(let directory, let ns):
            let folder = directory ?? state.persistTo
            // A one-pass read of the whole namespace: no mmap, so streamed values do not stay resident.
            let local = try await stores.existing(folder)
            let id = try Self.localID(ns, config, endpoint)
            guard try await local.namespaceInfo(id: id) == nil else { return local.namespace(id: id) }
            let known = try await local.listNamespaces().map(\.id)
            throw CLIError(
                "the source \(endpoint) does not exist: the local state in \(folder) has no namespace "
                    + "\"\(id)\"" + (known.isEmpty ? "" : " (namespaces: \(known.joined(separator: ", ")))")
                    + "; nothing was changed")
        case .remote(let ns):
            // A missing remote namespace fails the first listing, before anything is written.
            let client = CloudflareClient(configuration: try CloudflareConfiguration.fromEnvironment())
            return CloudflareKVNamespace(client: client, id: try Self.remoteID(ns, config))
        case .wrangler(let directory, let ns):
            do {
                return try await MiniflareKVNamespace(
                    stateDirectory: directory, namespaceID: Self.devID(ns, config), readOnly: true)
            } catch let error as MiniflareStateError {
                throw CLIError("the source \(endpoint) cannot be read: \(error); nothing was changed")
            }
        case .file:
            throw CLIError("the source \(endpoint) is a file, not a namespace")
        }
    }

    /// Opens the namespace to write to: created when missing, except under --dry-run, which creates nothing and
    /// compares against an empty namespace when there is none.
    func openDestination(
        _ endpoint: SyncEndpoint, _ config: WranglerConfig?, _ stores: LocalStores
    ) async throws -> any KVNamespace {
        switch endpoint {
        case .local(let directory, let ns):
            let folder = directory ?? state.persistTo
            let id = try Self.localID(ns, config, endpoint)
            // A local source that was found is in an existing state file, which the destination may share.
            let local = dryRun ? try await stores.existing(folder) : try await stores.open(folder)
            return local.namespace(id: id)
        case .remote(let ns):
            let client = CloudflareClient(configuration: try CloudflareConfiguration.fromEnvironment())
            return CloudflareKVNamespace(client: client, id: try Self.remoteID(ns, config))
        case .wrangler(let directory, let ns):
            let id = Self.devID(ns, config)
            guard dryRun else { return try await MiniflareKVNamespace(stateDirectory: directory, namespaceID: id) }
            let path = MiniflareKVNamespace.databasePath(stateDirectory: directory, namespaceID: id)
            guard FileManager.default.fileExists(atPath: path) else {
                return try await SQLiteKVStore(inMemoryWithClock: SystemClock()).namespace(id: id)
            }
            return try await MiniflareKVNamespace(stateDirectory: directory, namespaceID: id, readOnly: true)
        case .file:
            throw CLIError("the destination \(endpoint) is a file, not a namespace")
        }
    }

    /// A binding's namespace for local state and wrangler dev (`preview_id ?? id ?? binding`), else the id given.
    static func devID(_ ns: String, _ config: WranglerConfig?) -> String {
        config?.namespaceBinding(named: ns)?.devNamespaceId ?? ns
    }

    /// The namespace of a local endpoint: a binding's dev id or the id given, which may not contain a colon (a
    /// colon in a sync endpoint separates the state folder from the namespace).
    static func localID(_ ns: String, _ config: WranglerConfig?, _ endpoint: SyncEndpoint) throws -> String {
        let id = devID(ns, config)
        guard !id.contains(":") else {
            throw CLIError(
                "\(endpoint): the local namespace \"\(id)\" contains a colon, which local namespaces in a sync may "
                    + "not; to name another state folder write local:DIR:NS (for example local:.edgekv-b:\(ns))")
        }
        return id
    }

    /// A binding's `id` for Workers KV, else the id given.
    static func remoteID(_ ns: String, _ config: WranglerConfig?) throws -> String {
        guard let entry = config?.namespaceBinding(named: ns) else { return ns }
        guard let id = entry.id else {
            throw CLIError("the binding \"\(ns)\" has no id; add the namespace id to its kv_namespaces entry")
        }
        return id
    }
}

/// The local state folders a sync opens, each once (source and destination may share one file).
final class LocalStores: Sendable {
    private let opened = Mutex<[String: SQLiteKVStore]>([:])
    /// Open existing state read-only (--dry-run): reads tidy expired entries away as they go, which would change
    /// the file.
    private let readOnly: Bool

    init(readOnly: Bool = false) { self.readOnly = readOnly }

    private static func key(_ directory: String) -> String {
        URL(fileURLWithPath: directory).standardizedFileURL.path
    }

    /// The state in `directory`, created when missing.
    func open(_ directory: String) async throws -> SQLiteKVStore {
        if let store = opened.withLock({ $0[Self.key(directory)] }) { return store }
        let store = try await SQLiteKVStore(directory: directory, mmapBytes: 0)
        opened.withLock { $0[Self.key(directory)] = store }
        return store
    }

    /// The state in `directory` without creating anything: an empty in-memory store stands in for missing state.
    func existing(_ directory: String) async throws -> SQLiteKVStore {
        if let store = opened.withLock({ $0[Self.key(directory)] }) { return store }
        let store: SQLiteKVStore
        do {
            store = try await SQLiteKVStore(
                directory: directory, mmapBytes: 0, createIfMissing: false, readOnly: readOnly)
        } catch let error as SQLiteKVStoreError where error.code == .missing {
            return try await SQLiteKVStore(inMemoryWithClock: SystemClock())
        }
        opened.withLock { $0[Self.key(directory)] = store }
        return store
    }
}

/// Progress on stderr while syncing — keys and bytes done, rate, ETA — shown only on a terminal.
final class SyncMeter: Sendable {
    private struct State {
        var keys = 0
        var bytes = 0
        var lastDraw = ContinuousClock.now - .seconds(1)
        var drawn = false
    }

    private let total: Int?
    private let start = ContinuousClock.now
    private let state = Mutex(State())

    /// `total` is the number of source keys, or nil to stay quiet.
    init(total: Int?) { self.total = total }

    func record(_ event: SyncEvent) {
        guard let total else { return }
        state.withLock { s in
            s.keys += 1
            s.bytes += event.bytes
            let now = ContinuousClock.now
            guard now - s.lastDraw > .milliseconds(200) else { return }
            s.lastDraw = now
            s.drawn = true
            let elapsed = max((now - start).inSeconds, 0.001)
            let rate = Double(s.keys) / elapsed
            let eta = rate > 0 ? Int(Double(max(total - s.keys, 0)) / rate) : 0
            let line =
                "\r\(s.keys)/\(total) keys, \(Self.size(s.bytes)), \(Int(rate)) keys/s, "
                + "\(Self.size(Int(Double(s.bytes) / elapsed)))/s, ETA \(eta / 60):\(String(format: "%02d", eta % 60))  "
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    func finish() {
        if state.withLock({ $0.drawn }) { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    static func size(_ bytes: Int) -> String {
        if bytes >= 1_000_000 { return String(format: "%.1f MB", Double(bytes) / 1e6) }
        if bytes >= 1_000 { return String(format: "%.1f kB", Double(bytes) / 1e3) }
        return "\(bytes) B"
    }
}
