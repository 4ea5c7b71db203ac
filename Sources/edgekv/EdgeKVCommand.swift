import ArgumentParser

@main
struct EdgeKVCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edgekv",
        abstract: "A Cloudflare Workers KV emulator and toolkit.",
        discussion: """
            Local state lives in one SQLite file, .edgekv/edgekv.sqlite in the working directory unless \
            --persist-to names another directory. KV bindings are resolved through wrangler.json, wrangler.jsonc \
            or wrangler.toml in the working directory, or the file given with --config.
            """,
        subcommands: [KVCommand.self, APICommand.self, BenchCommand.self]
    )
}

struct KVCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kv",
        abstract: "Manage KV namespaces, keys and bulk data, like `wrangler kv`.",
        subcommands: [NamespaceCommand.self, KeyCommand.self, BulkCommand.self]
    )
}
