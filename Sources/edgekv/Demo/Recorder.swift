import Edge
import EdgeCommandLine
import EdgeKV
import EdgeReplay
import Foundation
import HTTPTypes
import Logging
import Synchronization

/// Records every request the server answers and its response as a fixture in the contract format.
///
/// The file is written step by step: each request appends its step and rewrites only the closing `]}` after it, so
/// the file is a complete fixture after every request and whenever the server stops, writing a step costs the same
/// however many came before, and nothing of past steps is kept in memory. The file is created owner-only (0600),
/// an existing one is truncated and its mode tightened the same way: a recording holds what clients sent.
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
    private let file: Mutex<File>

    /// The open record file and where its closing tail starts.
    private struct File {
        let descriptor: Int32
        /// The byte offset just past the last step (or past `"steps": [` before the first).
        var end: Int
        var steps = 0
    }

    /// The largest body the server reads while recording.
    static let bodyLimit = 8 * 1024 * 1024
    /// The largest body recorded whole (64 KiB); longer ones are cut (see the type's documentation).
    static let recordedBodyLimit = 64 * 1024
    /// What follows the last step: the file is valid JSON with it in place.
    static let tail = Array("\n  ]\n}\n".utf8)

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
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw CLIError("cannot write the record file \(path): \(String(cString: strerror(errno)))")
        }
        let head = Array("{\n  \"name\": \(JSONValue.string(name).serialized),\n  \"steps\": [".utf8)
        var info = stat()
        do {
            // A file that already existed keeps at most owner read and write.
            guard fstat(fd, &info) == 0, fchmod(fd, info.st_mode & 0o600) == 0 else { throw Self.posixError() }
            try Self.write(fd, head + Array("]\n}\n".utf8), at: 0)
        } catch {
            close(fd)
            throw CLIError("cannot write the record file \(path): \(error)")
        }
        file = Mutex(File(descriptor: fd, end: head.count))
    }

    deinit {
        file.withLock { _ = close($0.descriptor) }
    }

    /// Steps recorded so far.
    var steps: Int { file.withLock { $0.steps } }

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
        var req: [String: JSONValue] = [
            "method": .string(request.method.rawValue), "path": .string(redactor.target(request.target)),
        ]
        var headers: [String: JSONValue] = [:]
        for field in request.headers {
            let name = field.name.canonicalName
            if Self.dropped.contains(name) { continue }
            headers[field.name.rawName] = .string(redactor.isSecret(name) ? Redactor.placeholder : field.value)
        }
        if !body.isEmpty {
            let contentType = request.headers[.contentType]?.lowercased() ?? ""
            if contentType.contains("json"), let json = try? JSONValue(parsing: body) {
                // Cut JSON cannot be parsed to find its secrets: a long body is redacted whole, then cut.
                let redacted = redactor.request(json)
                if body.count <= Self.recordedBodyLimit {
                    req["json"] = redacted
                    headers = headers.filter { $0.key.lowercased() != "content-type" }
                } else {
                    Self.keep(
                        Array(redacted.serialized.utf8).prefix(Self.recordedBodyLimit), size: body.count, in: &req)
                }
            } else {
                // Cut first: the rest is never looked at. A form value cut short is still after its name.
                let form = contentType.hasPrefix("application/x-www-form-urlencoded") ? redactor : nil
                Self.keep(body.prefix(Self.recordedBodyLimit), size: body.count, form: form, in: &req)
            }
        }
        if !headers.isEmpty { req["headers"] = .object(headers) }
        var expect: [String: JSONValue] = ["status": .int(Int64(response.status.code))]
        if responseBody.count <= Self.recordedBodyLimit {
            if response.headers[.contentType]?.contains("json") == true,
                let json = try? JSONValue(parsing: responseBody)
            {
                expect["json"] = redactor.expectation(json)
            } else if let text = String(validating: responseBody, as: UTF8.self), !text.isEmpty {
                expect["body"] = .string(text)
            }
        }
        let cookies = Self.cookieExpectations(sent: request.headers[values: .cookie], response: response)
        if !cookies.isEmpty { expect["cookies"] = .object(cookies) }
        append(["request": .object(req), "expect": .object(expect)])
    }

    /// Sets the request's body to `kept`, the start of a body of `size` bytes, with `truncated` when that is not all
    /// of it; form parameters are redacted by `form`.
    static func keep(
        _ kept: ArraySlice<UInt8>, size: Int, form: Redactor? = nil, in request: inout [String: JSONValue]
    ) {
        let cut = size > kept.count
        if cut { request["truncated"] = .int(Int64(size)) }
        // A cut can split a UTF-8 sequence: text cut mid-character stays text, a few bytes shorter.
        for drop in 0...(cut ? min(3, kept.count) : 0) {
            if let text = String(validating: kept.dropLast(drop), as: UTF8.self) {
                request["body"] = .string(form?.formEncoded(text[...]) ?? text)
                return
            }
        }
        request["base64"] = .string(Data(kept).base64EncodedString())
    }

    /// Writes `step` after the last one and the closing tail after it, in one write.
    private func append(_ step: JSONValue) {
        var text = ""
        Output.pretty(step, indent: "    ", into: &text)
        // Held while writing: concurrent requests append whole steps, one after another.
        file.withLock { file in
            let chunk = Array(((file.steps == 0 ? "" : ",") + "\n    " + text).utf8)
            do {
                try Self.write(file.descriptor, chunk + Self.tail, at: file.end)
                file.end += chunk.count
                file.steps += 1
            } catch {
                logger.error("cannot write the record file", metadata: ["path": "\(path)", "error": "\(error)"])
            }
        }
    }

    /// The cookie expectations a replay can reproduce (see the type's documentation).
    static func cookieExpectations(sent: [String], response: Response) -> [String: JSONValue] {
        // The raw values, as the client's jar holds them and as `Set-Cookie` carries them (no percent-decoding).
        var held: [String: String] = [:]
        for header in sent {
            for pair in header.split(separator: ";") {
                guard let eq = pair.firstIndex(of: "=") else { continue }
                let name = pair[..<eq].trimmingCharacters(in: .whitespaces)
                let value = pair[pair.index(after: eq)...].trimmingCharacters(in: .whitespaces)
                if !name.isEmpty && held[name] == nil { held[name] = value }
            }
        }
        let now = SystemClock().nowMilliseconds()
        var last: [String: ParsedSetCookie] = [:]
        for header in response.headers[values: .setCookie] {
            if let cookie = ParsedSetCookie(header) { last[cookie.name] = cookie }
        }
        var out: [String: JSONValue] = [:]
        for (name, cookie) in last {
            if cookie.deletes(nowMilliseconds: now) {
                out[name] = ["cleared": true]
            } else if cookie.value != held[name] {
                out[name] = ["set": true]
            }
        }
        for name in held.keys where last[name] == nil { out[name] = ["set": false] }
        return out
    }

    /// Writes all of `bytes` at `offset`.
    static func write(_ fd: Int32, _ bytes: [UInt8], at offset: Int) throws {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress! + done, $0.count - done, off_t(offset + done)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw posixError()
            }
            done += n
        }
    }

    static func posixError() -> CLIError { CLIError(String(cString: strerror(errno))) }
}
