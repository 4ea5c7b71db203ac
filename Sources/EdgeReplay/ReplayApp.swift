import Edge
import EdgeKV
import Logging

/// An app fixtures can name in their `app` field: how to build its runtime for one fixture.
public struct ReplayApp: Sendable {
    /// The name fixtures use.
    public var name: String
    /// The app's KV bindings: they exist (empty) even when a fixture seeds nothing, e.g. `SESSIONS`, and they are the
    /// only ones a fixture may seed.
    public var kvBindings: [String]
    /// Builds the runtime for a fixture: its env is passed per request, the clock is the fixture's virtual clock, and
    /// the runtime logs to `logger` (the runner reads its errors to explain a failed 500).
    public var makeRuntime: @Sendable (_ clock: ManualClock, _ logger: Logger) -> EdgeRuntime

    /// Creates an app whose runtime logs to the logger the runner gives it.
    public init(
        name: String, kvBindings: [String] = [],
        makeRuntime: @escaping @Sendable (_ clock: ManualClock, _ logger: Logger) -> EdgeRuntime
    ) {
        self.name = name
        self.kvBindings = kvBindings
        self.makeRuntime = makeRuntime
    }

    /// Creates an app whose runtime keeps its own logger: a failed 500 is reported without the server's log.
    public init(
        name: String, kvBindings: [String] = [], makeRuntime: @escaping @Sendable (_ clock: ManualClock) -> EdgeRuntime
    ) {
        self.init(name: name, kvBindings: kvBindings) { clock, _ in makeRuntime(clock) }
    }

    /// An app from a handler and middleware.
    public init(
        name: String, kvBindings: [String] = [], middleware: [any Middleware] = [], handler: @escaping Handler
    ) {
        self.init(name: name, kvBindings: kvBindings) { (clock: ManualClock, logger: Logger) in
            EdgeRuntime(middleware: middleware, clock: clock, logger: logger, handler: handler)
        }
    }
}
