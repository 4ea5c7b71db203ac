import Synchronization

/// Work started with `waitUntil`, tracked so that it can be awaited.
///
/// The runtime gives each request a tracker that holds its work back until the response is produced, and keeps one
/// of its own (the parent of every request's) that sees all work, for shutdown. Only a count of unfinished work is
/// kept, so a long-running server does not accumulate finished work.
public final class BackgroundWork: Sendable {
    private struct State {
        /// Work waiting for ``release()``.
        var held: [@Sendable () async -> Void] = []
        var isHolding: Bool
        /// Work added and not yet finished, held work included.
        var pending = 0
        /// Callers of ``wait()`` waiting for `pending` to reach zero.
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state: Mutex<State>
    private let parent: BackgroundWork?

    /// Creates a tracker that starts work as soon as it is added; work added to it is also tracked by `parent` (the
    /// runtime's).
    public convenience init(parent: BackgroundWork? = nil) {
        self.init(parent: parent, holding: false)
    }

    /// Creates a tracker; with `holding`, work added does not start until ``release()``.
    init(parent: BackgroundWork?, holding: Bool) {
        self.parent = parent
        state = Mutex(State(isHolding: holding))
    }

    /// Starts `work` (or, while the tracker holds work back, queues it) and tracks it.
    public func add(_ work: @escaping @Sendable () async -> Void) {
        begin()
        let startNow = state.withLock { state -> Bool in
            guard state.isHolding else { return true }
            state.held.append(work)
            return false
        }
        if startNow { launch(work) }
    }

    /// Starts the work held back so far; work added from now on starts at once.
    func release() {
        let held = state.withLock { state -> [@Sendable () async -> Void] in
            state.isHolding = false
            defer { state.held = [] }
            return state.held
        }
        for work in held { launch(work) }
    }

    /// Waits for every tracked piece of work, including work added while waiting. Work held back starts now.
    public func wait() async {
        release()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state -> Bool in
                if state.pending == 0 { return true }
                state.waiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    private func launch(_ work: @escaping @Sendable () async -> Void) {
        Task {
            await work()
            self.end()
        }
    }

    private func begin() {
        state.withLock { $0.pending += 1 }
        parent?.begin()
    }

    private func end() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.pending -= 1
            guard state.pending == 0 else { return [] }
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
        parent?.end()
    }
}
