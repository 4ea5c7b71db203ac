import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes

/// Bounds what one HTTP/1.1 connection can hold on to: an idle keep-alive connection, a request head that never
/// completes, a body that stalls, a body the handler left unread, and a graceful shutdown.
///
/// Two handlers share it: ``ByteHandler`` sits first in the pipeline and sees the raw bytes (the first byte of a
/// request starts the head timer; it can answer 408 and close even while a head is half-parsed), and ``PartHandler``
/// sits after the HTTP codec and sees requests and responses. Every member is used on the channel's event loop only.
final class ConnectionGuard {
    enum Phase {
        /// No request in flight: waiting for the first byte of the next one.
        case waiting(since: NIODeadline)
        /// Bytes of a request head have arrived, the head is not complete.
        case head(since: NIODeadline)
        /// The head is in, the body is streaming.
        case body
        /// The request is read; the handler is answering.
        case responding
        /// The response went out with part of the body unread: output is closed, input is drained and dropped for a
        /// moment so the client reads the response instead of a reset, then the connection closes.
        case lingering(until: NIODeadline)
        case closed
    }

    let timeouts: EdgeServer.Timeouts
    let logger: Logger
    private var context: ChannelHandlerContext?
    private var phase: Phase = .closed
    private var lastBodyActivity = NIODeadline.now()
    /// Request heads read minus responses finished.
    private var pendingResponses = 0
    /// The newest request's head is in and its end is not.
    private var readingBody = false
    /// The response to the oldest pending request has started.
    private var responseStarted = false
    private var shutdownDeadline: NIODeadline?
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?

    /// How long an unread body is drained after its response, at most.
    static let lingerTime = TimeAmount.seconds(2)

    init(timeouts: EdgeServer.Timeouts, logger: Logger) {
        self.timeouts = timeouts
        self.logger = logger
    }

    var isLingering: Bool {
        if case .lingering = phase { return true }
        return false
    }

    // MARK: Events

    func start(_ context: ChannelHandlerContext) {
        self.context = context
        phase = .waiting(since: .now())
        reschedule()
    }

    func stop() {
        phase = .closed
        timer?.cancel()
        timer = nil
        context = nil
    }

    func bytesArrived() {
        switch phase {
        case .waiting:
            phase = .head(since: .now())
            reschedule()
        case .body:
            lastBodyActivity = .now()
        default:
            break
        }
    }

    func requestHeadArrived() {
        pendingResponses += 1
        readingBody = true
        lastBodyActivity = .now()
        if case .closed = phase { return }
        phase = .body
        reschedule()
    }

    func requestEndArrived() {
        readingBody = false
        if case .body = phase {
            phase = .responding
            reschedule()
        }
    }

    /// The response head to the oldest pending request; when its body is still unread (only possible for the newest
    /// request) the connection will close after it, and the head says so.
    func responseHeadWritten(_ head: inout HTTPResponse) {
        responseStarted = true
        if pendingResponses == 1 && readingBody { head.headerFields[.connection] = "close" }
    }

    /// What a connection does once a response is on the wire.
    enum AfterResponse {
        /// Wait for the next request.
        case keepOpen
        /// Part of the body is unread: close output, drop the rest for a moment, close.
        case linger
        /// The server is shutting down and nothing else is in flight: close.
        case close
    }

    /// Called as the response to the oldest pending request ends.
    func responseEnded() -> AfterResponse {
        pendingResponses = max(0, pendingResponses - 1)
        responseStarted = false
        guard pendingResponses == 0 else { return .keepOpen }
        if readingBody { return .linger }
        switch phase {
        case .closed, .lingering: return .keepOpen
        default: break
        }
        // A response that ends during a shutdown ends the connection too, rather than waiting out the grace period.
        if shutdownDeadline != nil { return .close }
        phase = .waiting(since: .now())
        reschedule()
        return .keepOpen
    }

    /// Closes the connection once its last response is written during a shutdown.
    func finish() { close() }

    /// Closes output once the response is on the wire, then drops what the client still sends for a moment.
    func linger() {
        guard let context else { return }
        if case .closed = phase { return }
        phase = .lingering(until: .now() + Self.lingerTime)
        context.close(mode: .output, promise: nil)
        reschedule()
    }

    /// The server is shutting down: idle connections close now, the rest get ``EdgeServer/Timeouts/shutdown``.
    func quiesce() {
        shutdownDeadline = .now() + TimeAmount(timeouts.shutdown)
        switch phase {
        case .waiting:
            close()
        case .head where pendingResponses == 0:
            close()
        default:
            reschedule()
        }
    }

    // MARK: Timers

    private func deadline() -> NIODeadline? {
        let own: NIODeadline?
        switch phase {
        case .waiting(let since): own = since + TimeAmount(timeouts.idle)
        case .head(let since): own = since + TimeAmount(timeouts.requestHead)
        case .body: own = lastBodyActivity + TimeAmount(timeouts.body)
        case .responding: own = nil
        case .lingering(let until): own = until
        case .closed: return nil
        }
        switch (own, shutdownDeadline) {
        case (let a?, let b?): return min(a, b)
        case (let a?, nil): return a
        case (nil, let b): return b
        }
    }

