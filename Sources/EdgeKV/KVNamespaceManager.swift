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
    /// - Throws: ``KVNamespaceError`` 10019 for an empty title or one over 512 characters.
    public static func validateTitle(_ title: String) throws {
        if title.isEmpty { throw KVNamespaceError.invalidTitle("the namespace title must not be empty") }
        if title.count > 512 {
            throw KVNamespaceError.invalidTitle("the namespace title must be at most 512 characters")
        }
    }
}
