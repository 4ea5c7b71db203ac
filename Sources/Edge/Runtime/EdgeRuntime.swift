import EdgeKV
import HTTPTypes
import Logging

/// Runs an edge handler: gives each request its context (platform env, cookies, `waitUntil`), turns thrown errors
/// into responses, and appends queued cookies. The same runtime serves in-process calls (tests, replay) and HTTP
/// (`EdgeHTTP`).
public struct EdgeRuntime: Sendable {
    /// The handler with its middleware.
    public let handler: Handler
    /// What turns a thrown error into a response.
    public let errorHandler: ErrorHandler
    /// The env requests get unless a call passes its own.
    public let env: Env
    /// The platform name handlers see.
    public let platformName: String
    /// The clock requests read.
    public let clock: any KVClock
    /// The logger requests log to.
    public let logger: Logger
    /// Chooses a request's env from the request itself (e.g. a location header), when set; a call's own `env` still
    /// wins.
    public var envForRequest: (@Sendable (Request) -> Env)?
    /// All `waitUntil` work, awaited by ``shutdown()``.
    public let background = BackgroundWork()

    /// Creates a runtime.
    public init(
        env: Env = Env(), middleware: [any Middleware] = [], platformName: String = "edgekv",
        clock: any KVClock = SystemClock(), logger: Logger = Logger(label: "edge"),
        errorHandler: @escaping ErrorHandler = defaultErrorHandler, handler: @escaping Handler
    ) {
        self.handler = compose(middleware, handler)
        self.errorHandler = errorHandler
        self.env = env
        self.platformName = platformName
        self.clock = clock
        self.logger = logger
    }

    /// Handles one request.
    /// - Parameters:
    ///   - env: this request's env (default: the runtime's); two requests in flight may carry different envs.
    ///   - clientIP: the peer address; `CF-Connecting-IP` wins when present.
    ///   - awaitBackgroundWork: wait for this request's `waitUntil` work before returning.
    ///
    /// `waitUntil` work starts once the response is produced (after the handler, the error handler and the queued
    /// cookies), whether or not the request failed.
    public func handle(
        _ request: Request, env: Env? = nil, clientIP: String? = nil, clock: (any KVClock)? = nil,
        awaitBackgroundWork: Bool = false
    ) async -> Response {
        let ip = request.headers[Self.connectingIP] ?? clientIP ?? "127.0.0.1"
        let context = Context(
            platform: Platform(name: platformName, env: env ?? envForRequest?(request) ?? self.env), request: request,
            clientIP: ip, clock: clock ?? self.clock, logger: logger, backgroundParent: background)
        var response: Response
        do {
            response = try await handler(request, context)
        } catch {
            // A failed request sets no cookie: whatever was queued belonged to work that did not complete.
            context.clearOutgoingCookies()
            response = await errorHandler(error, request, context)
        }
        context.forEachOutgoingCookie { cookie in
            response.headers.append(HTTPField(name: .setCookie, value: cookie.headerValue))
        }
        context.releaseBackgroundWork()
        if awaitBackgroundWork { await context.waitForBackgroundWork() }
        return response
    }

    /// `CF-Connecting-IP`, made once.
    private static let connectingIP = HTTPField.Name("CF-Connecting-IP")!

    /// Waits for all `waitUntil` work started so far.
    public func shutdown() async { await background.wait() }
}
