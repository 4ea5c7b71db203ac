import ArgumentParser
import EdgeCommandLine
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
                Give the value as an argument or with --path (a file, or - for stdin), not both; a value that starts \
                with - goes after --, as in `put KEY --binding B -- -5`. The write is checked like a Worker's put: a \
                failure prints the KV error text and writes nothing. --ttl and --expiration cannot be given \
                together (KV would keep only the TTL). Without a config, --binding NAME writes to the namespace \
                with the id NAME; the write that creates it says so on stderr.
                """)
        @Argument(help: "The key.") var key: String
        @Argument(help: "The value.") var value: String?
        @Option(help: ArgumentHelp("Read the value's bytes from this file (- for stdin).", valueName: "file"))
        var path: String?
        // Numbers are parsed unconditionally so that `--ttl -5` reaches the range check rather than being read as
        // an unknown flag `-5` with --ttl left without a value.
        @Option(
            parsing: .unconditional,
            help: ArgumentHelp(
                "Expire the key this many seconds from now (at least 60; not with --expiration).",
                valueName: "seconds"))
        var ttl: Int64?
        @Option(
            parsing: .unconditional,
            help: ArgumentHelp("Expire the key at this UNIX time in seconds (not with --ttl).", valueName: "seconds"))
        var expiration: Int64?
        @Option(help: ArgumentHelp("JSON metadata to store with the key (at most 1024 bytes).", valueName: "json"))
        var metadata: String?
        @OptionGroup var namespace: NamespaceOptions
        @OptionGroup var state: StateOptions

        func validate() throws {
            if (value == nil) == (path == nil) { throw ValidationError("Give exactly one of VALUE or --path.") }
            if ttl != nil && expiration != nil {
                throw ValidationError("Give --ttl or --expiration, not both: KV would keep only the TTL.")
            }
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
            let target = try await openNamespaceForWriting(state, namespace)
            try await target.kv.put(key, bytes: bytes, options: options)
            try await target.announceCreation()
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a value's exact bytes.",
            discussion: """
                Writes the value and nothing else to stdout. A missing key prints "Value not found" to stderr \
                and exits with status 1, as does a --binding without a config that names no namespace. With --text, prints the value as \
                UTF-8 text (invalid bytes as U+FFFD) followed by a newline, as wrangler's --text does. With \
                --with-metadata, prints a JSON object {value, metadata, expiration}.
                """)
        @Argument(help: "The key.") var key: String
        @Flag(help: "Print the value as UTF-8 text and a newline.") var text = false
        @Flag(name: .customLong("with-metadata"), help: "Print the value with its metadata and expiration as JSON.")
        var withMetadata = false
        @OptionGroup var namespace: NamespaceOptions
        @OptionGroup var state: StateOptions

        func validate() throws {
            if text && withMetadata { throw ValidationError("Give --text or --with-metadata, not both.") }
        }

        func run() async throws {
            // Checked before the state is opened too, so that a bad key is reported whatever the namespace.
            try KVValidation.validateKey(key, for: .get)
            let kv = try await openNamespace(state, namespace)
            guard let entry = try await kv.getEntry(key, metadata: withMetadata) else {
                Output.diagnostic("Value not found")
                throw ExitCode(1)
            }
            if withMetadata {
                try Output.printJSON(ValueWithMetadata(entry))
            } else if text {
                Output.write(Array((String(decoding: entry.value, as: UTF8.self) + "\n").utf8))
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
                metadata?}. With --limit N, prints one page as {"keys", "list_complete", "cursor"}; the limit is \
                checked as the binding checks it (0 means the default page of 1000; over 1000 is refused with KV's \
                own error). Without a config, a --binding that names no namespace is an error.
                """)
        @Option(help: ArgumentHelp("Only keys starting with this exact text.", valueName: "prefix")) var prefix: String?
        @Option(
            parsing: .unconditional,
            help: ArgumentHelp("Print one page of at most this many keys (at most 1000).", valueName: "n"))
        var limit: Int?
        @Option(help: ArgumentHelp("Start after the page this cursor came from.", valueName: "cursor")) var cursor:
            String?
        @OptionGroup var namespace: NamespaceOptions
        @OptionGroup var state: StateOptions

        func run() async throws {
            let kv = try await openNamespace(state, namespace)
            if let limit {
                let page = try await kv.list(prefix: prefix, limit: limit, cursor: cursor)
                try Output.printJSON(Page(keys: page.keys, listComplete: page.listComplete, cursor: page.cursor))
                return
            }
            var keys: [KVListKey] = []
            for try await key in kv.listAll(prefix: prefix, cursor: cursor) { keys.append(key) }
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
        static let configuration = CommandConfiguration(
            abstract: "Delete a key (a missing key is not an error).")
        @Argument(help: "The key.") var key: String
        @OptionGroup var namespace: NamespaceOptions
        @OptionGroup var state: StateOptions

        func run() async throws {
            try KVValidation.validateKey(key, for: .delete)
            let kv = try await openNamespace(state, namespace)
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
