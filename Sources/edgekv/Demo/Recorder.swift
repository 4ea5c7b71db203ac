import Edge
import EdgeKV
import EdgeReplay
import Foundation
import HTTPTypes
import Logging
import Synchronization

/// Records every request the server answers and its response as a fixture in the contract format. The file is
/// written when recording starts and rewritten after each request, so it is a complete fixture whenever the server
/// stops. Secrets in headers are redacted.
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
    let name: String
    let logger: Logger
    private let steps = Mutex<[JSONValue]>([])

    static let bodyLimit = 8 * 1024 * 1024

    static let dropped: Set<String> = [
        "cookie", "host", "content-length", "connection", "accept-encoding", "user-agent", "transfer-encoding",
        "keep-alive", "upgrade",
    ]
    static let secretWords = ["authorization", "token", "secret", "password", "key", "auth"]

    /// Starts a recording: writes an empty fixture to `path`.
    /// - Throws: ``CLIError`` when the file cannot be written.
    init(path: String, name: String, logger: Logger) throws {
        self.path = path
        self.name = name
        self.logger = logger
        do {
            try Self.write(name: name, steps: [], to: path)
        } catch {
            throw CLIError("cannot write the record file \(path): \(error.localizedDescription)")
        }
    }

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
        var req: [String: JSONValue] = ["method": .string(request.method.rawValue), "path": .string(request.target)]
        var headers: [String: JSONValue] = [:]
        for field in request.headers {
            let name = field.name.canonicalName
            if Self.dropped.contains(name) { continue }
            let secret = Self.secretWords.contains { name.contains($0) }
            headers[field.name.rawName] = .string(secret ? "[redacted]" : field.value)
        }
        let isJSONRequest = request.headers[.contentType]?.contains("json") == true
        if !body.isEmpty {
            if isJSONRequest, let json = try? JSONValue(parsing: body) {
                req["json"] = json
                headers = headers.filter { $0.key.lowercased() != "content-type" }
            } else if let text = String(validating: body, as: UTF8.self) {
                req["body"] = .string(text)
            } else {
                req["base64"] = .string(Data(body).base64EncodedString())
            }
        }
        if !headers.isEmpty { req["headers"] = .object(headers) }
        var expect: [String: JSONValue] = ["status": .int(Int64(response.status.code))]
        if let json = try? JSONValue(parsing: responseBody), response.headers[.contentType]?.contains("json") == true {
            expect["json"] = json
        } else if let text = String(validating: responseBody, as: UTF8.self), !text.isEmpty {
            expect["body"] = .string(text)
        }
        let cookies = Self.cookieExpectations(sent: request.headers[values: .cookie], response: response)
        if !cookies.isEmpty { expect["cookies"] = .object(cookies) }
        let step: JSONValue = ["request": .object(req), "expect": .object(expect)]
        // Appending and writing under one lock: concurrent requests can never leave an older snapshot on disk last.
        steps.withLock { steps in
            steps.append(step)
            do {
                try Self.write(name: name, steps: steps, to: path)
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

    static func write(name: String, steps: [JSONValue], to path: String) throws {
        let fixture: JSONValue = ["name": .string(name), "steps": .array(steps)]
        var out = ""
        Output.pretty(fixture, indent: "", into: &out)
        try (out + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }
}
