import ArgumentParser
import EdgeCommandLine
import EdgeConfig
import EdgeKV
import EdgeKVSQLite
import Foundation

struct NamespaceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "namespace",
        abstract: "List, create, rename and delete KV namespaces.",
        subcommands: [List.self, Create.self, Rename.self, Delete.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the namespaces as a JSON array.")
        @OptionGroup var state: StateOptions
        @OptionGroup var location: LocationOptions

        func validate() throws { try state.refuseEnvironment("kv namespace list") }

        func run() async throws {
            let store = try await state.openManager(location, creating: false)
            try Output.printJSON(try await store.listNamespaces())
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a namespace; print its id, and only its id, on stdout.",
            discussion: """
                stdout gets the new id alone, so that ID=$(edgekv kv namespace create NAME) captures it. What \
                wrangler prints — the title, and the kv_namespaces entry to add to the config (in the config's own \
                format, TOML when there is none) — goes to stderr. Titles are unique; the id is a fresh \
                32-hex-digit string. With --preview the entry names it preview_id; with --env it goes under that \
                environment.
                """)
        @Argument(help: "The namespace title.") var title: String
        @Flag(help: "Print the entry with preview_id instead of id.") var preview = false
        @OptionGroup var state: StateOptions
        @OptionGroup var location: LocationOptions

        func run() async throws {
            try SQLiteKVStore.validateTitle(title)  // before the state is opened: a refused title creates nothing
            // Read as wrangler reads it: --env needs a config, and the entry follows the config's format.
            let config = try state.loadConfig()
            let store = try await state.openManager(location)
            let info = try await store.createNamespace(title: title)
            Output.diagnostic("Created KV namespace \"\(info.title)\" with id \(info.id)")
            let under = state.environment.map { " under [env.\($0)]" } ?? ""
            Output.diagnostic("Add the following to your configuration file in your kv_namespaces array\(under):")
            Output.diagnostic(
                ConfigEntry.kvNamespace(
                    binding: ConfigEntry.bindingName(for: info.title), idField: preview ? "preview_id" : "id",
                    id: info.id, json: ConfigEntry.isJSON(config)))
            print(info.id)
        }
    }

    struct Rename: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give a namespace a new title.",
            discussion: """
                The namespace is named by its id or its current title, or with --namespace-id; the new title is \
                the second argument or --new-name (wrangler's spelling: rename OLD --new-name NEW).
                """)
        @Argument(help: "The namespace's id or current title.") var namespace: String?
        @Argument(help: "The new title.") var title: String?
        @Option(name: .customLong("new-name"), help: ArgumentHelp("The new title.", valueName: "title"))
        var newName: String?
        @Option(name: .customLong("namespace-id"), help: ArgumentHelp("The namespace id.", valueName: "id"))
        var namespaceId: String?
        @OptionGroup var state: StateOptions
        @OptionGroup var location: LocationOptions

        func validate() throws {
            try state.refuseEnvironment("kv namespace rename")
            // With --namespace-id, a lone positional is the new title.
            let positionals = [namespace, title].compactMap { $0 }
            let named = namespaceId != nil ? 1 : 0
            let titled = newName != nil ? 1 : 0
            if positionals.count + named + titled != 2 {
                throw ValidationError(
                    "Name the namespace (its id or title, or --namespace-id) and the new title (or --new-name), "
                        + "once each.")
            }
        }

        func run() async throws {
            let store = try await state.openManager(location, creating: false)
            var positionals = [namespace, title].compactMap { $0 }[...]
            let id: String
            if let namespaceId {
                id = namespaceId
            } else {
                id = try await resolveNamespace(positionals.removeFirst(), in: store)
            }
            let newTitle = newName ?? positionals.removeFirst()
            try await store.renameNamespace(id: id, title: newTitle)
            print("Renamed KV namespace \(id) to \"\(newTitle)\"")
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a namespace and all its keys.",
            discussion: """
                The namespace is named by its id or title, or with --namespace-id or --binding (resolved through \
                the config as for key commands; --preview takes the binding's preview_id). Asks for confirmation \
                on a terminal unless --force is given.
                """)
        @Argument(help: "The namespace's id or title.") var namespace: String?
        @Option(help: ArgumentHelp("The binding name from the config's kv_namespaces.", valueName: "name"))
        var binding: String?
        @Option(name: .customLong("namespace-id"), help: ArgumentHelp("The namespace id.", valueName: "id"))
        var namespaceId: String?
        @Flag(help: "With --binding, delete the binding's preview_id namespace.") var preview = false
        @Flag(name: [.long, .customShort("f")], help: "Do not ask for confirmation.") var force = false
        @OptionGroup var state: StateOptions
        @OptionGroup var location: LocationOptions

        func validate() throws {
            if [namespace, binding, namespaceId].compactMap({ $0 }).count != 1 {
                throw ValidationError("Name the namespace once: its id or title, --namespace-id or --binding.")
            }
            if preview && binding == nil { throw ValidationError("--preview goes with --binding.") }
            if binding == nil { try state.refuseEnvironment("kv namespace delete without --binding") }
        }

        func run() async throws {
            let store = try await state.openManager(location, creating: false)
            let id: String
            if let namespace {
                id = try await resolveNamespace(namespace, in: store)
            } else {
                let target = try NamespaceTarget.resolve(
                    binding: binding, namespaceId: namespaceId, preview: preview, remote: location.remote,
                    config: binding == nil ? nil : try state.loadConfig())
                if try await store.namespaceInfo(id: target.id) == nil {
                    throw target.notFound(among: try await store.listNamespaces())
                }
                id = target.id
            }
            guard let info = try await store.namespaceInfo(id: id) else { throw KVNamespaceError.notFound(id) }
            guard Output.confirm("Delete KV namespace \"\(info.title)\" (\(id)) and all its keys?", force: force) else {
                Output.diagnostic("Not deleted.")
                throw ExitCode(1)
            }
            try await store.deleteNamespace(id: id)
            print("Deleted KV namespace \"\(info.title)\" (\(id))")
        }
    }
}

