// KVWriter: a child process for the reliability tests. It writes keys to a state file and acknowledges each
// write on stdout once `put` has returned, so a parent that kills it knows exactly which writes must survive.
//
//     KVWriter <state-dir> <namespace> <key-prefix> <count> [value-bytes] [value-tag]
//
// For i in 0..<count (forever when count is 0) it puts `<key-prefix>-<i>` and then prints `ok <key>`. The value
// is `<value-tag>/<key>` (or the key alone without a tag) repeated and cut to value-bytes bytes (default 100):
// a reader recomputes it from the key and compares bytes. Errors go to stderr, with exit status 1 (2 for usage).

import EdgeKV
import EdgeKVSQLite
import Foundation

func fail(_ message: String, status: Int32) -> Never {
    FileHandle.standardError.write(Data("KVWriter: \(message)\n".utf8))
    exit(status)
}

let usage = "usage: KVWriter <state-dir> <namespace> <key-prefix> <count> [value-bytes] [value-tag]"
let arguments = Array(CommandLine.arguments.dropFirst())
guard (4...6).contains(arguments.count) else { fail(usage, status: 2) }
let (directory, namespaceID, prefix) = (arguments[0], arguments[1], arguments[2])
guard let count = Int(arguments[3]), count >= 0 else { fail("count must be a whole number\n\(usage)", status: 2) }
let valueBytes = arguments.count > 4 ? Int(arguments[4]) : 100
guard let valueBytes, valueBytes >= 0 else { fail("value-bytes must be a whole number\n\(usage)", status: 2) }
let tag = arguments.count > 5 ? arguments[5] : ""

/// The value written under `key`; the reliability tests compute the same bytes.
func value(for key: String) -> [UInt8] {
    let unit = Array((tag.isEmpty ? key : "\(tag)/\(key)").utf8)
    return (0..<valueBytes).map { unit[$0 % unit.count] }
}

do {
    let store = try await SQLiteKVStore(directory: directory)
    let kv = store.namespace(id: namespaceID)
    var i = 0
    while count == 0 || i < count {
        let key = "\(prefix)-\(i)"
        try await kv.put(key, bytes: value(for: key))
        // One unbuffered write(2) per acknowledgement: the parent sees it as soon as the put has returned.
        FileHandle.standardOutput.write(Data("ok \(key)\n".utf8))
        i += 1
    }
} catch {
    fail("\(error)", status: 1)
}
