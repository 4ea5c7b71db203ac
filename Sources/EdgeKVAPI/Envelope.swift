import Edge
import EdgeKV
import HTTPTypes

/// Cloudflare's response envelope.
enum Envelope {
    static func success(
        _ result: JSONValue, resultInfo: JSONValue? = nil, status: HTTPResponse.Status = .ok
    ) -> Response {
        var body: [String: JSONValue] = ["success": true, "errors": [], "messages": [], "result": result]
        if let resultInfo { body["result_info"] = resultInfo }
        return json(.object(body), status: status)
    }

    static func failure(_ error: APIError, headers: HTTPFields = [:]) -> Response {
        let body: JSONValue = [
            "success": false, "errors": [["code": .int(Int64(error.code)), "message": .string(error.message)]],
            "messages": [], "result": .null,
        ]
        return json(body, status: HTTPResponse.Status(code: error.status), headers: headers)
    }

    static func json(_ value: JSONValue, status: HTTPResponse.Status, headers: HTTPFields = [:]) -> Response {
        Response.bytes(Array(value.serialized.utf8), status: status, headers: headers, contentType: "application/json")
    }
}
