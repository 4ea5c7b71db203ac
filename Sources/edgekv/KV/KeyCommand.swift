import ArgumentParser
import EdgeKV
import Foundation

struct KeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key",
        abstract: "Write, read, list and delete single keys.",
        subcommands: [Put.self, Get.self, List.self, Delete.self]
    )

    struct Put: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a value.",
            discussion: """
                Give the value as an argument or with --path (a file, or - for stdin), not both. The write is \
                checked like a Worker's put: a failure prints the KV error text and writes nothing.
                """)
        @Argument(help: "The key.") var key: String
        @Argument(help: "The value.") var value: String?
        @Option(help: ArgumentHelp("Read the value's bytes from this file (- for stdin).", valueName: "file"))
        var path: String?
        @Option(help: ArgumentHelp("Expire the key this many seconds from now (at least 60).", valueName: "seconds"))
        var ttl: Int64?
        @Option(help: ArgumentHelp("Expire the key at this UNIX time in seconds.", valueName: "seconds"))
        var expiration: Int64?
        @Option(help: ArgumentHelp("JSON metadata to store with the key (at most 1024 bytes).", valueName: "json"))
        var metadata: String?
        @OptionGroup var namespace: NamespaceOptions
        @OptionGroup var state: StateOptions

        func validate() throws {
            if (value == nil) == (path == nil) { throw ValidationError("Give exactly one of VALUE or --path.") }
        }

        func run() async throws {
            let bytes: [UInt8]
            if let path {
                bytes = try readInput(path)
            } else {
                bytes = Array((value ?? "").utf8)
            }
            let meta = try metadata.map { try Output.parseJSON($0, what: "--metadata") }
            // Checked before the state is opened, so that a refused write creates no state either.
            let options = KVPutOptions(expiration: expiration, expirationTtl: ttl, metadata: meta)
            _ = try KVValidation.validatePut(key, value: bytes, options: options, clock: SystemClock())
            let kv = try await openNamespace(state, namespace, creating: true)
            try await kv.put(key, bytes: bytes, options: options)
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a value's exact bytes.",
            discussion: """
                Writes the value and nothing else to stdout. A missing key prints "Value not found" to stderr \
                and exits with status 1. With --with-metadata, prints a JSON object {value, metadata, expiration}.
                """)
        @Argument(help: "The key.") var key: String
        @Flag(name: .customLong("with-metadata"), help: "Print the value with its metadata and expiration as JSON.")
        var withMetadata = false
        @OptionGroup var namespace: NamespaceOptions
        @OptionGroup var state: StateOptions

        func run() async throws {
            try KVValidation.validateKey(key, for: .get)
            let kv = try await openNamespace(state, namespace, creating: false)
            guard let entry = try await withMetadata ? kv.readEntry(key) : kv.readValue(key) else {
                Output.diagnostic("Value not found")
                throw ExitCode(1)
            }
            if withMetadata {
                try Output.printJSON(ValueWithMetadata(entry))
            } else {
                Output.write(entry.value)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List keys as JSON.",
            discussion: """
                Without --limit, follows cursors to the end and prints a JSON array of {name, expiration?, \
                metadata?}. With --limit N, prints one page as {"keys", "list_complete", "cursor"}.
                """)
        @Option(help: ArgumentHelp("Only keys starting with this exact text.", valueName: "prefix")) var prefix: String?
        @Option(help: ArgumentHelp("Print one page of at most this many keys (1-1000).", valueName: "n")) var limit:
            Int?
        @Option(help: ArgumentHelp("Start after the page this cursor came from.", valueName: "cursor")) var cursor:
            String?
        @OptionGroup var namespace: NamespaceOptions
        @OptionGroup var state: StateOptions

        func validate() throws {
            if let limit, limit < 1 || limit > KVLimits.maxListLimit {
                throw ValidationError("--limit must be between 1 and \(KVLimits.maxListLimit).")
            }
        }

        func run() async throws {
            let kv = try await openNamespace(state, namespace, creating: false)
            if let limit {
                let page = try await kv.list(prefix: prefix, limit: limit, cursor: cursor)
                try Output.printJSON(Page(keys: page.keys, listComplete: page.listComplete, cursor: page.cursor))
                return
            }
            var keys: [KVListKey] = []
            var next = cursor
            repeat {
                let page = try await kv.list(prefix: prefix, cursor: next)
                keys += page.keys
                next = page.listComplete ? nil : page.cursor
            } while next != nil
            try Output.printJSON(keys)
        }

        struct Page: Encodable {
            let keys: [KVListKey]
            let listComplete: Bool
            let cursor: String?
            enum CodingKeys: String, CodingKey {
                case keys
                case listComplete = "list_complete"
                case cursor
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a key (a missing key is not an error).")
        @Argument(help: "The key.") var key: String
        @OptionGroup var namespace: NamespaceOptions
        @OptionGroup var state: StateOptions

        func run() async throws {
            try KVValidation.validateKey(key, for: .delete)
            let kv = try await openNamespace(state, namespace, creating: false)
            try await kv.delete(key)
        }
    }
}

/// A value printed with its metadata: text when it is UTF-8, else base64 with `"base64": true`.
struct ValueWithMetadata: Encodable {
    let value: String
    let base64: Bool?
    let metadata: JSONValue?
    let expiration: Int64?

    init(_ entry: KVEntry) {
        if let text = String(validating: entry.value, as: UTF8.self) {
            value = text
            base64 = nil
        } else {
            value = Data(entry.value).base64EncodedString()
            base64 = true
        }
        metadata = entry.metadata
        expiration = entry.expiration
    }
}

/// Reads a file's bytes, or stdin for "-".
func readInput(_ path: String) throws -> [UInt8] {
    if path == "-" { return Array(FileHandle.standardInput.readDataToEndOfFile()) }
    // A FileHandle rather than FileManager.contents(atPath:), which fails on pipes and FIFOs such as /dev/stdin or
    // a shell's process substitution `<(…)`.
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
        throw CLIError("cannot read \(path): it is a directory")
    }
    guard let handle = FileHandle(forReadingAtPath: path), let data = try? handle.readToEnd() ?? Data() else {
        throw CLIError("cannot read \(path)")
    }
    try? handle.close()
    return Array(data)
}
