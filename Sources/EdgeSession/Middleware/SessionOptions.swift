import Edge

/// Where the middleware finds its store: one fixed store, or one chosen per request (e.g. from the platform env).
public struct SessionStoreSource: Sendable {
    @usableFromInline let resolve: @Sendable (Context) async throws -> any SessionStore

    /// Always the same store.
    public static func fixed(_ store: any SessionStore) -> SessionStoreSource {
        SessionStoreSource { _ in store }
    }

    /// A store chosen for each request; an error thrown here fails the request.
    public static func perRequest(
        _ resolve: @escaping @Sendable (Context) async throws -> any SessionStore
    ) -> SessionStoreSource {
        SessionStoreSource(resolve: resolve)
    }
}

/// The data a session starts with when none was loaded.
public enum SessionDefaultData<Data: Codable & Sendable>: Sendable {
    /// A value (copied per request: `Data` is a value type or at least `Sendable`).
    case value(Data)
    /// A function of the request's context.
    case function(@Sendable (Context) async throws -> Data)
}

/// What the middleware asks a custom ``SessionOptions/setSessionId`` to send to the client.
public struct SessionIdUpdate: Sendable {
    /// The new cookie value, or nil to clear it (the session was destroyed).
    public var id: String?
    /// The session's lifetime in seconds.
    public var maxAge: Int
    /// The cookie attributes the default writer would use (``SessionOptions/cookieOptions`` with `Max-Age`, and
    /// `Secure` when the request is HTTPS).
    public var cookieOptions: CookieOptions
    /// The request being answered.
    public var request: Request
}

/// Rolling expiry: an unchanged session is saved again — extending the stored expiry and the cookie's `Max-Age` —
/// once at least ``minimumInterval`` seconds have passed since it was last saved, so an active user stays signed
/// in without a store write on every request (KV allows one write per second per key).
public struct RollingExpiry: Sendable, Hashable {
    /// The least number of seconds between two saves of an unchanged session (at least 0).
    public var minimumInterval: Int

    /// Creates the setting.
    public init(minimumInterval: Int) { self.minimumInterval = minimumInterval }
}

/// The settings of ``session(_:)``.
///
/// Defaults are secure: the cookie is `HttpOnly`, `SameSite=Lax`, `Path=/`, `Secure` on HTTPS requests, and lives
/// ``maxAge`` seconds (1 hour) — the same lifetime the store gives the data.
public struct SessionOptions<Data: Codable & Sendable>: Sendable {
    /// The store.
    public var store: SessionStoreSource
    /// The data a new session starts with.
    public var defaultData: SessionDefaultData<Data>
    /// The cookie's name (default `session`); ignored by custom ``getSessionId``/``setSessionId``.
    public var cookieName: String
    /// The cookie's attributes. `maxAge` and `expires` are ignored: ``maxAge`` sets the lifetime.
    public var cookieOptions: CookieOptions
    /// Adds `Secure` when the request came over HTTPS (``Request/isSecure``), even if `cookieOptions.secure` is
    /// false. Default true.
    public var secureWhenRequestIsSecure: Bool
    /// The session's lifetime in seconds (default 3600): the cookie's `Max-Age` and the stored expiry. From 1 to
    /// ``maxAgeLimit``.
    public var maxAge: Int
    /// The longest ``maxAge`` and rolling interval accepted: 400 days, the cap browsers put on a cookie's `Max-Age`
    /// (RFC 6265bis), so a longer session could never be presented anyway.
    public static var maxAgeLimit: Int { 400 * 86_400 }
    /// Rolling expiry; nil (the default) keeps an unchanged session's expiry where its last save put it.
    public var rolling: RollingExpiry?
    /// Reads the session id (cookie value) from the request; default: the cookie named ``cookieName``.
    public var getSessionId: (@Sendable (Request, Context) -> String?)?
    /// Sends a new session id to the client (or clears it); default: `Set-Cookie` of ``cookieName`` with
    /// ``SessionIdUpdate/cookieOptions``, refusing values over 4096 bytes.
    public var setSessionId: (@Sendable (SessionIdUpdate, Context, inout Response) throws -> Void)?

    /// Creates options.
    public init(store: SessionStoreSource, defaultData: SessionDefaultData<Data>) {
        self.store = store
        self.defaultData = defaultData
        cookieName = "session"
        cookieOptions = CookieOptions(path: "/", httpOnly: true, sameSite: .lax)
        secureWhenRequestIsSecure = true
        maxAge = 3600
        rolling = nil
        getSessionId = nil
        setSessionId = nil
    }

    /// Creates options with one store and a default value.
    public init(store: any SessionStore, defaultData: Data) {
        self.init(store: .fixed(store), defaultData: .value(defaultData))
    }

    /// Creates options with one store and default data made per request.
    public init(store: any SessionStore, defaultData: @escaping @Sendable (Context) async throws -> Data) {
        self.init(store: .fixed(store), defaultData: .function(defaultData))
    }
}
