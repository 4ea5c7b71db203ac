import Edge
import Synchronization

/// The session of one request, as handlers see it (`context.session(AppData.self)`): typed data, the id where the
/// store has one, and the requests to regenerate or destroy it, acted on after the handler returns.
///
/// The Swift form of hattip's `ctx.session` with its `SessionData` module augmentation: `Data` is the app's
/// `Codable` type. Safe to use from child tasks of the request.
public final class Session<Data: Codable & Sendable>: Sendable {
    @usableFromInline
    struct State: Sendable {
        @usableFromInline var data: Data
        @usableFromInline var id: String?
        @usableFromInline var regenerate = false
        @usableFromInline var destroy = false

        @inlinable
        init(data: Data, id: String?) {
            self.data = data
            self.id = id
        }
    }

    @usableFromInline
    let state: Mutex<State>

    /// True when no stored session was loaded for this request: the data is the default data.
    public let isFresh: Bool

    @inlinable
    init(data: Data, id: String?, isFresh: Bool) {
        state = Mutex(State(data: data, id: id))
        self.isFresh = isFresh
    }

    /// The session data. Changes are saved after the handler returns, when the encoded data differs from what
    /// was loaded.
    public var data: Data {
        get { state.withLock { $0.data } }
        set { state.withLock { $0.data = newValue } }
    }

    /// Changes the data in place, atomically with respect to other tasks of the request.
    @inlinable
    public func withData<Result: Sendable>(_ body: (inout Data) throws -> Result) rethrows -> Result {
        try state.withLock { state in try body(&state.data) }
    }

    /// The id of the server-side entry (memory, Redis and KV stores); nil for cookie stores and for a fresh
    /// session until it is saved.
    public var id: String? { state.withLock { $0.id } }

    /// Asks for a new id after the handler returns, keeping the data (do this when the user logs in). External
    /// stores delete the old entry. A fresh session that was not modified is not saved for this.
    public func regenerate() { state.withLock { $0.regenerate = true } }

    /// Asks for the session to be deleted after the handler returns: the store's entry goes and the cookie is
    /// cleared; changes made in this request are discarded. Wins over ``regenerate()``.
    public func destroy() { state.withLock { $0.destroy = true } }

    /// True once ``regenerate()`` was called.
    public var isRegenerationRequested: Bool { state.withLock { $0.regenerate } }

    /// True once ``destroy()`` was called.
    public var isDestructionRequested: Bool { state.withLock { $0.destroy } }

    @inlinable
    func snapshot() -> (data: Data, regenerate: Bool, destroy: Bool) {
        state.withLock { ($0.data, $0.regenerate, $0.destroy) }
    }

    @inlinable
    func setId(_ id: String?) { state.withLock { $0.id = id } }
}
