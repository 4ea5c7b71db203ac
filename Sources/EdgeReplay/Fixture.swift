import EdgeKV
import Foundation

/// One recorded request sequence, as in `fixtures/*.json`.
public struct Fixture: Sendable, Equatable {
    /// The fixture's name.
    public var name: String
    /// The app it runs against (default `demo`).
    public var app: String
    /// Where the virtual clock starts, in epoch seconds.
    public var now: Int64
    /// String vars of the platform env.
    public var vars: [String: String]
    /// KV seed entries by binding.
    public var kv: [String: [SeedEntry]]
    /// The consistency simulator's settings, when the fixture turns it on.
    public var consistency: Consistency?
    /// The steps.
    public var steps: [Step]
    /// The file it came from, if any.
    public var file: String?

    /// The default start of the virtual clock (2026-01-01T00:00:00Z).
    public static let defaultNow: Int64 = 1_767_225_600

    /// A fixture; `file` names the file it came from, if any.
    public init(
        name: String, app: String = "demo", now: Int64 = Fixture.defaultNow, vars: [String: String] = [:],
        kv: [String: [SeedEntry]] = [:], consistency: Consistency? = nil, steps: [Step], file: String? = nil
    ) {
        self.name = name
        self.app = app
        self.now = now
        self.vars = vars
        self.kv = kv
        self.consistency = consistency
        self.steps = steps
        self.file = file
    }

    /// A KV entry to seed.
    public struct SeedEntry: Sendable, Equatable {
        /// The key.
        public var key: String
        /// The value's bytes.
        public var value: [UInt8]
        /// Metadata.
        public var metadata: JSONValue?
        /// Absolute expiry in seconds.
        public var expiration: Int64?

        /// A KV entry to seed.
        public init(key: String, value: [UInt8], metadata: JSONValue? = nil, expiration: Int64? = nil) {
            self.key = key
            self.value = value
            self.metadata = metadata
            self.expiration = expiration
        }
    }

    /// Settings of the consistency simulator.
    public struct Consistency: Sendable, Equatable {
        /// Seconds before a write is visible at other locations.
        public var propagation: Int64?
        /// Seconds a location caches a read.
        public var cacheTtl: Int64?
        /// Whether a second write to a key within a second fails with 429.
        public var writeLimit: Bool?

        /// Settings of the consistency simulator; nil leaves a setting at its default.
        public init(propagation: Int64? = nil, cacheTtl: Int64? = nil, writeLimit: Bool? = nil) {
            self.propagation = propagation
            self.cacheTtl = cacheTtl
            self.writeLimit = writeLimit
        }
    }

    /// One step.
    public enum Step: Sendable, Equatable {
        /// Send a request and check the response.
        case request(RequestStep, Expectation?)
        /// Move the virtual clock.
        case advance(Int64)
        /// Edit the client's cookie jar: a value is sent verbatim, nil drops the cookie.
        case cookies([String: String?])
        /// Check KV state by binding.
        case expectKV([String: KVExpectation])

        /// Whether the step needs the in-process env, clock or KV.
        var needsInProcessState: Bool {
            switch self {
            case .request(let r, _): r.location != nil
            case .advance, .expectKV: true
            case .cookies: false
            }
        }
    }

    /// A request to send.
    public struct RequestStep: Sendable, Equatable {
        /// The method.
        public var method: String
        /// The path with its query.
        public var path: String
        /// Header fields.
        public var headers: [(name: String, value: String)]
        /// The body's bytes.
        public var body: [UInt8]?
        /// Whether the body came from `json` (sets `Content-Type: application/json` unless given).
        public var isJSON: Bool
        /// The location the request is served at (consistency simulator).
        public var location: String?
        /// The full size in bytes of a body the recorder cut (`truncated`): `body` holds only its start, so the
        /// request cannot be sent as it was and the fixture is reported skipped, never passed.
        public var truncated: Int64?

