import EdgeKV
import Foundation
import Synchronization

/// Writes a fixture file step by step, in the layout of ``Fixture/encoded``.
///
/// Each step is appended and only the closing `]}` after it rewritten, so the file is a complete fixture after every
/// step and whenever the writer stops, writing a step costs the same however many came before, and nothing of past
/// steps is kept in memory. The file is created owner-only (0600); an existing one is truncated and its mode
/// tightened the same way, since a fixture recorded from traffic holds what clients sent. Steps appended from
/// several tasks are written whole, one after another.
public final class FixtureWriter: Sendable {
    /// The file written.
    public let path: String
    private let file: Mutex<File>

    /// The open file and where its closing tail starts.
    private struct File {
        let descriptor: Int32
        /// The byte offset just past the last step (or past `"steps": [` before the first).
        var end: Int
        var steps = 0
    }

    /// What follows the last step: the file is valid JSON with it in place.
    private static let tail = Array("\n  ]\n}\n".utf8)
    /// Steps are written at the depth of the members of the `steps` array.
    private static let stepIndent = "    "

    /// Starts a fixture named `name` with no steps at `path`.
    /// - Throws: ``FixtureWriteError`` when the file cannot be created or written.
    public init(path: String, name: String) throws {
        // `steps` sorts after every other member the fixture has, so the file without steps ends with `[]\n}`.
        let empty = Fixture(name: name, steps: []).jsonValue.prettyPrinted()
        precondition(empty.hasSuffix("[]\n}"), "the steps are the last member of a fixture")
        let head = Array(empty.utf8.dropLast(3))
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw FixtureWriteError.posix() }
        var info = stat()
        do {
            // A file that already existed keeps at most owner read and write.
            guard fstat(fd, &info) == 0, fchmod(fd, info.st_mode & 0o600) == 0 else { throw FixtureWriteError.posix() }
            try Self.write(fd, head + Array("]\n}\n".utf8), at: 0)
        } catch {
            close(fd)
            throw error
        }
        self.path = path
        file = Mutex(File(descriptor: fd, end: head.count))
    }

    deinit {
        file.withLock { _ = close($0.descriptor) }
    }

    /// Steps written so far.
    public var steps: Int { file.withLock { $0.steps } }

    /// Writes `step` after the last one and the closing tail after it, in one write.
    /// - Throws: ``FixtureWriteError`` when the file cannot be written; the file then still ends after the last
    ///   step written whole.
    public func append(_ step: Fixture.Step) throws {
        let text = step.jsonValue.prettyPrinted(indent: Self.stepIndent)
        try file.withLock { file in
            let chunk = Array(((file.steps == 0 ? "" : ",") + "\n" + Self.stepIndent + text).utf8)
            try Self.write(file.descriptor, chunk + Self.tail, at: file.end)
            file.end += chunk.count
            file.steps += 1
        }
    }

    /// Writes all of `bytes` at `offset`.
    private static func write(_ fd: Int32, _ bytes: [UInt8], at offset: Int) throws {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress! + done, $0.count - done, off_t(offset + done)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FixtureWriteError.posix()
            }
            done += n
        }
    }
}

/// A fixture file that cannot be written: the system's reason.
public struct FixtureWriteError: Error, Sendable, CustomStringConvertible {
    /// The reason, as `strerror` words it.
    public let description: String

    static func posix() -> FixtureWriteError { FixtureWriteError(description: String(cString: strerror(errno))) }
}
