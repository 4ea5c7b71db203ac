import EdgeKV

/// Why a session could not be loaded, saved or set up.
///
/// Apps map these to responses: ``Code/rateLimited`` (KV refused a write with `429 Too Many Requests`, e.g. more
/// than one write per second to a key) is worth a `429`; the rest are server errors. ``description`` is safe to
/// log: it never contains keys, secrets, passwords or session data.
public struct SessionError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The kind of failure; new codes may be added.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case cookieTooLarge, rateLimited, storeFailed, invalidKey, invalidConfiguration, notInstalled
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The cookie would be larger than browsers keep (4096 bytes for name and value): the save failed.
        public static let cookieTooLarge = Code(.cookieTooLarge)
        /// The backend refused a write for its rate limit (KV `429 Too Many Requests`).
        public static let rateLimited = Code(.rateLimited)
        /// The backend failed (KV error, Redis unreachable, …).
        public static let storeFailed = Code(.storeFailed)
        /// A key or secret for a cookie store is malformed or too short.
        public static let invalidKey = Code(.invalidKey)
        /// An option or URL is invalid.
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// A handler asked for a session that no `session()` middleware (for that data type) provides.
        public static let notInstalled = Code(.notInstalled)

        /// The code's name.
        public var description: String { base.rawValue }
    }

    /// The kind of failure.
    public let code: Code
    /// What went wrong and what to do, free of secrets.
    public let message: String
    /// The error that caused this one, if any.
    public let underlying: (any Error)?

    /// Creates an error.
    public init(_ code: Code, _ message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    /// The message.
    public var description: String { message }

    /// The message with the code and the underlying error.
    public var debugDescription: String {
        var text = "SessionError(\(code)): \(message)"
        if let underlying { text += " [underlying: \(String(reflecting: underlying))]" }
        return text
    }

    /// True when the store refused a write for its rate limit.
    public var isRateLimited: Bool { code == .rateLimited }

    /// Wraps a store's error; a KV 429 becomes ``Code/rateLimited``, a ``SessionError`` passes through.
    @usableFromInline
    static func store(_ operation: String, _ error: any Error) -> SessionError {
        if let error = error as? SessionError { return error }
        if let kv = error as? KVError, kv.status == 429 {
            return SessionError(.rateLimited, "the session store could not \(operation): \(kv)", underlying: kv)
        }
        return SessionError(.storeFailed, "the session store could not \(operation): \(error)", underlying: error)
    }
}
