import Edge
import EdgeKV

/// An app fixtures can name in their `app` field: how to build its runtime for one fixture.
public struct ReplayApp: Sendable {
    /// The name fixtures use.
    public var name: String
    /// KV bindings that exist (empty) even when a fixture seeds nothing, e.g. `SESSIONS`.
    public var kvBindings: [String]
    /// Builds the runtime for a fixture: its env is passed per request, the clock is the fixture's virtual clock.
    public var makeRuntime: @Sendable (_ clock: ManualClock) -> EdgeRuntime

    /// Creates an app.
    public init(
        name: String, kvBindings: [String] = [], makeRuntime: @escaping @Sendable (_ clock: ManualClock) -> EdgeRuntime
    ) {
        self.name = name
        self.kvBindings = kvBindings
        self.makeRuntime = makeRuntime
    }

    /// An app from a handler and middleware.
    public init(
        name: String, kvBindings: [String] = [], middleware: [any Middleware] = [], handler: @escaping Handler
    ) {
        self.init(name: name, kvBindings: kvBindings) { clock in
            EdgeRuntime(middleware: middleware, clock: clock, handler: handler)
        }
    }
}
