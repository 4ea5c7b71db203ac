import EdgeKV
import EdgeKVTestSupport
import Foundation
import Testing

extension APIServer {
    /// Creates a namespace through the API and returns its id.
    func createNamespace(_ title: String = "ns-\(UUID().uuidString)") async throws -> String {
        let result = try expectSuccess(try await send("POST", "", json: #"{"title":\#(JSONValue.string(title))}"#))
        return try #require(result["id"]?.stringValue)
    }
}

/// Percent-encodes a key as one path segment, as the Python SDK does (`quote(v, safe="!$&'()*+,;=:@")`).
func segment(_ key: String) -> String {
    var allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
    allowed.insert(charactersIn: "!$&'()*+,;=:@")
    return key.addingPercentEncoding(withAllowedCharacters: allowed)!
}

/// A Cloudflare v4 response envelope, checked for shape when it is read.
struct Envelope: Sendable {
    let status: Int
    let body: JSONValue

    var success: Bool { body["success"] == .bool(true) }
    var result: JSONValue? { body["result"] }
    var resultInfo: JSONValue? { body["result_info"] }
    var errors: [JSONValue] { body["errors"]?.arrayValue ?? [] }
    var codes: [Int64] {
        errors.compactMap {
            if case .int(let code) = $0["code"] { return code }
            return nil
        }
    }
    var messages: String { errors.compactMap { $0["message"]?.stringValue }.joined(separator: "; ") }
}

struct NotAnEnvelope: Error, CustomStringConvertible {
    let description: String
}

extension HTTPTestResponse {
    /// The body as an envelope: a JSON object with `success`, `errors`, `messages` and `result`, served as
    /// `application/json`, whose errors (when it failed) each carry a numeric `code` and a non-empty `message`.
    /// - Throws: ``NotAnEnvelope`` when the body is anything else (an empty body included).
    func envelope() throws -> Envelope {
        func fail(_ why: String) -> NotAnEnvelope {
            NotAnEnvelope(description: "status \(status): \(why); body: \(text.prefix(500).debugDescription)")
        }
        guard header("Content-Type")?.hasPrefix("application/json") == true else {
            throw fail("Content-Type is \(header("Content-Type") ?? "absent"), not application/json")
        }
        guard let body = try? JSONValue(parsing: body) else { throw fail("the body is not JSON") }
        guard case .bool(let success)? = body["success"] else { throw fail("no boolean \"success\"") }
        guard let errors = body["errors"]?.arrayValue, body["messages"]?.arrayValue != nil else {
            throw fail("no \"errors\" or \"messages\" array")
        }
        guard body.objectValue?["result"] != nil else { throw fail("no \"result\"") }
        if success {
            guard (200..<300).contains(status), errors.isEmpty else { throw fail("success with errors or status") }
        } else {
            guard (400..<500).contains(status) else { throw fail("a failure that is not a 4xx") }
            guard !errors.isEmpty, body["result"] == .null else { throw fail("a failure without errors") }
            for error in errors {
                guard case .int = error["code"], let message = error["message"]?.stringValue, !message.isEmpty else {
                    throw fail("an error without a numeric code and a message")
                }
            }
        }
        return Envelope(status: status, body: body)
    }
}

/// Checks that `response` is a 200 success envelope and returns its `result`.
@discardableResult
func expectSuccess(
    _ response: HTTPTestResponse, sourceLocation: SourceLocation = #_sourceLocation
) throws -> JSONValue {
    let envelope = try response.envelope()
    #expect(response.status == 200, "\(response.text)", sourceLocation: sourceLocation)
    #expect(envelope.success, "\(response.text)", sourceLocation: sourceLocation)
    return envelope.result ?? .null
}

/// Checks that `response` is a failure envelope with this status and code, whose message contains `text`.
func expectFailure(
    _ response: HTTPTestResponse, status: Int, code: Int64? = nil, message text: String? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let envelope = try response.envelope()
    #expect(response.status == status, "\(response.text)", sourceLocation: sourceLocation)
    #expect(!envelope.success, sourceLocation: sourceLocation)
    if let code { #expect(envelope.codes == [code], "\(response.text)", sourceLocation: sourceLocation) }
    if let text {
        #expect(envelope.messages.contains(text), "\(envelope.messages)", sourceLocation: sourceLocation)
    }
}

extension JSONValue {
    /// The integer, when this is an integer.
    var intValue: Int64? {
        if case .int(let i) = self { return i }
        return nil
    }
}

/// A `multipart/form-data` body as the Python SDK builds it: CRLF line ends, one part per field.
struct MultipartBody: Sendable {
    struct Part: Sendable {
        var name: String
        var filename: String?
        var contentType: String?
        var body: [UInt8]
    }

    var boundary = "871e4a7c5e341274738c194072cc2e51"
    var parts: [Part] = []

    /// The Python SDK's `values.update(value=bytes, metadata=…)`: `value` with `filename="upload"`, then the
    /// metadata part when given.
    static func sdk(
        _ value: [UInt8], metadata: String? = nil, metadataType: String = "application/json"
    )
        -> MultipartBody
    {
        var body = MultipartBody()
        body.parts.append(Part(name: "value", filename: "upload", contentType: "application/octet-stream", body: value))
        if let metadata {
            body.parts.append(Part(name: "metadata", contentType: metadataType, body: Array(metadata.utf8)))
        }
        return body
    }

    var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    var bytes: [UInt8] {
        var out: [UInt8] = []
        for part in parts {
            var head = "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(part.name)\""
            if let filename = part.filename { head += "; filename=\"\(filename)\"" }
            head += "\r\n"
            if let contentType = part.contentType { head += "Content-Type: \(contentType)\r\n" }
            head += "\r\n"
            out += Array(head.utf8) + part.body + Array("\r\n".utf8)
        }
        out += Array("--\(boundary)--\r\n".utf8)
        return out
    }
}
