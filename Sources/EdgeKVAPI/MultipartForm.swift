import EdgeSupport
import Foundation
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
        guard ByteSearch.contains(body, closing) else {
            throw APIError.badRequest("Broken multipart body: it ends before the closing boundary")
        }
        if hasNonASCIIHeaderName(body, boundary: Array(boundary.utf8)) {
            throw APIError.badRequest("Broken multipart body: a part's header name is not ASCII")
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

    /// Whether a byte of 0x80 or more sits where MultipartKit would read a part's header name.
    ///
    /// MultipartKit 4.7.1 traps on such a byte (`isAllowedHeaderFieldNameCharacter` indexes a 128-entry table with
    /// it), which would take the whole server down, so these bodies are refused before the parser sees them. The
    /// parser only reads headers right after an occurrence of `--boundary`; from every occurrence this follows its
    /// header grammar (CRLF, then `name: value` lines, each ended by CRLF, until an empty line). A line start is
    /// walked once, so the scan stays linear in the body's size.
    static func hasNonASCIIHeaderName(_ body: [UInt8], boundary: [UInt8]) -> Bool {
        let cr: UInt8 = 13
        let lf: UInt8 = 10
        let colon: UInt8 = 58
        let delimiter: [UInt8] = [45, 45] + boundary
        var walked = Set<Int>()
        var searchFrom = 0
        while let start = ByteSearch.firstIndex(of: delimiter, in: body, from: searchFrom) {
            searchFrom = start + 1
            var p = start + delimiter.count
            guard p + 1 < body.count, body[p] == cr, body[p + 1] == lf else { continue }
            p += 2
            lines: while p < body.count, walked.insert(p).inserted {
                var nameLength = 0
                name: while p < body.count {
                    switch body[p] {
                    case 0x80...: return true
                    case colon where nameLength > 0:
                        p += 1
                        break name
                    case cr: break lines  // the end of the headers, or a name the parser refuses
                    default:
                        nameLength += 1
                        p += 1
                    }
                }
                while p < body.count, body[p] != cr { p += 1 }
                guard p + 1 < body.count, body[p + 1] == lf else { break }
                p += 2
            }
        }
        return false
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
}
