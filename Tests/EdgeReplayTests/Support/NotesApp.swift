import Edge
import EdgeKV
import EdgeReplay
import Foundation
import HTTPTypes

/// A user's own small app, replayed through the public library API (`ReplayApp` with a handler).
///
/// | route | behaviour |
/// |---|---|
/// | `GET /count` | increments `n` in KV binding `DATA`: `{"n": N}` |
/// | `GET /time` | `{"now": seconds on the request's clock, "greeting": var GREETING or null}` |
/// | `ANY /echo` | the request as the app saw it: method, body, Cookie, Content-Type and X-EdgeKV-Location |
/// | `PUT /kv/KEY` | writes the body to `DATA` (`?ttl=N` for an expiry): 204 |
/// | `GET /kv/KEY` | the value, or 404 |
/// | `POST /later` | writes `later` to `DATA` in `waitUntil` work: 202 |
/// | `GET /cookies` | sets `a` (with an `Expires` date, whose comma URLSession's joined headers keep) and `b` |
/// | `GET /forget` | deletes `a` with an `Expires` in the past |
/// | `GET /boom` | throws |
enum NotesApp {
    struct Boom: Error {}

    struct Echo: Encodable {
        var method: String
        var body: String
        var cookie: String?
        var contentType: String?
        var location: String?

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(method, forKey: .method)
            try c.encode(body, forKey: .body)
            try c.encode(cookie, forKey: .cookie)  // null, not absent
            try c.encode(contentType, forKey: .contentType)
            try c.encode(location, forKey: .location)
        }
        enum CodingKeys: String, CodingKey { case method, body, cookie, contentType, location }
    }

    struct Time: Encodable {
        var now: Int64
        var greeting: String?

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(now, forKey: .now)
            try c.encode(greeting, forKey: .greeting)
        }
        enum CodingKeys: String, CodingKey { case now, greeting }
    }

    static let handler: Handler = { request, context in
        let path = request.path
        switch (request.method, path) {
        case (.get, "/count"):
            let kv = try context.env.kv("DATA")
            let n = (Int(try await kv.get("n") ?? "0") ?? 0) + 1
            try await kv.put("n", String(n))
            return try Response.json(["n": n])
        case (.get, "/time"):
            return try Response.json(
                Time(now: context.clock.nowMilliseconds() / 1000, greeting: context.env.string("GREETING")))
        case (_, "/echo"):
            return try Response.json(
                Echo(
                    method: request.method.rawValue, body: try await request.text(),
                    cookie: request.headers[.cookie], contentType: request.headers[.contentType],
                    location: request.headers[HTTPField.Name("X-EdgeKV-Location")!]))
        case (.post, "/later"):
            let kv = try context.env.kv("DATA")
            context.waitUntil { try? await kv.put("later", "done") }
            return .empty(status: .accepted)
        case (.get, "/cookies"):
            let inAnHour = Date(timeIntervalSince1970: Double(context.clock.nowMilliseconds() / 1000 + 3600))
            try context.setCookie("a", "1", options: CookieOptions(path: "/", expires: inAnHour, httpOnly: true))
            try context.setCookie("b", "2", options: CookieOptions(maxAge: 60))
            return .empty()
        case (.get, "/forget"):
            try context.setCookie("a", "", options: CookieOptions(expires: Date(timeIntervalSince1970: 0)))
            return .empty()
        case (.get, "/boom"):
            throw Boom()
        case (.put, _) where path.hasPrefix("/kv/"):
            let kv = try context.env.kv("DATA")
            let ttl = request.queryValue("ttl").flatMap { Int64($0) }
            try await kv.put(
                String(path.dropFirst(4)), try await request.text(), options: KVPutOptions(expirationTtl: ttl))
            return .empty()
        case (.get, _) where path.hasPrefix("/kv/"):
            guard let value = try await context.env.kv("DATA").get(String(path.dropFirst(4))) else {
                return try Response.json(["error": "no such key"], status: .notFound)
            }
            return Response.text(value)
        default:
            return try Response.json(["error": "not found"], status: .notFound)
        }
    }

    /// The app as fixtures name it (`"app": "notes"`), with its binding `DATA`.
    static let app = ReplayApp(name: "notes", kvBindings: ["DATA"], handler: handler)
}
