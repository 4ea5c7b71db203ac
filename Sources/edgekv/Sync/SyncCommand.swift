import ArgumentParser
import EdgeConfig
import EdgeKV
import EdgeKVCloudflare
import EdgeKVSQLite
import EdgeSync
import Foundation
import Synchronization

struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Copy keys with values, metadata and expiration between local state, Workers KV and wrangler dev.",
        discussion: """
            FROM and TO are local:NS (EdgeKV's --persist-to state), remote:NS (Workers KV through the REST API; \
            CLOUDFLARE_* variables) or wrangler:DIR:NS (the persistence of wrangler dev, DIR being its \
            .wrangler/state folder). NS is a binding from the config (local and wrangler: preview_id ?? id ?? \
            binding, as wrangler dev uses; remote: its id) or a namespace id. Keys expiring within 60 s are skipped. \
            The last line is `added N, changed N, deleted N, unchanged N, skipped N`. A sync that stopped part way \
            can simply be run again. Keys that still fail after retries are listed on stderr and the exit code is 1.
            """)

    @Argument(help: "Where to copy from: local:NS, remote:NS or wrangler:DIR:NS.") var from: String
    @Argument(help: "Where to copy to: local:NS, remote:NS or wrangler:DIR:NS.") var to: String
    @Option(help: ArgumentHelp("Only keys starting with this prefix.", valueName: "prefix")) var prefix: String?
    @Flag(name: .customLong("dry-run"), help: "Show what would change (counts and bytes); change nothing.")
    var dryRun = false
    @Flag(help: "Also delete keys from TO that FROM does not have (within --prefix).") var delete = false
    @Flag(name: .shortAndLong, help: "List every key with what happens to it.") var verbose = false
    @OptionGroup var state: StateOptions

    func validate() throws {
        _ = try endpoint(from)
        _ = try endpoint(to)
        if from == to { throw ValidationError("FROM and TO are the same.") }
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
        var store: SQLiteKVStore?
        let source = try await openSource(sourceEndpoint, config, &store)
        let destination = try await openDestination(destinationEndpoint, config, &store)
        let sync = KVSync(
            from: source, to: destination,
            configuration: KVSync.Configuration(prefix: prefix, dryRun: dryRun, delete: delete))
        let meter = SyncMeter(total: Output.stderrIsTerminal ? try await sync.countSourceKeys() : nil)
        let verbose = verbose
        let dryRun = dryRun
        let report = try await sync.run { event in
            if verbose {
                let verb = dryRun && event.action != .unchanged && event.action != .skipped ? "would be " : ""
                var line = "\(verb)\(event.action.rawValue): \(event.key)"
                if let reason = event.reason { line += " (\(reason))" }
                FileHandle.standardOutput.write(Data((line + "\n").utf8))
            }
            meter.record(event)
        }
        meter.finish()
        for failure in report.failures { Output.diagnostic("failed: \(failure.key): \(failure.reason)") }
        if dryRun { Output.diagnostic("dry run: \(report.bytes) bytes would be copied; nothing was changed") }
        print(report.summary)
        if !report.failures.isEmpty {
            Output.diagnostic("\(report.failures.count) key(s) failed; run the same sync again to retry them")
            throw ExitCode(1)
        }
    }

    /// Opens the namespace to read from, without creating anything.
    /// - Throws: when the namespace (or the state holding it) does not exist, naming it.
    func openSource(
        _ endpoint: SyncEndpoint, _ config: WranglerConfig?, _ store: inout SQLiteKVStore?
    ) async throws -> any KVNamespace {
        switch endpoint {
        case .local(let ns):
            // A one-pass read of the whole namespace: no mmap, so streamed values do not stay resident.
            let local = try await state.openExistingStore(mmapBytes: 0)
            store = local
            let id = Self.devID(ns, config)
            guard try await local.namespaceInfo(id: id) == nil else { return local.namespace(id: id) }
            let known = try await local.listNamespaces().map(\.id)
            throw CLIError(
                "the source \(endpoint) does not exist: the local state in \(state.persistTo) has no namespace "
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
        }
    }

    /// Opens the namespace to write to: created when missing, except under --dry-run, which creates nothing and
    /// compares against an empty namespace when there is none.
    func openDestination(
        _ endpoint: SyncEndpoint, _ config: WranglerConfig?, _ store: inout SQLiteKVStore?
    ) async throws -> any KVNamespace {
        switch endpoint {
        case .local(let ns):
            // A local source that was found is in the same (existing) state file.
            let local: SQLiteKVStore
            if let store {
                local = store
            } else if dryRun {
                local = try await state.openExistingStore(mmapBytes: 0)
            } else {
                local = try await state.openStore(mmapBytes: 0)
            }
            store = local
            return local.namespace(id: Self.devID(ns, config))
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
        }
    }

    /// A binding's namespace for local state and wrangler dev (`preview_id ?? id ?? binding`), else the id given.
    static func devID(_ ns: String, _ config: WranglerConfig?) -> String {
        config?.namespaceBinding(named: ns)?.devNamespaceId ?? ns
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
