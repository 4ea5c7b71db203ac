import ArgumentParser
import EdgeCommandLine
import EdgeKV
import EdgeKVCloudflare
import Foundation

struct BulkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bulk",
        abstract: "Write, delete or read many keys from a JSON file (wrangler's bulk formats).",
        subcommands: [Put.self, Delete.self, Get.self]
    )

    struct Put: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the items of a JSON file.",
            discussion: """
                The file is a JSON array of {"key", "value", "expiration"?, "expiration_ttl"?, "metadata"?, \
                "base64"?}. Every item is checked first: one invalid item means nothing is written. Locally the \
                items are written in one transaction: all or none; with --remote in requests within the API's \
                limits (10,000 items, 100 MB), and a failure part way says how many keys landed for certain. A key \
                repeated in the file is written once: its last item wins.
                """)
        @Argument(help: "The JSON file (- for stdin).") var file: String
        @OptionGroup var namespace: NamespaceOptions
        @OptionGroup var state: StateOptions

        func run() async throws {
            // Every item is checked before the state is opened: an invalid file creates no state.
            let items = try BulkFile.putItems(try readInput(file), file: file, clock: SystemClock())
            let target = try await openNamespaceForWriting(state, namespace)
            let kv = target.kv
            let keys = Set(items.map(\.key)).count
            if let remote = kv as? CloudflareKVNamespace {
                // Requests within the API's limits (10,000 items, 100 MB), with progress on a terminal.
                var progress = Progress(total: items.count, label: "Writing")
                do {
                    try await remote.writeEntries(items) { progress.update($0) }
                } catch let error as CloudflareBulkError {
                    let failed = Set(error.unsuccessfulKeys).count
                    let reason = error.underlying.map { "\($0)" } ?? "the API reported them as unsuccessful"
                    throw CLIError(
                        "wrote \(keys - failed) of \(plural(keys, "key")) for certain; the other \(failed) may not have "
                            + "landed (\(reason)); run the same bulk put again to write them")
                }
            } else {
                try await kv.writeEntries(items)  // one transaction: all or none
            }
            try await target.announceCreation()
            let repeated =
                keys == items.count ? "" : " (\(plural(items.count, "item")); later items win for a repeated key)"
            Output.diagnostic("Wrote \(plural(keys, "key"))\(repeated)")
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete the keys listed in a JSON file.",
            discussion: """
                The file is ["k1", "k2"] or [{"name": "k1"}, …]. Asks for confirmation on a terminal unless \
                --force is given.
                """)
        @Argument(help: "The JSON file (- for stdin).") var file: String
        @Flag(name: [.long, .customShort("f")], help: "Do not ask for confirmation.") var force = false
        @OptionGroup var namespace: NamespaceOptions
        @OptionGroup var state: StateOptions

        func run() async throws {
            let keys = try BulkFile.keys(try readInput(file), file: file, for: .delete)
            let kv = try await openNamespace(state, namespace)
            let distinct = Array(Set(keys))
            guard Output.confirm("Delete \(plural(distinct.count, "key"))?", force: force) else {
                Output.diagnostic("Not deleted.")
                throw ExitCode(1)
            }
            if namespace.location.remote {
                var progress = Progress(total: keys.count, label: "Deleting")
                for start in stride(from: 0, to: keys.count, by: 10_000) {
                    let end = min(keys.count, start + 10_000)
                    try await kv.deleteEntries(Array(keys[start..<end]))
                    progress.update(end)
                }
                // Workers KV answers a delete of a missing key as a success.
                Output.diagnostic(
                    "Deleted \(plural(distinct.count, "key")) (Workers KV does not say how many of them existed)")
            } else {
                var existing = 0
                for start in stride(from: 0, to: distinct.count, by: KVLimits.maxBulkKeys) {
                    let chunk = Array(distinct[start..<min(distinct.count, start + KVLimits.maxBulkKeys)])
                    existing += try await kv.readEntries(chunk).count
                }
                try await kv.deleteEntries(keys)
                let missing = distinct.count - existing
                Output.diagnostic(
                    "Deleted \(plural(existing, "key"))"
                        + (missing == 0 ? "" : " (\(missing) did not exist)"))
            }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the values of the keys listed in a JSON file.",
            discussion: """
                The file is ["k1", "k2"] or [{"name": "k1"}, …]. Prints a JSON object key → value (text), a \
                missing key → null; a value that is not UTF-8 text is an error naming the key (use \
                --with-metadata). With --with-metadata key → {"value", "base64"?, "metadata"?, "expiration"?}, \
                the shape `key get --with-metadata` prints: a value that is not UTF-8 is in base64 with \
                "base64": true, and metadata and expiration are left out when the key has none.
                """)
        @Argument(help: "The JSON file (- for stdin).") var file: String
        @Flag(name: .customLong("with-metadata"), help: "Print each value with its metadata and expiration.")
        var withMetadata = false
        @OptionGroup var namespace: NamespaceOptions
        @OptionGroup var state: StateOptions

        func run() async throws {
            let keys = try BulkFile.keys(try readInput(file), file: file, for: .get)
            let kv = try await openNamespace(state, namespace)
            var result: [String: JSONValue] = [:]
            var binary: [String] = []
            for start in stride(from: 0, to: keys.count, by: KVLimits.maxBulkKeys) {
                let chunk = Array(keys[start..<min(keys.count, start + KVLimits.maxBulkKeys)])
                var found = try await kv.readEntries(chunk)
                if kv is CloudflareKVNamespace {
                    // `/bulk/get` carries text only: a value that is not UTF-8 comes back with U+FFFD in it.
                    for (key, entry) in found where String(decoding: entry.value, as: UTF8.self).contains("\u{FFFD}") {
                        found[key] = try await kv.readEntry(key)
                    }
                }
                for key in chunk {
                    guard let entry = found[key] else {
                        result[key] = .null
                        continue
                    }
                    let text = String(validating: entry.value, as: UTF8.self)
                    if withMetadata {
                        var item: [String: JSONValue] = [:]
                        if let text {
                            item["value"] = .string(text)
                        } else {
                            item["value"] = .string(Data(entry.value).base64EncodedString())
                            item["base64"] = true
                        }
                        if let metadata = entry.metadata { item["metadata"] = metadata }
                        if let expiration = entry.expiration { item["expiration"] = .int(expiration) }
                        result[key] = .object(item)
                    } else if let text {
                        result[key] = .string(text)
                    } else {
                        binary.append(key)
                    }
                }
            }
            guard binary.isEmpty else {
                let shown = binary.prefix(10).map { "\"\($0)\"" }.joined(separator: ", ")
                throw CLIError(
                    "\(binary.count == 1 ? "the value of" : "the values of") \(shown)\(binary.count > 10 ? " …" : "") "
                        + "\(binary.count == 1 ? "is" : "are") not UTF-8 text; use --with-metadata, which prints "
                        + "such values in base64 (\"base64\": true)")
            }
            try Output.printJSON(JSONValue.object(result))
        }
    }
}

