import EdgeKV
import Foundation

/// One recorded request sequence, as in `fixtures/*.json`.
public struct Fixture: Sendable {
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

    /// A KV entry to seed.
    public struct SeedEntry: Sendable {
        /// The key.
        public var key: String
        /// The value's bytes.
        public var value: [UInt8]
        /// Metadata.
        public var metadata: JSONValue?
        /// Absolute expiry in seconds.
        public var expiration: Int64?
    }

    /// Settings of the consistency simulator.
    public struct Consistency: Sendable {
        /// Seconds before a write is visible at other locations.
        public var propagation: Int64?
        /// Seconds a location caches a read.
        public var cacheTtl: Int64?
        /// Whether a second write to a key within a second fails with 429.
        public var writeLimit: Bool?
    }

    /// One step.
    public enum Step: Sendable {
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
    public struct RequestStep: Sendable {
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
    }

    /// What a response must show.
    public struct Expectation: Sendable {
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
    }

    /// What a response's `Set-Cookie` for one name must show.
    public struct CookieExpectation: Sendable {
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
    }

    /// What a KV binding must hold.
    public struct KVExpectation: Sendable {
        /// How many keys.
        public var count: Int?
        /// Keys that must exist.
        public var has: [String]
        /// Keys that must not exist.
        public var lacks: [String]
        /// Exact values.
        public var values: [String: String]
    }
}

/// A fixture that breaks the format: the message names the file, the step and the field.
public struct FixtureError: Error, Sendable, CustomStringConvertible {
    /// `fixtures/login.json: steps[1].request.method: expected a string`.
    public let description: String
}