        /// A request to send.
        /// - Parameters:
        ///   - body: the body's bytes; with `isJSON` they are JSON text as ``EdgeKV/JSONValue/serialized`` writes it
        ///     (what the fixture's `json` is read as), written as the fixture's `json`.
        ///   - truncated: the full size of a body of which `body` holds only the start.
        public init(
            method: String = "GET", path: String, headers: [(name: String, value: String)] = [], body: [UInt8]? = nil,
            isJSON: Bool = false, location: String? = nil, truncated: Int64? = nil
        ) {
            self.method = method
            self.path = path
            self.headers = headers
            self.body = body
            self.isJSON = isJSON
            self.location = location
            self.truncated = truncated
        }

        /// Header fields are compared in order.
        public static func == (a: RequestStep, b: RequestStep) -> Bool {
            a.method == b.method && a.path == b.path && a.headers.elementsEqual(b.headers, by: ==) && a.body == b.body
                && a.isJSON == b.isJSON && a.location == b.location && a.truncated == b.truncated
        }
    }

    /// What a response must show.
    public struct Expectation: Sendable, Equatable {
        /// The status.
        public var status: Int?
        /// Header fields that must have these values.
        public var headers: [String: String]
        /// A JSON value the body must contain (deep subset).
        public var json: JSONValue?
        /// The exact body text.
        public var body: String?
        /// Text the body must contain.
        public var bodyContains: String?
        /// Cookie expectations by name.
        public var cookies: [String: CookieExpectation]

        /// What a response must show; a fixture needs at least one of these.
        public init(
            status: Int? = nil, headers: [String: String] = [:], json: JSONValue? = nil, body: String? = nil,
            bodyContains: String? = nil, cookies: [String: CookieExpectation] = [:]
        ) {
            self.status = status
            self.headers = headers
            self.json = json
            self.body = body
            self.bodyContains = bodyContains
            self.cookies = cookies
        }
    }

    /// What a response's `Set-Cookie` for one name must show.
    public struct CookieExpectation: Sendable, Equatable {
        /// true: a Set-Cookie for the name that keeps it; false: no Set-Cookie for the name.
        public var set: Bool?
        /// true: a Set-Cookie that deletes it.
        public var cleared: Bool?
        /// true: its value differs from what the client held; false: it does not.
        public var changed: Bool?
        /// The HttpOnly attribute.
        public var httpOnly: Bool?
        /// The Secure attribute.
        public var secure: Bool?
        /// The SameSite attribute.
        public var sameSite: String?
        /// The Path attribute.
        public var path: String?
        /// The Max-Age attribute.
        public var maxAge: Int64?

        /// What a response's `Set-Cookie` for one name must show; a fixture needs at least one of these.
        public init(
            set: Bool? = nil, cleared: Bool? = nil, changed: Bool? = nil, httpOnly: Bool? = nil, secure: Bool? = nil,
            sameSite: String? = nil, path: String? = nil, maxAge: Int64? = nil
        ) {
            self.set = set
            self.cleared = cleared
            self.changed = changed
            self.httpOnly = httpOnly
            self.secure = secure
            self.sameSite = sameSite
            self.path = path
            self.maxAge = maxAge
        }
    }

    /// What a KV binding must hold.
    public struct KVExpectation: Sendable, Equatable {
        /// How many keys.
        public var count: Int?
        /// Keys that must exist.
        public var has: [String]
        /// Keys that must not exist.
        public var lacks: [String]
        /// Exact values.
        public var values: [String: String]

        /// What a KV binding must hold.
        public init(count: Int? = nil, has: [String] = [], lacks: [String] = [], values: [String: String] = [:]) {
            self.count = count
            self.has = has
            self.lacks = lacks
            self.values = values
        }
    }
}

/// A fixture that breaks the format: the message names the file, the step and the field.
public struct FixtureError: Error, Sendable, CustomStringConvertible {
    /// `fixtures/login.json: steps[1].request.method: expected a string`.
    public let description: String
}
