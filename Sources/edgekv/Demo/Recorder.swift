import Edge
import EdgeKV
import Foundation
import HTTPTypes
import Synchronization

/// Records every request and response the server handles as a fixture in the contract format, rewriting the file
/// after each request so it is complete whenever the server stops. Secrets in headers are redacted.
final class Recorder: Middleware, Sendable {
    let path: String
    let name: String
    private let steps = Mutex<[JSONValue]>([])

    static let dropped: Set<String> = [
        "cookie", "host", "content-length", "connection", "accept-encoding", "user-agent", "transfer-encoding",
        "keep-alive", "upgrade",
    ]
    static let secretWords = ["authorization", "token", "secret", "password", "key", "auth"]

    init(path: String, name: String) {
        self.path = path
        self.name = name
    }

    func handle(_ request: Request, context: Context, next: Handler) async throws -> Response {
        let body = try await request.bytes(limit: 8 * 1024 * 1024)
        var forwarded = request
        forwarded.body = .bytes(body)
        var response = try await next(forwarded, context)
        let responseBody = try await response.body.collect(upTo: 8 * 1024 * 1024)
        response.body = .bytes(responseBody)
        record(request, body, response, responseBody)
        return response
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
        var cookies: [String: JSONValue] = [:]
        for header in response.headers[values: .setCookie] {
            guard let eq = header.firstIndex(of: "=") else { continue }
            let name = String(header[..<eq])
            let lower = header.lowercased()
            cookies[name] =
                lower.contains("max-age=0") || header.dropFirst(name.count + 1).hasPrefix(";")
                ? ["cleared": true] : ["set": true]
        }
        if !cookies.isEmpty { expect["cookies"] = .object(cookies) }
        let step: JSONValue = ["request": .object(req), "expect": .object(expect)]
        let all = steps.withLock { steps in
            steps.append(step)
            return steps
        }
        let fixture: JSONValue = ["name": .string(name), "steps": .array(all)]
        var out = ""
        Output.pretty(fixture, indent: "", into: &out)
        try? (out + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }
}
