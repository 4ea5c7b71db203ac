import Edge
import EdgeKV
import Foundation
import Synchronization

/// Browsers drop a cookie whose name and value exceed this many bytes.
@usableFromInline let maxCookieBytes = 4096

/// Session middleware: loads the session before the handler, saves it after.
///
/// What it does, and where it differs from @hattip/session on purpose:
/// - It saves only when the encoded data changed, when `regenerate()` was called, or when rolling expiry is due.
///   A visitor whose session was never modified gets no cookie and no store entry, also with function defaults.
///   The data is compared as JSON with sorted keys, so rebuilding a dictionary in another order is no change, and a
///   session stored by another implementation in another key order is not rewritten by a request that reads it.
/// - When the handler throws, nothing is saved, destroyed or sent.
/// - An id that does not load is never reused: saving a fresh session asks the store for a new random id.
/// - `regenerate()` deletes the old entry of external stores.
/// - Tampered, truncated, expired or undecodable sessions start fresh; they never fail the request.
/// - `maxAge` is in seconds for both the cookie and the store; cookies over 4096 bytes fail the save.
public struct SessionMiddleware<Data: Codable & Sendable>: Middleware {
    /// The settings.
    public let options: SessionOptions<Data>
    /// One encoder and decoder for every request: making them per request cost as much as the coding itself.
    @usableFromInline let coder = SessionCoder()
    /// The encoded default data when it is a value.
    @usableFromInline let defaultEncoding: Foundation.Data?
    /// Texts this middleware saved lately (shared by copies of the middleware).
    @usableFromInline let recentlySaved = RecentEncodings()
    /// The session cookie's name and attributes (with `Max-Age`), serialised once; and the same with `Secure`.
    @usableFromInline let cookieTemplate: SetCookieTemplate
    @usableFromInline let secureCookieTemplate: SetCookieTemplate
    /// ``process(_:context:next:)`` specialised for the app's `Data` where the middleware is made (the init is
    /// inlinable), so a request skips generic metadata lookups (`bench session`: 14-23 % slower without it).
    @usableFromInline let processor: @Sendable (Self, Request, Context, Handler) async throws -> Response

    /// Creates the middleware.
    /// - Throws: ``SessionError`` ``SessionError/Code/invalidConfiguration`` when `maxAge` is below 1 second, the
    ///   rolling interval is negative, the cookie name is not a valid cookie name, or the default data cannot be
    ///   encoded as JSON.
    @inlinable
    public init(_ options: SessionOptions<Data>) throws {
        try self.init(options) { middleware, request, context, next in
            try await middleware.process(request, context: context, next: next)
        }
    }

    @usableFromInline
    init(
        _ options: SessionOptions<Data>,
        processor: @escaping @Sendable (Self, Request, Context, Handler) async throws -> Response
    ) throws {
        self.processor = processor
        let limit = SessionOptions<Data>.maxAgeLimit
        guard (1...limit).contains(options.maxAge) else {
            throw SessionError(
                .invalidConfiguration,
                "session maxAge must be from 1 to \(limit) seconds (400 days), got \(options.maxAge)")
        }
        if let rolling = options.rolling, !(0...limit).contains(rolling.minimumInterval) {
            throw SessionError(
                .invalidConfiguration,
                "the rolling expiry interval must be from 0 to \(limit) seconds (400 days), got \(rolling.minimumInterval)"
            )
        }
        do {
            var cookie = options.cookieOptions
            cookie.maxAge = options.maxAge
            cookie.expires = nil
            cookieTemplate = try SetCookieTemplate(name: options.cookieName, options: cookie)
            cookie.secure = true
            secureCookieTemplate = try SetCookieTemplate(name: options.cookieName, options: cookie)
        } catch {
            throw SessionError(.invalidConfiguration, "invalid session cookie settings: \(error)", underlying: error)
        }
        if case .value(let value) = options.defaultData {
            do {
                defaultEncoding = try coder.encode(value)
            } catch {
                throw SessionError(
                    .invalidConfiguration, "the default session data cannot be encoded as JSON: \(error)",
                    underlying: error)
            }
        } else {
            defaultEncoding = nil
        }
        self.options = options
    }