/// "1 key", "2 keys".
func plural(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }

/// Reading and checking wrangler's bulk file formats.
enum BulkFile {
    static let putFields: Set<String> = ["key", "value", "expiration", "expiration_ttl", "metadata", "base64"]

    static func parseArray(_ bytes: [UInt8], file: String) throws -> [JSONValue] {
        let document: JSONValue
        do {
            document = try JSONValue(parsing: bytes)
        } catch {
            throw CLIError("\(file) is not valid JSON: \(error)")
        }
        guard let items = document.arrayValue else { throw CLIError("\(file) must contain a JSON array") }
        return items
    }

    /// Every item checked and turned into a write; all problems are reported together.
    static func putItems(_ bytes: [UInt8], file: String, clock: any KVClock) throws -> [(key: String, write: KVWrite)] {
        let items = try parseArray(bytes, file: file)
        var writes: [(key: String, write: KVWrite)] = []
        var problems: [String] = []
        for (index, item) in items.enumerated() {
            do {
                writes.append(try putItem(item, clock: clock))
            } catch {
                let key = item["key"]?.stringValue.map { " (\"\($0)\")" } ?? ""
                problems.append("\(file): [\(index)]\(key): \(error)")
            }
        }
        if !problems.isEmpty {
            let shown = problems.prefix(20).joined(separator: "\n")
            let more = problems.count > 20 ? "\n… and \(problems.count - 20) more" : ""
            throw CLIError(
                "\(problems.count) invalid item\(problems.count == 1 ? "" : "s"), nothing written:\n\(shown)\(more)")
        }
        return writes
    }

    static func putItem(_ item: JSONValue, clock: any KVClock) throws -> (key: String, write: KVWrite) {
        guard let object = item.objectValue else { throw CLIError("each item must be an object") }
        if let unknown = object.keys.filter({ !putFields.contains($0) }).sorted().first {
            throw CLIError("unknown field \"\(unknown)\" (fields: \(putFields.sorted().joined(separator: ", ")))")
        }
        guard let key = object["key"]?.stringValue else { throw CLIError("\"key\" must be a string") }
        guard let text = object["value"]?.stringValue else { throw CLIError("\"value\" must be a string") }
        var isBase64 = false
        switch object["base64"] {
        case nil, .null: break
        case .bool(let b): isBase64 = b
        default: throw CLIError("\"base64\" must be true or false")
        }
        let value: [UInt8]
        if isBase64 {
            guard let data = Data(base64Encoded: text) else { throw CLIError("\"value\" is not valid base64") }
            value = Array(data)
        } else {
            value = Array(text.utf8)
        }
        let options = KVPutOptions(
            expiration: try integer(object["expiration"], "expiration"),
            expirationTtl: try integer(object["expiration_ttl"], "expiration_ttl"),
            metadata: object["metadata"].flatMap { $0 == .null ? nil : $0 })
        return (key, try KVValidation.validatePut(key, value: value, options: options, clock: clock))
    }

    static func integer(_ value: JSONValue?, _ name: String) throws -> Int64? {
        switch value {
        case nil, .null: return nil
        case .int(let i): return i
        case .double(let d) where d.isFinite: return Int64(d.rounded(.down))
        case .string(let s):
            guard let i = Int64(s) else { throw CLIError("\"\(name)\" must be a number") }
            return i
        default: throw CLIError("\"\(name)\" must be a number")
        }
    }

    /// Keys from `["k1"]` or `[{"name": "k1"}]`, each checked.
    static func keys(_ bytes: [UInt8], file: String, for operation: KVOperation) throws -> [String] {
        let items = try parseArray(bytes, file: file)
        var keys: [String] = []
        var problems: [String] = []
        for (index, item) in items.enumerated() {
            let key = item.stringValue ?? item["name"]?.stringValue
            guard let key else {
                problems.append("\(file): [\(index)]: expected a string or an object with a string \"name\"")
                continue
            }
            do {
                try KVValidation.validateKey(key, for: operation)
                keys.append(key)
            } catch {
                problems.append("\(file): [\(index)] (\"\(key)\"): \(error)")
            }
        }
        if !problems.isEmpty {
            throw CLIError(
                "\(problems.count) invalid item\(problems.count == 1 ? "" : "s"):\n"
                    + problems.prefix(20).joined(separator: "\n"))
        }
        return keys
    }
}
