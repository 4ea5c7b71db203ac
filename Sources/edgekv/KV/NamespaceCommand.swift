import ArgumentParser
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

        func run() async throws {
            let store = try await state.openManager(location, creating: false)
            try Output.printJSON(try await store.listNamespaces())
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a namespace and print its id.",
            discussion: "Titles are unique; the new id is a fresh 32-hex-digit string.")
        @Argument(help: "The namespace title.") var title: String
        @OptionGroup var state: StateOptions
        @OptionGroup var location: LocationOptions

        func run() async throws {
            try SQLiteKVStore.validateTitle(title)  // before the state is opened: a refused title creates nothing
            let store = try await state.openManager(location)
            let info = try await store.createNamespace(title: title)
            print("Created KV namespace \"\(info.title)\" with id \(info.id)")
            print("Add it to your wrangler.toml:\n[[kv_namespaces]]\nbinding = \"<BINDING>\"\nid = \"\(info.id)\"")
        }
    }

    struct Rename: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Give a namespace a new title.")
        @Argument(help: "The namespace id.") var id: String
        @Argument(help: "The new title.") var title: String
        @OptionGroup var state: StateOptions
        @OptionGroup var location: LocationOptions

        func run() async throws {
            let store = try await state.openManager(location, creating: false)
            try await store.renameNamespace(id: id, title: title)
            print("Renamed KV namespace \(id) to \"\(title)\"")
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a namespace and all its keys.",
            discussion: "Asks for confirmation on a terminal unless --force is given.")
        @Argument(help: "The namespace id.") var id: String
        @Flag(name: [.long, .customShort("f")], help: "Do not ask for confirmation.") var force = false
        @OptionGroup var state: StateOptions
        @OptionGroup var location: LocationOptions

        func run() async throws {
            let store = try await state.openManager(location, creating: false)
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
