import MultipartKit

/// A `multipart/form-data` body reduced to its named parts.
struct MultipartForm {
    var parts: [String: [UInt8]] = [:]

    /// Parses a complete body with MultipartKit's parser.
    /// - Throws: ``APIError`` 400 for a missing boundary, a syntax error, a body that ends before the closing
    ///   boundary, or a part without a name.
    static func parse(_ body: [UInt8], contentType: String) throws -> MultipartForm {
        guard let boundary = boundary(in: contentType) else {
            throw APIError.badRequest("Broken multipart body: the Content-Type has no boundary")
        }
        guard boundary.utf8.count <= 200 else { throw APIError.badRequest("Broken multipart body: boundary too long") }
        let closing = Array("--\(boundary)--".utf8)
        guard contains(body, closing) else {
            throw APIError.badRequest("Broken multipart body: it ends before the closing boundary")
        }
        var form = MultipartForm()
        var headers: [(String, String)] = []
        var current: [UInt8] = []
        var problem: String?
        let parser = MultipartParser(boundary: boundary)
        parser.onHeader = { name, value in headers.append((name, value)) }
        parser.onBody = { buffer in current += buffer.readBytes(length: buffer.readableBytes) ?? [] }
        parser.onPartComplete = {
            let disposition = headers.first { $0.0.lowercased() == "content-disposition" }?.1 ?? ""
            if let name = Self.parameter("name", in: disposition) {
                if form.parts[name] == nil { form.parts[name] = current }
            } else {
                problem = "a part has no name in its Content-Disposition"
            }
            headers = []
            current = []
        }
        do {
            try parser.execute(body)
        } catch {
            throw APIError.badRequest("Broken multipart body: syntax error")
        }
        if let problem { throw APIError.badRequest("Broken multipart body: \(problem)") }
        return form
    }

    static func boundary(in contentType: String) -> String? {
        guard let value = parameter("boundary", in: contentType), !value.isEmpty else { return nil }
        return value
    }

    /// A `name=value` or `name="value"` parameter of a header value.
    static func parameter(_ name: String, in header: String) -> String? {
        for part in header.split(separator: ";").dropFirst() {
            let pair = part.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == name else { continue }
            var value = pair[1].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
                value = String(value.dropFirst().dropLast())
            }
            return value
        }
        return nil
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        let first = needle[0]
        var i = 0
        while i <= haystack.count - needle.count {
            if haystack[i] == first, haystack[i..<(i + needle.count)].elementsEqual(needle) { return true }
            i += 1
        }
        return false
    }
}
