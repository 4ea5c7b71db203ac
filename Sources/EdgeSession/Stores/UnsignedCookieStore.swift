import Edge

/// Session data as plain JSON in the cookie (hattip's `SimpleCookieStore`): the client can read **and change** it,
/// so use it only for data the client may control (UI preferences), never for identity.
///
/// The cookie value is the JSON text (percent-encoded on the wire by the cookie serializer), as hattip writes it;
/// no expiry is embedded, so the cookie's `Max-Age` is the only lifetime. A value the `validate` hook refuses, or
/// that the middleware cannot decode, is a fresh session.
public struct UnsignedCookieStore: SessionStore {
    /// Checks a cookie's JSON text before it is decoded; false makes a fresh session.
    public let validate: @Sendable (String) -> Bool

    /// Creates a store.
    /// - Parameter validate: a hook that sees the JSON text of every incoming cookie; the default accepts any.
    public init(validate: @escaping @Sendable (String) -> Bool = { _ in true }) {
        self.validate = validate
    }

    /// Cookie stores carry the data, not an id.
    public var storesDataServerSide: Bool { false }

    /// The cookie's text when the hook accepts it; no expiry is known.
    public func load(_ id: String, context: Context) async throws -> StoredSession? {
        validate(id) ? StoredSession(data: id, expiresAt: nil) : nil
    }

    /// The JSON text itself.
    public func save(_ id: String?, _ data: String, maxAge: Int, context: Context) async throws -> String { data }

    /// Nothing to delete: the middleware clears the cookie.
    public func destroy(_ id: String, context: Context) async throws {}
}
