import EdgeCommandLine
import Foundation

/// Files the CLI writes on request (`--junit`, `--record`).
enum OutputFile {
    /// Creates the folders above `path` that do not exist yet, as `mkdir -p` would.
    /// - Throws: ``CLIError`` naming the first part of the path that cannot be a folder or cannot be created.
    static func createParent(of path: String, for what: String) throws {
        let parent = (path as NSString).deletingLastPathComponent
        guard !parent.isEmpty else { return }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: parent, isDirectory: &isDirectory), isDirectory.boolValue { return }
        // Walk down from the top so the message names the part that is in the way, not the whole path.
        var prefix = parent.hasPrefix("/") ? "/" : ""
        for part in parent.split(separator: "/") {
            prefix = (prefix as NSString).appendingPathComponent(String(part))
            if FileManager.default.fileExists(atPath: prefix, isDirectory: &isDirectory) {
                if !isDirectory.boolValue {
                    throw CLIError("cannot write \(what) to \(path): \(prefix) is a file, not a folder")
                }
                continue
            }
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw CLIError(
                    "cannot write \(what) to \(path): cannot create the folder \(prefix): \(String(cString: strerror(errno)))"
                )
            }
        }
    }
}
