/// One entry of `kv_namespaces`: a KV namespace exposed to the Worker under a binding name.
///
/// ```toml
/// [[kv_namespaces]]
/// binding = "SESSIONS"
/// id = "<namespace id>"
/// preview_id = "<preview namespace id>"
/// ```
public struct KVNamespaceBinding: Sendable, Equatable {
    /// The name the Worker sees the namespace under (`env.SESSIONS`); required and unique per environment.
    public let binding: String
    /// The production namespace id; optional, but never the empty string when present.
    public let id: String?
    /// The namespace id used by `wrangler dev` and `--preview`; never the empty string when present.
    public let previewId: String?
    /// Whether `wrangler dev` should talk to the remote namespace instead of a local one.
    public let remote: Bool?

    /// Creates a binding; the loader validates files, this initializer does not.
    public init(binding: String, id: String? = nil, previewId: String? = nil, remote: Bool? = nil) {
        self.binding = binding
        self.id = id
        self.previewId = previewId
        self.remote = remote
    }

    /// The namespace id `wrangler dev` uses for local storage: `preview_id ?? id ?? binding`.
    public var devNamespaceId: String {
        previewId ?? id ?? binding
    }
}