    /// Makes sure a timer fires by the current deadline. A timer already due no later is kept, also when nothing is
    /// due now: ``timerFired()`` looks at the state again, so a request costs no timer churn on the event loop.
    private func reschedule() {
        guard let context, let deadline = deadline() else { return }
        if let timerDeadline, timer != nil, timerDeadline <= deadline { return }
        timer?.cancel()
        timerDeadline = deadline
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [weak self] in
            self?.timerFired()
        }
    }

    private func timerFired() {
        timer = nil
        timerDeadline = nil
        let now = NIODeadline.now()
        if let shutdownDeadline, now >= shutdownDeadline {
            switch phase {
            case .lingering, .closed:
                break
            default:
                logger.debug("closing a connection still busy when the shutdown grace ended")
                if pendingResponses > 0 && !responseStarted {
                    reply(503, "Service Unavailable", "the server is shutting down\n")
                } else {
                    close()
                }
                return
            }
        }
        switch phase {
        case .waiting(let since) where now >= since + TimeAmount(timeouts.idle):
            close()
        case .head(let since) where now >= since + TimeAmount(timeouts.requestHead):
            logger.debug("request head not complete in time, closing")
            if pendingResponses == 0 {
                reply(408, "Request Timeout", "the request head was not received in time\n")
            } else {
                close()
            }
        case .body where now >= lastBodyActivity + TimeAmount(timeouts.body):
            logger.debug("request body stalled, closing")
            if pendingResponses == 1 && !responseStarted {
                reply(408, "Request Timeout", "the request body stalled\n")
            } else {
                close()
            }
        case .lingering(let until) where now >= until:
            close()
        default:
            reschedule()
        }
    }

    /// Answers with a minimal response written below the HTTP codec (a half-read request leaves the codec nothing
    /// to answer), then closes.
    private func reply(_ status: Int, _ reason: String, _ body: String) {
        guard let context else { return }
        let text =
            "HTTP/1.1 \(status) \(reason)\r\nconnection: close\r\ncontent-type: text/plain; charset=utf-8\r\n"
            + "content-length: \(body.utf8.count)\r\n\r\n\(body)"
        context.writeAndFlush(NIOAny(context.channel.allocator.buffer(string: text)), promise: nil)
        close()
    }

    private func close() {
        guard let context else { return }
        stop()
        context.close(promise: nil)
    }

    // MARK: Handlers

    /// First in the pipeline: sees the raw bytes.
    final class ByteHandler: ChannelDuplexHandler {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer
        typealias OutboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        let connection: ConnectionGuard
        init(_ connection: ConnectionGuard) { self.connection = connection }

        func handlerAdded(context: ChannelHandlerContext) {
            if context.channel.isActive { connection.start(context) }
        }

        func channelActive(context: ChannelHandlerContext) {
            connection.start(context)
            context.fireChannelActive()
        }

        func channelInactive(context: ChannelHandlerContext) {
            connection.stop()
            context.fireChannelInactive()
        }

        func handlerRemoved(context: ChannelHandlerContext) {
            connection.stop()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            // A body the handler did not want is dropped here, before the codec spends any work on it.
            if connection.isLingering { return }
            connection.bytesArrived()
            context.fireChannelRead(data)
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if event is ChannelShouldQuiesceEvent { connection.quiesce() }
            context.fireUserInboundEventTriggered(event)
        }
    }

    /// After the HTTP codec: sees request and response parts.
    final class PartHandler: ChannelDuplexHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPRequestPart
        typealias InboundOut = HTTPRequestPart
        typealias OutboundIn = HTTPResponsePart
        typealias OutboundOut = HTTPResponsePart

        let connection: ConnectionGuard
        init(_ connection: ConnectionGuard) { self.connection = connection }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head: connection.requestHeadArrived()
            case .body: break
            case .end: connection.requestEndArrived()
            }
            context.fireChannelRead(data)
        }

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            switch unwrapOutboundIn(data) {
            case .head(var head):
                connection.responseHeadWritten(&head)
                context.write(wrapOutboundOut(.head(head)), promise: promise)
            case .body:
                context.write(data, promise: promise)
            case .end:
                let after = connection.responseEnded()
                if case .keepOpen = after {
                    context.write(data, promise: promise)
                    return
                }
                let written = context.eventLoop.makePromise(of: Void.self)
                written.futureResult.assumeIsolated().whenComplete { [connection] result in
                    if case .linger = after { connection.linger() } else { connection.finish() }
                    promise?.completeWith(result)
                }
                context.write(data, promise: written)
            }
        }
    }
}

/// HTTP/1.1 with a ``ConnectionGuard`` on every connection.
struct GuardedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let responder: HTTPChannelHandler.Responder
    let timeouts: EdgeServer.Timeouts
    let decoder: HTTP1Channel.Configuration.DecoderConfiguration

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let bytes: ConnectionGuard.ByteHandler
        let parts: NIOLoopBound<ConnectionGuard.PartHandler>
        do {
            let connection = ConnectionGuard(timeouts: timeouts, logger: logger)
            bytes = ConnectionGuard.ByteHandler(connection)
            parts = NIOLoopBound(ConnectionGuard.PartHandler(connection), eventLoop: channel.eventLoop)
            try channel.pipeline.syncOperations.addHandler(bytes, position: .first)
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        let http1 = HTTP1Channel(
            responder: responder,
            configuration: .init(additionalChannelHandlers: [parts.value], httpDecoderConfiguration: decoder))
        return http1.setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        await HTTP1Channel(responder: responder).handle(value: value, logger: logger)
    }
}
