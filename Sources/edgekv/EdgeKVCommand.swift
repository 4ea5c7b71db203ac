import ArgumentParser
import EdgeKV

@main
enum Main {
    static func main() async {
        do {
            var command = try EdgeKVCommand.parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as KVError where error.code != nil {
            // A failure Cloudflare's API reported: show its numeric code beside the KV text.
            EdgeKVCommand.exit(withError: CLIError("\(error) [code: \(error.code!)]"))
        } catch {
            EdgeKVCommand.exit(withError: error)
        }
    }
}

struct EdgeKVCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edgekv",
        abstract: "A Cloudflare Workers KV emulator and toolkit.",
        discussion: """
            Local state lives in one SQLite file, .edgekv/edgekv.sqlite in the working directory unless \
            --persist-to names another directory. KV bindings are resolved through wrangler.json, wrangler.jsonc \
            or wrangler.toml in the working directory, or the file given with --config.
            """,
        version: EdgeKVCommand.version,
        subcommands: [
            KVCommand.self, ServeCommand.self, ReplayCommand.self, APICommand.self, BenchCommand.self, SyncCommand.self,
        ]
    )

    /// What `edgekv --version` prints.
    static let version = "edgekv 0.9.0"
}

struct KVCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kv",
        abstract: "Manage KV namespaces, keys and bulk data, like `wrangler kv`.",
        subcommands: [NamespaceCommand.self, KeyCommand.self, BulkCommand.self]
    )
}
