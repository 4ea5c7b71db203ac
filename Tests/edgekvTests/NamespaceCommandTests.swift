import Foundation
import Testing

@Suite("edgekv kv namespace")
struct NamespaceCommandTests {
    /// The 32-hex-digit ids in a text.
    static func ids(in text: String) throws -> Set<String> {
        let hex = Set("0123456789abcdef")
        return Set(text.split(whereSeparator: { !hex.contains($0) }).filter { $0.count == 32 }.map(String.init))
    }

    @Test("create prints a 32-hex id; list, rename and delete (no prompt without a terminal)")
    func lifecycle() async throws {
        let box = try Sandbox()
        #expect(try await box.ok("namespace", "list").json() == [])

        let created = try await box.kv("namespace", "create", "my-app-SESSIONS")
        #expect(created.status == 0, "\(created)")
        let ids = try Self.ids(in: created.stdoutText)
        try #require(ids.count == 1, "create must print exactly one 32-hex-digit id: \(created)")
        let id = ids.first!

        #expect(try await box.ok("namespace", "list").json() == [["id": .string(id), "title": "my-app-SESSIONS"]])

        let other = try Self.ids(in: try await box.ok("namespace", "create", "other").stdoutText)
        #expect(other.count == 1 && other != ids, "each namespace gets a fresh id")

        let renamed = try await box.kv("namespace", "rename", id, "renamed")
        #expect(renamed.status == 0, "\(renamed)")
        let list = try #require(try await box.ok("namespace", "list").json().arrayValue)
        #expect(list.contains(["id": .string(id), "title": "renamed"]), "\(list)")
        #expect(!list.contains { $0["title"] == "my-app-SESSIONS" }, "\(list)")
        #expect(list.count == 2)

        try await box.ok("key", "put", "k", "v", "--namespace-id", id)
        // stdin holds "n": a prompt would read it and refuse.
        let deleted = try await box.kv("namespace", "delete", id, stdin: Array("n\n".utf8))
        #expect(deleted.status == 0, "\(deleted)")
        #expect(!deleted.stderr.contains("[y/N]"), "\(deleted)")
        #expect(try await box.namespaceIDs() == Array(other))
        let gone = try await box.kv("key", "get", "k", "--namespace-id", id)
        #expect(
            gone.status == 1 && gone.stderr.contains("Value not found"), "deleting a namespace drops its keys: \(gone)")

        let forced = try await box.kv("namespace", "delete", other.first!, "--force")
        #expect(forced.status == 0, "\(forced)")
        #expect(try await box.ok("namespace", "list").json() == [])
    }

    @Test("a duplicate title fails with code 10014")
    func duplicateTitle() async throws {
        let box = try Sandbox()
        try await box.ok("namespace", "create", "dup")
        let again = try await box.kv("namespace", "create", "dup")
        #expect(again.status != 0, "\(again)")
        #expect(again.stderr.contains("10014"), "\(again)")
        #expect(try Self.ids(in: again.stdoutText).isEmpty, "\(again)")
        #expect(try await box.namespaceIDs().count == 1)
    }

    @Test("delete and rename of an unknown id fail and name it")
    func unknownID() async throws {
        let box = try Sandbox()
        try await box.ok("namespace", "create", "keep")
        let unknown = String(repeating: "0", count: 32)
        for arguments in [["namespace", "delete", unknown, "--force"], ["namespace", "rename", unknown, "new-title"]] {
            let result = try await box.kv(arguments)
            #expect(result.status != 0, "\(result)")
            #expect(result.stderr.contains(unknown), "\(result)")
        }
        let list = try await box.ok("namespace", "list").json()
        #expect(list.arrayValue?.map { $0["title"] } == ["keep"], "\(list)")
    }

    @Test("a --namespace-id that does not exist is created on first write (not on a read) and then listed")
    func createdOnFirstWrite() async throws {
        let box = try Sandbox()
        let read = try await box.kv("key", "get", "k", "--namespace-id", "fresh-ns")
        #expect(read.status == 1, "\(read)")
        _ = try await box.ok("key", "list", "--namespace-id", "fresh-ns")
        #expect(try await box.namespaceIDs() == [], "a read must not create the namespace")

        try await box.ok("key", "put", "k", "v", "--namespace-id", "fresh-ns")
        #expect(try await box.namespaceIDs() == ["fresh-ns"])
        #expect(try await box.ok("key", "get", "k", "--namespace-id", "fresh-ns").stdout == Array("v".utf8))

        // bulk put creates it too.
        let file = try box.file("put.json", ([["key": "a", "value": "1"]] as JSON).serialized)
        try await box.ok("bulk", "put", file, "--namespace-id", "bulk-ns")
        #expect(Set(try await box.namespaceIDs()) == ["fresh-ns", "bulk-ns"])
    }
}
