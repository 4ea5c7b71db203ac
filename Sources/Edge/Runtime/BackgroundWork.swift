import Synchronization

/// Work started with `waitUntil`, tracked so that it can be awaited.
public final class BackgroundWork: Sendable {
    private let tasks = Mutex<[Task<Void, Never>]>([])
    private let parent: BackgroundWork?

    /// Creates a tracker; work added to it is also tracked by `parent` (the runtime's).
    public init(parent: BackgroundWork? = nil) { self.parent = parent }

    /// Starts `work` now and tracks it.
    public func add(_ work: @escaping @Sendable () async -> Void) {
        let task = Task { await work() }
        track(task)
    }

    private func track(_ task: Task<Void, Never>) {
        tasks.withLock { tasks in
            tasks.removeAll { $0.isCancelled }
            tasks.append(task)
        }
        parent?.track(task)
    }

    /// Waits for every tracked piece of work, including work added while waiting.
    public func wait() async {
        while true {
            let pending = tasks.withLock { tasks -> [Task<Void, Never>] in
                let all = tasks
                tasks.removeAll()
                return all
            }
            if pending.isEmpty { return }
            for task in pending { await task.value }
        }
    }
}
