import Foundation

/// One dedicated thread for blocking C calls (a SQLite connection, a curl handle), behind async functions.
///
/// Blocking calls never run on Swift's cooperative pool: callers hop here and back. The thread is also a
/// `TaskExecutor`: a task that prefers it (`withTaskExecutorPreference(store.executor)`) runs its calls inline,
/// without the hop.
public final class WorkerThread: TaskExecutor, @unchecked Sendable {
    // @unchecked: `queue`, `stopping` and `threadID` are only touched with `lock` held (threadID is written once,
    // before `init` returns, and read-only afterwards).
    private var lock = pthread_mutex_t()
    private var condition = pthread_cond_t()
    private var queue: [Work] = []
    private var stopping = false
    private var threadID: pthread_t?
    private var finished = false

    private enum Work {
        /// Runs on the thread and returns what resumes the caller. The work (and everything it captured) is
        /// released before the caller resumes, so a caller that drops its last reference to the store afterwards
        /// frees it on its own thread, at once.
        case closure(() -> () -> Void)
        case job(UnownedJob)
    }

    /// Starts the thread.
    public init(name: String) {
        pthread_mutex_init(&lock, nil)
        pthread_cond_init(&condition, nil)
        let thread = Thread { [unowned self] in self.loop() }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
        pthread_mutex_lock(&lock)
        while threadID == nil { pthread_cond_wait(&condition, &lock) }
        pthread_mutex_unlock(&lock)
    }

    deinit {
        pthread_cond_destroy(&condition)
        pthread_mutex_destroy(&lock)
    }

    /// True when the caller is running on this thread.
    public var isCurrent: Bool {
        guard let threadID else { return false }
        return pthread_equal(pthread_self(), threadID) != 0
    }

    private func loop() {
        pthread_mutex_lock(&lock)
        threadID = pthread_self()
        pthread_cond_broadcast(&condition)
        while true {
            while queue.isEmpty && !stopping { pthread_cond_wait(&condition, &lock) }
            if queue.isEmpty && stopping { break }
            var batch: [Work] = []
            swap(&batch, &queue)
            pthread_mutex_unlock(&lock)
            while !batch.isEmpty {
                perform(batch.removeFirst())?()
            }
            pthread_mutex_lock(&lock)
        }
        finished = true
        pthread_cond_broadcast(&condition)
        pthread_mutex_unlock(&lock)
    }

    private func perform(_ work: consuming Work) -> (() -> Void)? {
        switch work {
        case .closure(let body): return body()
        case .job(let job):
            job.runSynchronously(on: asUnownedTaskExecutor())
            return nil
        }
    }

    private func submit(_ work: Work) {
        pthread_mutex_lock(&lock)
        queue.append(work)
        pthread_cond_signal(&condition)
        pthread_mutex_unlock(&lock)
    }

    /// Runs a task job on this thread (the `TaskExecutor` requirement).
    public func enqueue(_ job: consuming ExecutorJob) {
        submit(.job(UnownedJob(job)))
    }

    /// Runs `body` on this thread and returns its result; inline when already on it.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        if isCurrent { return try body() }
        return try await withCheckedThrowingContinuation { continuation in
            submit(
                .closure {
                    let result = Result { try body() }
                    return { continuation.resume(with: result) }
                })
        }
    }

    /// Lets queued work finish, then ends the thread.
    public func stop() {
        pthread_mutex_lock(&lock)
        stopping = true
        pthread_cond_broadcast(&condition)
        if !isCurrent {
            while !finished { pthread_cond_wait(&condition, &lock) }
        }
        pthread_mutex_unlock(&lock)
    }
}
