/// A namespace as the account lists it.
public struct KVNamespaceInfo: Sendable, Hashable, Codable {
    /// The namespace id (32 hex characters for namespaces created here or by Cloudflare).
    public var id: String
    /// The human-readable title, unique within the account.
    public var title: String

    /// Creates a description.
    public init(id: String, title: String) {
        self.id = id
        self.title = title
    }

    /// Checks a namespace id: not empty, and no NUL character (which C-string APIs would cut the id short at,
    /// turning it into another namespace's id).
    /// - Throws: ``KVNamespaceError`` 10011.
    public static func validateID(_ id: String) throws {
        if id.isEmpty { throw KVNamespaceError.invalidID("the namespace id must not be empty") }
        if id.utf8.contains(0) {
            throw KVNamespaceError.invalidID(
                "the namespace id \(String(reflecting: id)) must not contain a NUL character (U+0000)")
        }
    }
}

/// Creates, lists, renames and deletes namespaces, and hands out a ``KVNamespace`` for an id.
public protocol KVNamespaceManager: Sendable {
    /// Creates a namespace.
    /// - Throws: ``KVNamespaceError`` 10014 when the title is taken, 10019 when it is empty or over 512 characters.
    func createNamespace(title: String) async throws -> KVNamespaceInfo

    /// Every namespace, ordered by title.
    func listNamespaces() async throws -> [KVNamespaceInfo]

    /// The namespace with this id, or nil.
    func namespaceInfo(id: String) async throws -> KVNamespaceInfo?

    /// Renames a namespace.
    /// - Throws: ``KVNamespaceError`` 10013 when no namespace has the id, 10014 when the title is taken.
    func renameNamespace(id: String, title: String) async throws

    /// Deletes a namespace and everything in it.
    /// - Throws: ``KVNamespaceError`` 10013 when no namespace has the id.
    func deleteNamespace(id: String) async throws

    /// The namespace with this id, for reads and writes.
    func namespace(id: String) -> any KVNamespace
}

extension KVNamespaceManager {
    /// Checks a title as the KV API does.
    /// - Throws: ``KVNamespaceError`` 10019 for an empty title, one over 512 characters, or one with a NUL.
    public static func validateTitle(_ title: String) throws {
        if title.isEmpty { throw KVNamespaceError.invalidTitle("the namespace title must not be empty") }
        if title.utf8.contains(0) {
            throw KVNamespaceError.invalidTitle("the namespace title must not contain a NUL character (U+0000)")
        }
        if title.count > 512 {
            throw KVNamespaceError.invalidTitle("the namespace title must be at most 512 characters")
        }
    }
}
