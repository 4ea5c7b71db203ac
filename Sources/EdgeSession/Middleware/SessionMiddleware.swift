import Edge
import EdgeKV
import Foundation

/// Browsers drop a cookie whose name and value exceed this many bytes.
let maxCookieBytes = 4096

/// Session middleware: loads the session before the handler, saves it after.
///
/// What it does, and where it differs from @hattip/session on purpose:
/// - It saves only when the encoded data changed, when `regenerate()` was called, or when rolling expiry is due.
///   A visitor whose session was never modified gets no cookie and no store entry, also with function defaults.
/// - When the handler throws, nothing is saved, destroyed or sent.
/// - An id that does not load is never reused: saving a fresh session asks the store for a new random id.
/// - `regenerate()` deletes the old entry of external stores.
/// - Tampered, truncated, expired or undecodable sessions start fresh; they never fail the request.
/// - `maxAge` is in seconds for both the cookie and the store; cookies over 4096 bytes fail the save.
public struct SessionMiddleware<Data: Codable & Sendable>: Middleware {
    /// The settings.
    public let options: SessionOptions<Data>

    /// Creates the middleware.
    /// - Throws: ``SessionError`` ``SessionError/Code/invalidConfiguration`` when `maxAge` is below 1 second, the
    ///   rolling interval is negative, or the cookie name is not a valid cookie name.
    public init(_ options: SessionOptions<Data>) throws {
        guard options.maxAge >= 1 else {
            throw SessionError(.invalidConfiguration, "session maxAge must be at least 1 second, got \(options.maxAge)")
        }
        if let rolling = options.rolling, rolling.minimumInterval < 0 {
            throw SessionError(
                .invalidConfiguration,
                "the rolling expiry interval must be 0 seconds or more, got \(rolling.minimumInterval)")
        }
        do {
            _ = try SetCookie(name: options.cookieName, value: "", options: options.cookieOptions)
        } catch {
            throw SessionError(.invalidConfiguration, "invalid session cookie settings: \(error)", underlying: error)
        }
        self.options = options
    }

    private struct Loaded {
        var id: String
        var data: Data
        var expiresAt: Int64?
    }

    /// Loads the session, runs the handler, then saves, regenerates or destroys the session.
    /// - Throws: what the handler throws (nothing saved then); ``SessionError`` when the store fails (a KV 429 as
    ///   ``SessionError/Code/rateLimited``) or the cookie would exceed 4096 bytes.
    public func handle(_ request: Request, context: Context, next: Handler) async throws -> Response {
        let store = try await options.store.resolve(context)
        let incomingId = options.getSessionId.map { $0(request, context) } ?? context.cookies[options.cookieName]

        var loaded: Loaded?
        if let incomingId, !incomingId.isEmpty {
            let stored: StoredSession?
            do {
                stored = try await store.load(incomingId, context: context)
            } catch {
                throw SessionError.store("load the session", error)
            }
            // Undecodable data (another app version, a foreign writer) is a fresh session, not a failure.
            if let stored, let data = try? Self.decode(stored.data) {
                loaded = Loaded(id: incomingId, data: data, expiresAt: stored.expiresAt)
            }
        }

        let initialData: Data
        if let loaded {
            initialData = loaded.data
        } else {
            switch options.defaultData {
            case .value(let value): initialData = value
            case .function(let make): initialData = try await make(context)
            }
        }
        let initialEncoding = try Self.encode(initialData)
        let session = Session(
            data: initialData, id: store.storesDataServerSide ? loaded?.id : nil, isFresh: loaded == nil)
        context[local: SessionLocal<Data>.self] = session

        var response = try await next(request, context)

        let (data, regenerateRequested, destroyRequested) = session.snapshot()
        if destroyRequested {
            if let loaded {
                do {
                    try await store.destroy(loaded.id, context: context)
                } catch {
                    throw SessionError.store("destroy the session", error)
                }
            }
            if let incomingId, !incomingId.isEmpty {
                try writeSessionId(nil, request: request, context: context, response: &response)
            }
            session.setId(nil)
            return response
        }

        let encoding = try Self.encode(data)
        let changed = encoding != initialEncoding
        let regenerate = regenerateRequested && (loaded != nil || changed)
        let rollingDue = loaded.map { isRollingDue($0, now: context.clock.nowMilliseconds()) } ?? false
        guard changed || regenerate || rollingDue else { return response }

        let newId: String
        do {
            newId = try await store.save(
                regenerate ? nil : loaded?.id, encoding, maxAge: options.maxAge, context: context)
        } catch {
            throw SessionError.store("save the session", error)
        }
        try writeSessionId(newId, request: request, context: context, response: &response)
        if regenerate, let old = loaded?.id, store.storesDataServerSide, old != newId {
            do {
                try await store.destroy(old, context: context)
            } catch {
                throw SessionError.store("delete the session's old entry after regenerating it", error)
            }
        }
        session.setId(store.storesDataServerSide ? newId : nil)
        return response
    }

    private func isRollingDue(_ loaded: Loaded, now: Int64) -> Bool {
        guard let rolling = options.rolling else { return false }
        // A store that cannot tell when the session was saved (unsigned cookies) re-sends it every time; that costs
        // no store write.
        guard let expiresAt = loaded.expiresAt else { return true }
        let savedAt = expiresAt - Int64(options.maxAge) * 1000
        return now - savedAt >= Int64(rolling.minimumInterval) * 1000
    }

    private func writeSessionId(
        _ id: String?, request: Request, context: Context, response: inout Response
    ) throws {
        var cookie = options.cookieOptions
        cookie.maxAge = options.maxAge
        cookie.expires = nil
        if options.secureWhenRequestIsSecure && request.isSecure { cookie.secure = true }
        let update = SessionIdUpdate(id: id, maxAge: options.maxAge, cookieOptions: cookie, request: request)
        if let custom = options.setSessionId {
            try custom(update, context, &response)
            return
        }
        guard let id else {
            try context.deleteCookie(options.cookieName, options: cookie)
            return
        }
        let wireValue = cookie.encodeValue ? SetCookie.encodeURIComponent(id) : id
        let size = options.cookieName.utf8.count + 1 + wireValue.utf8.count
        if size > maxCookieBytes {
            throw SessionError(
                .cookieTooLarge,
                "the session cookie \"\(options.cookieName)\" would be \(size) bytes, over the \(maxCookieBytes)-byte "
                    + "limit browsers keep; store less data in the session or use a server-side store")
        }
        try context.setCookie(options.cookieName, id, options: cookie)
    }

    static func encode(_ data: Data) throws -> String {
        let encoder = JSONEncoder()
        // Sorted keys make the encoding a stable fingerprint for change detection.
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(data), as: UTF8.self)
    }

    static func decode(_ text: String) throws -> Data {
        try JSONDecoder().decode(Data.self, from: Foundation.Data(text.utf8))
    }
}

/// The session middleware (hattip's `session(options)`).
/// - Throws: ``SessionError`` ``SessionError/Code/invalidConfiguration`` for invalid options.
public func session<Data: Codable & Sendable>(_ options: SessionOptions<Data>) throws -> SessionMiddleware<Data> {
    try SessionMiddleware(options)
}
