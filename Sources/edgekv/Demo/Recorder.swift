import Edge
import EdgeCommandLine
import EdgeKV
import EdgeReplay
import Foundation
import HTTPTypes
import Logging

/// Records every request the server answers and its response as a fixture in the contract format.
///
/// The file is written step by step through ``FixtureWriter``: it is a complete fixture after every request and
/// whenever the server stops, and it is owner-only (0600): a recording holds what clients sent.
///
/// Secrets are redacted by ``Redactor``: header values, query and form parameters and request JSON members whose
/// name looks secret; in a response's JSON such members are left out of the expectation.
///
/// A body over ``recordedBodyLimit`` is not kept whole: a request keeps its start and `truncated` (the full size),
/// which replay reports as skipped rather than send other bytes than the client did; a response gets no body
/// expectation, only its status and cookies.
///
/// The recorder wraps the app's whole runtime, not just its handler: what it records is exactly what the client got,
/// including responses the runtime's error handler made (a 400, a 429, a 500) and the `Set-Cookie` lines the
/// runtime appends after the handler.
///
/// The recorded expectations are the ones a replay can reproduce on fresh state with the default env:
/// status and body (JSON as a deep subset), and for cookies `set: true` when the response gives the client a new
/// value, `cleared: true` when it deletes one, and `set: false` for a cookie the client sent and the response left
/// alone. A response that re-sends the value the client already holds (rolling expiry refreshing a server-side
/// session) records nothing for that cookie: without the same env and the same wall-clock gaps a replay does not
/// re-send it.
final class Recorder: Sendable {
    let path: String
    let logger: Logger
    let redactor: Redactor
    private let writer: FixtureWriter

    /// The largest body the server reads while recording.
    static let bodyLimit = 8 * 1024 * 1024
    /// The largest body recorded whole (64 KiB); longer ones are cut (see the type's documentation).
    static let recordedBodyLimit = 64 * 1024

    static let dropped: Set<String> = [
        "cookie", "host", "content-length", "connection", "accept-encoding", "user-agent", "transfer-encoding",
        "keep-alive", "upgrade",
    ]

    /// Starts a recording: writes an empty fixture to `path`.
    /// - Parameter redact: words added to ``Redactor/defaultWords``.
    /// - Throws: ``CLIError`` when the file cannot be written.
    init(path: String, name: String, redact: [String] = [], logger: Logger) throws {
        self.path = path
        self.logger = logger
        self.redactor = Redactor(extra: redact)
        do {
            writer = try FixtureWriter(path: path, name: name)
        } catch {
            throw CLIError("cannot write the record file \(path): \(error)")
        }
    }

    /// Steps recorded so far.
    var steps: Int { writer.steps }

    /// A runtime that serves `app` and records each exchange.
    func runtime(recording app: EdgeRuntime) -> EdgeRuntime {
        EdgeRuntime(env: app.env, platformName: app.platformName, clock: app.clock, logger: app.logger) {
            [self] request, context in
            let body = try await request.bytes(limit: Self.bodyLimit)
            var forwarded = request
            forwarded.body = .bytes(body)
            var response = await app.handle(forwarded, clientIP: context.clientIP)
            let responseBody = try await response.body.collect(upTo: Self.bodyLimit)
            response.body = .bytes(responseBody)
            record(request, body, response, responseBody)
            return response
        }
    }

    func record(_ request: Request, _ body: [UInt8], _ response: Response, _ responseBody: [UInt8]) {
        var req = Fixture.RequestStep(method: request.method.rawValue, path: redactor.target(request.target))
        var headers: [String: String] = [:]
        for field in request.headers {
            let name = field.name.canonicalName
            if Self.dropped.contains(name) { continue }
            headers[field.name.rawName] = redactor.isSecret(name) ? Redactor.placeholder : field.value
        }
        if !body.isEmpty {
            let contentType = request.headers[.contentType]?.lowercased() ?? ""
            if contentType.contains("json"), let json = try? JSONValue(parsing: body) {
                // Cut JSON cannot be parsed to find its secrets: a long body is redacted whole, then cut.
                let redacted = Array(redactor.request(json).serialized.utf8)
                if body.count <= Self.recordedBodyLimit {
                    req.body = redacted
                    req.isJSON = true
                    headers = headers.filter { $0.key.lowercased() != "content-type" }
                } else {
                    Self.keep(redacted.prefix(Self.recordedBodyLimit), size: body.count, in: &req)
                }
            } else {
                // Cut first: the rest is never looked at. A form value cut short is still after its name.
                let form = contentType.hasPrefix("application/x-www-form-urlencoded") ? redactor : nil
                Self.keep(body.prefix(Self.recordedBodyLimit), size: body.count, form: form, in: &req)
            }
        }
        req.headers = headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        var expect = Fixture.Expectation(status: Int(response.status.code))
        if responseBody.count <= Self.recordedBodyLimit {
            if response.headers[.contentType]?.contains("json") == true,
                let json = try? JSONValue(parsing: responseBody)
            {
                expect.json = redactor.expectation(json)
            } else if let text = String(validating: responseBody, as: UTF8.self), !text.isEmpty {
                expect.body = text
            }
        }
        expect.cookies = Self.cookieExpectations(sent: request.headers[values: .cookie], response: response)
        do {
            try writer.append(.request(req, expect))
        } catch {
            logger.error("cannot write the record file", metadata: ["path": "\(path)", "error": "\(error)"])
        }
    }

    /// Sets the request's body to `kept`, the start of a body of `size` bytes, with `truncated` when that is not all
    /// of it; form parameters are redacted by `form`. Text is kept as text (the fixture's `body`), other bytes as
    /// they are (its `base64`).
    static func keep(
        _ kept: ArraySlice<UInt8>, size: Int, form: Redactor? = nil, in request: inout Fixture.RequestStep
    ) {
        let cut = size > kept.count
        if cut { request.truncated = Int64(size) }
        // A cut can split a UTF-8 sequence: text cut mid-character stays text, a few bytes shorter.
        for drop in 0...(cut ? min(3, kept.count) : 0) {
            if let text = String(validating: kept.dropLast(drop), as: UTF8.self) {
                request.body = Array((form?.formEncoded(text[...]) ?? text).utf8)
                return
            }
        }
        request.body = Array(kept)
    }

    /// The cookie expectations a replay can reproduce (see the type's documentation).
    static func cookieExpectations(sent: [String], response: Response) -> [String: Fixture.CookieExpectation] {
        // The raw values, as the client's jar holds them and as `Set-Cookie` carries them (no percent-decoding).
        var held: [String: String] = [:]
        for header in sent { CookieParser.parseRawFirstWins(header, into: &held) }
        let now = SystemClock().nowMilliseconds()
        var last: [String: ParsedSetCookie] = [:]
        for header in response.headers[values: .setCookie] {
            if let cookie = ParsedSetCookie(header) { last[cookie.name] = cookie }
        }
        var out: [String: Fixture.CookieExpectation] = [:]
        for (name, cookie) in last {
            if cookie.deletes(nowMilliseconds: now) {
                out[name] = Fixture.CookieExpectation(cleared: true)
            } else if cookie.value != held[name] {
                out[name] = Fixture.CookieExpectation(set: true)
            }
        }
        for name in held.keys where last[name] == nil { out[name] = Fixture.CookieExpectation(set: false) }
        return out
    }
}