/// The id of the namespace `text` names: an id when one namespace has it, else the namespace titled `text`.
func resolveNamespace(_ text: String, in store: any KVNamespaceManager) async throws -> String {
    if !text.isEmpty, try await store.namespaceInfo(id: text) != nil { return text }
    let namespaces = try await store.listNamespaces()
    if let match = namespaces.first(where: { $0.title == text }) { return match.id }
    throw NamespaceTarget(id: text, reason: nil).notFound(among: namespaces)
}

/// The `kv_namespaces` entry `kv namespace create` suggests, as wrangler prints it.
enum ConfigEntry {
    /// Whether the config is JSON (wrangler.json or wrangler.jsonc); TOML otherwise, and when there is none.
    static func isJSON(_ config: WranglerConfig?) -> Bool {
        ["json", "jsonc"].contains(config?.fileURL?.pathExtension.lowercased() ?? "")
    }

    /// A binding name made from a title: characters a JavaScript identifier cannot hold become `_`, and a name
    /// that would start with a digit gets a leading `_`.
    static func bindingName(for title: String) -> String {
        let scalars = title.unicodeScalars.map { scalar -> Character in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || scalar == "_") ? Character(scalar) : "_"
        }
        let name = String(scalars)
        if name.isEmpty { return "KV" }
        return name.first!.isNumber ? "_" + name : name
    }

    static func kvNamespace(binding: String, idField: String, id: String, json: Bool) -> String {
        if json {
            return """
                "kv_namespaces": [
                  {
                    "binding": "\(binding)",
                    "\(idField)": "\(id)"
                  }
                ]
                """
        }
        return "[[kv_namespaces]]\nbinding = \"\(binding)\"\n\(idField) = \"\(id)\""
    }
}
