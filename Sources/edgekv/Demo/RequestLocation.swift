import Edge
import EdgeKVConsistency
import HTTPTypes

/// Where a request to `edgekv serve --consistency eventual` runs: the location its `X-EdgeKV-Location` header names,
/// else its `CF-IPCountry` header, else `default`.
enum RequestLocation {
    static let locationHeader = HTTPField.Name("X-EdgeKV-Location")!
    static let countryHeader = HTTPField.Name("CF-IPCountry")!

    /// The header that names the request's location, and its value; nil when neither is sent.
    static func header(of request: Request) -> (name: HTTPField.Name, value: String)? {
        if let value = request.headers[locationHeader] { return (locationHeader, value) }
        if let value = request.headers[countryHeader] { return (countryHeader, value) }
        return nil
    }

    /// The request's location: the header's value when it is a valid location name, `default` without a header,
    /// nil when the header names no valid location (``check`` answers those).
    static func of(_ request: Request) -> String? {
        guard let header = header(of: request) else { return "default" }
        return ConsistencySimulator.isValidLocation(header.value) ? header.value : nil
    }

    /// Answers 400 to a request whose location header is not a location name, before anything reads KV: a typo in
    /// a test's header should say so rather than quietly run the request at another location.
    static let check = MiddlewareFunction { request, context, next in
        if let header = header(of: request), !ConsistencySimulator.isValidLocation(header.value) {
            let shown = header.value.count > 32 ? "\(header.value.prefix(32))…" : header.value
            throw EdgeError(
                .badRequest,
                "\(header.name.rawName) \(String(reflecting: shown)) is not a location: use 1 to "
                    + "\(ConsistencySimulator.maxLocationLength) letters, digits, '_' or '-'")
        }
        return try await next(request, context)
    }
}
