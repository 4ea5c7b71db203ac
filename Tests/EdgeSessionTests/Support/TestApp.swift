import Edge
import EdgeKV
import EdgeSession
import Foundation
import HTTPTypes

/// The session data of the test app.
struct AppData: Codable, Sendable, Equatable {
    var visits = 0
    var user: String?
    var note: String?
}

/// What `GET /state` answers.
struct StateBody: Codable, Equatable {
    var fresh: Bool
    var id: String?
    var visits: Int
    var user: String?
}

/// A plain error a route throws.
struct RouteFailure: Error {}

/// The routes the suites drive, close to the demo app's: `/` counts visits, `/login` sets the user and regenerates,
/// `/me` only reads, `/logout` destroys, `/fail` changes the session and throws, `/big?n=N` stores N bytes.
let testApp: Handler = { request, context in
    let session = try context.session(AppData.self)
    switch (request.method, request.path) {
    case (.get, "/"):
        let visits = session.withData { data in
            data.visits += 1
            return data.visits
        }
        return try .json(["visits": visits])
    case (.get, "/me"):
        let data = session.data
        guard let user = data.user else { return try .json(["user": String?.none], status: .unauthorized) }
        return try .json(StateBody(fresh: session.isFresh, id: session.id, visits: data.visits, user: user))
    case (.get, "/state"):
        let data = session.data
        return try .json(StateBody(fresh: session.isFresh, id: session.id, visits: data.visits, user: data.user))
    case (.post, "/login"):
        session.withData { $0.user = request.queryValue("user") ?? "alice" }
        session.regenerate()
        return try .json(["user": session.data.user])
    case (.post, "/logout"):
        session.destroy()
        return try .json(["user": String?.none])
    case (.get, "/fail"):
        session.withData { $0.visits = 99 }
        throw RouteFailure()
    case (.get, "/big"):
        let n = Int(request.queryValue("n") ?? "") ?? 5000
        session.withData { $0.note = String(repeating: "x", count: n) }
        return .empty(status: .ok)
    case (.get, "/noop"):
        return .text("ok")
    default:
        return try .json(["error": "not found"], status: .notFound)
    }
}

extension Response {
    /// The body decoded from JSON.
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(type, from: Data(body.bufferedBytes ?? []))
    }

    /// The `Set-Cookie` fields, parsed.
    var setCookies: [SetCookieView] {
        headers[values: .setCookie].map(SetCookieView.init)
    }

    /// The `Set-Cookie` for `name`, if any.
    func setCookie(_ name: String = "session") -> SetCookieView? {
        setCookies.last { $0.name == name }
    }
}

/// A `Set-Cookie` header, read the way a browser reads it.
struct SetCookieView: Equatable, CustomStringConvertible {
    var name: String
    /// The value as on the wire (still percent-encoded).
    var value: String
    /// Attribute names lowercased → value ("" for flags).
    var attributes: [String: String]
    var description: String

    init(_ header: String) {
        description = header
        let parts = header.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        let first = parts.first ?? ""
        let eq = first.firstIndex(of: "=") ?? first.endIndex
        name = String(first[..<eq])
        value = eq < first.endIndex ? String(first[first.index(after: eq)...]) : ""
        var attributes: [String: String] = [:]
        for part in parts.dropFirst() {
            if let eq = part.firstIndex(of: "=") {
                attributes[part[..<eq].lowercased()] = String(part[part.index(after: eq)...])
            } else {
                attributes[part.lowercased()] = ""
            }
        }
        self.attributes = attributes
    }

    var maxAge: Int? { attributes["max-age"].flatMap { Int($0) } }
    var isDeletion: Bool { value.isEmpty && maxAge == 0 }
    func has(_ flag: String) -> Bool { attributes[flag.lowercased()] != nil }
}

/// A client that keeps the session cookie. It deliberately does not drop cookies when their `Max-Age` passes:
/// the server must refuse expired sessions on its own.
struct Browser {
    /// Cookie name → value as on the wire.
    var cookies: [String: String] = [:]

    var session: String? {
        get { cookies["session"] }
        set { cookies["session"] = newValue }
    }

    func request(
        _ method: HTTPRequest.Method = .get, _ target: String, scheme: String = "http", headers: HTTPFields = [:]
    ) -> Request {
        var fields = headers
        if !cookies.isEmpty {
            fields[.cookie] = cookies.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
        }
        return Request(method: method, target, headers: fields, scheme: scheme)
    }

    mutating func receive(_ response: Response) {
        for cookie in response.setCookies {
            cookies[cookie.name] = cookie.isDeletion ? nil : cookie.value
        }
    }
}
