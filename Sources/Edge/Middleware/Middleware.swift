import HTTPTypes
import Logging

/// An edge handler: the shape of a Worker's `fetch(request, env, ctx)` and of hattip's `(ctx) => Response`.
public typealias Handler = @Sendable (Request, Context) async throws -> Response

/// A step in front of a handler: it sees the request and the context, can change the request on the way in,
/// call `next` (or answer itself), and change the response on the way out.
public protocol Middleware: Sendable {
    /// Handles a request, calling `next` for the rest of the chain.
    func handle(_ request: Request, context: Context, next: Handler) async throws -> Response
}

/// A middleware from a closure.
public struct MiddlewareFunction: Middleware {
    let body: @Sendable (Request, Context, Handler) async throws -> Response

    /// Creates a middleware from a closure.
    public init(_ body: @escaping @Sendable (Request, Context, Handler) async throws -> Response) {
        self.body = body
    }

    /// Calls the closure.
    public func handle(_ request: Request, context: Context, next: Handler) async throws -> Response {
        try await body(request, context, next)
    }
}

/// Chains middleware in front of a handler, like hattip's `compose`: the first middleware runs first.
public func compose(_ middleware: [any Middleware], _ handler: @escaping Handler) -> Handler {
    middleware.reversed().reduce(handler) { next, m in
        { request, context in try await m.handle(request, context: context, next: next) }
    }
}

/// Turns an error thrown by a handler into a response.
public typealias ErrorHandler = @Sendable (any Error, Request, Context) async -> Response

/// The default error handler: an ``EdgeError`` answers with its status and `{"error": message}`; anything else is
/// logged and answers `500 {"error": "internal server error"}`, never leaking the error's text to the client.
public let defaultErrorHandler: ErrorHandler = { error, request, context in
    if let edge = error as? EdgeError {
        var response = (try? Response.json(["error": edge.message], status: edge.status)) ?? .empty(status: edge.status)
        for field in edge.headers { response.headers.append(field) }
        return response
    }
    if error is BodyTooLargeError {
        return (try? Response.json(["error": "request body too large"], status: .contentTooLarge))
            ?? .empty(status: .contentTooLarge)
    }
    context.logger.error(
        "handler failed", metadata: ["method": "\(request.method)", "path": "\(request.path)", "error": "\(error)"])
    return (try? Response.json(["error": "internal server error"], status: .internalServerError))
        ?? .empty(status: .internalServerError)
}