    @usableFromInline
    struct Loaded {
        @usableFromInline var id: String
        @usableFromInline var data: Data
        /// The data as the store returned it.
        @usableFromInline var encoding: String
        @usableFromInline var expiresAt: Int64?

        @inlinable
        init(id: String, data: Data, encoding: String, expiresAt: Int64?) {
            self.id = id
            self.data = data
            self.encoding = encoding
            self.expiresAt = expiresAt
        }
    }

    /// Loads the session, runs the handler, then saves, regenerates or destroys the session.
    /// - Throws: what the handler throws (nothing saved then); ``SessionError`` when the store fails (a KV 429 as
    ///   ``SessionError/Code/rateLimited``) or the cookie would exceed 4096 bytes.
    public func handle(_ request: Request, context: Context, next: Handler) async throws -> Response {
        try await processor(self, request, context, next)
    }

    @inlinable
    func process(_ request: Request, context: Context, next: Handler) async throws -> Response {
        let store = try await options.store.resolve(context)
        let incomingId = options.getSessionId.map { $0(request, context) } ?? context.cookie(options.cookieName)

        var loaded: Loaded?
        if let incomingId, !incomingId.isEmpty {
            let stored: StoredSession?
            do {
                stored = try await store.load(incomingId, context: context)
            } catch {
                throw SessionError.store("load the session", error)
            }
            // Undecodable data (another app version, a foreign writer) is a fresh session, not a failure.
            if let stored, let data = try? coder.decode(Data.self, from: stored.data) {
                loaded = Loaded(id: incomingId, data: data, encoding: stored.data, expiresAt: stored.expiresAt)
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

        let encoding = try coder.encode(data)
        let changed: Bool
        if let loaded, SessionCoder.bytes(encoding, equal: loaded.encoding) {
            // The stored text is this encoding: nothing changed, and the data need not be encoded a second time.
            changed = false
        } else if let loaded, recentlySaved.contains(loaded.encoding) {
            // The stored text is this middleware's own encoding of the loaded data, and the new one differs.
            changed = true
        } else if loaded == nil, case .value = options.defaultData, let defaultEncoding {
            changed = encoding != defaultEncoding
        } else {
            // Compared with the loaded data encoded the same way, not with the stored text: a session another
            // implementation stored in another key order or spacing is not rewritten by a request that only reads it.
            changed = try encoding != coder.encode(initialData)
        }
        let regenerate = regenerateRequested && (loaded != nil || changed)
        guard changed || regenerate || loaded.map({ isRollingDue($0, clock: context.clock) }) == true else {
            return response
        }

        let text = String(decoding: encoding, as: UTF8.self)
        let newId: String
        do {
            newId = try await store.save(regenerate ? nil : loaded?.id, text, maxAge: options.maxAge, context: context)
        } catch {
            throw SessionError.store("save the session", error)
        }
        recentlySaved.insert(text)
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

    @usableFromInline
    func isRollingDue(_ loaded: Loaded, clock: any KVClock) -> Bool {
        guard let rolling = options.rolling else { return false }
        let now = clock.nowMilliseconds()
        // A store that cannot tell when the session was saved (unsigned cookies) re-sends it every time; that costs
        // no store write.
        guard let expiresAt = loaded.expiresAt else { return true }
        // The expiry comes from the store: saturate rather than trap on a value nobody saved.
        let savedAt = expiresAt.saturatingSubtract(Int64.milliseconds(seconds: options.maxAge))
        return now.saturatingSubtract(savedAt) >= Int64.milliseconds(seconds: rolling.minimumInterval)
    }

    @usableFromInline
    func writeSessionId(
        _ id: String?, request: Request, context: Context, response: inout Response
    ) throws {
        let template =
            options.secureWhenRequestIsSecure && request.isSecure ? secureCookieTemplate : cookieTemplate
        if let custom = options.setSessionId {
            let update = SessionIdUpdate(
                id: id, maxAge: options.maxAge, cookieOptions: template.options, request: request)
            try custom(update, context, &response)
            return
        }
        guard let id else {
            try context.deleteCookie(options.cookieName, options: template.options)
            return
        }
        let setCookie = try template.cookie(value: id)
        let size = options.cookieName.utf8.count + 1 + setCookie.encodedValue.utf8.count
        if size > maxCookieBytes {
            throw SessionError(
                .cookieTooLarge,
                "the session cookie \"\(options.cookieName)\" would be \(size) bytes, over the \(maxCookieBytes)-byte "
                    + "limit browsers keep; store less data in the session or use a server-side store")
        }
        context.setCookie(setCookie)
    }
}

/// Texts a middleware saved lately, each remembered by a 64-bit hash in a direct-mapped table.
///
/// A stored text found here is in the middleware's own encoding, so a new encoding that differs means the data
/// changed without encoding the loaded data again. A miss only costs that encoding; a collision at worst saves an
/// unchanged session once.
@usableFromInline
final class RecentEncodings: Sendable {
    private static let slotCount = 4096
    private let slots = Mutex([UInt64](repeating: 0, count: RecentEncodings.slotCount))

    @usableFromInline
    init() {}

    @usableFromInline
    func insert(_ text: String) {
        let hash = Self.hash(text)
        slots.withLock { $0[Int(hash % UInt64(Self.slotCount))] = hash }
    }

    @usableFromInline
    func contains(_ text: String) -> Bool {
        let hash = Self.hash(text)
        return slots.withLock { $0[Int(hash % UInt64(Self.slotCount))] == hash }
    }

    /// Never 0, the empty slot.
    private static func hash(_ text: String) -> UInt64 {
        var text = text
        var hasher = Hasher()
        text.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        return UInt64(bitPattern: Int64(hasher.finalize())) | 1
    }
}

/// The JSON form of session data. Sorted keys make it a stable fingerprint for change detection.
@usableFromInline
struct SessionCoder: Sendable {
    @usableFromInline let encoder: JSONEncoder
    @usableFromInline let decoder = JSONDecoder()

    @usableFromInline
    init() {
        encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    }

    /// The encoding as bytes: compared without making a string of it.
    @inlinable
    func encode(_ value: some Encodable) throws -> Foundation.Data {
        try encoder.encode(value)
    }

    /// Whether `bytes` are the UTF-8 of `text`.
    @usableFromInline
    static func bytes(_ bytes: Foundation.Data, equal text: String) -> Bool {
        var text = text
        return text.withUTF8 { utf8 in
            bytes.count == utf8.count
                && bytes.withUnsafeBytes { raw in raw.elementsEqual(UnsafeRawBufferPointer(utf8)) }
        }
    }

    @inlinable
    func decode<Value: Decodable>(_ type: Value.Type, from text: String) throws -> Value {
        var text = text
        // The decoder reads the string's own bytes: no copy into a new buffer, no dynamic casts to find them.
        return try text.withUTF8 { bytes in
            guard let base = bytes.baseAddress, !bytes.isEmpty else {
                return try decoder.decode(type, from: Foundation.Data())
            }
            return try decoder.decode(
                type,
                from: Foundation.Data(
                    bytesNoCopy: UnsafeMutableRawPointer(mutating: base), count: bytes.count,
                    deallocator: .none))
        }
    }
}

/// The session middleware (hattip's `session(options)`).
/// - Throws: ``SessionError`` ``SessionError/Code/invalidConfiguration`` for invalid options.
@inlinable
public func session<Data: Codable & Sendable>(_ options: SessionOptions<Data>) throws -> SessionMiddleware<Data> {
    try SessionMiddleware(options)
}
