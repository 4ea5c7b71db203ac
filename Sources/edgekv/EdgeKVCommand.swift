import ArgumentParser
import EdgeCommandLine
import EdgeKV
import EdgeKVBench
import Foundation

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
        } catch let error as KVError {
            // A failure Cloudflare's API reported carries its numeric code: show it beside the KV text.
            guard let code = error.code else { EdgeKVCommand.exit(withError: error) }
            EdgeKVCommand.exit(withError: CLIError("\(error) [code: \(code)]"))
        } catch {
            let exitCode = EdgeKVCommand.exitCode(for: error)
            if exitCode == .validationFailure, let hint = dashHint(Array(CommandLine.arguments.dropFirst())) {
                // The parser's message and usage, then a way out for a value that was read as a flag.
                FileHandle.standardError.write(Data((EdgeKVCommand.fullMessage(for: error) + "\n" + hint + "\n").utf8))
                Foundation.exit(exitCode.rawValue)
            }
            EdgeKVCommand.exit(withError: error)
        }
    }

    /// Options that read a negative number as their value themselves (they parse it unconditionally).
    static let numericOptions: Set<String> = ["--ttl", "--expiration", "--limit"]

    /// For a usage error where an argument looks like a negative number (`-5`, which the parser takes for a
    /// flag, so that the value it was meant as goes missing), how to pass it as a value.
    static func dashHint(_ arguments: [String]) -> String? {
        let options = arguments.prefix { $0 != "--" }
        for (index, argument) in options.enumerated() where argument.count > 1 && argument.hasPrefix("-") {
            guard argument.dropFirst().first?.isNumber == true else { continue }
            if index > 0 && numericOptions.contains(options[index - 1]) { continue }
            return
                "Hint: \(argument) was read as a flag; a value that starts with - goes after --, as in `-- \(argument)`."
        }
        return nil
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
