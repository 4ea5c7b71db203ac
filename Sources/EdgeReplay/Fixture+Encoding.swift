import EdgeKV
import Foundation

// Fixtures as JSON in the format `Fixture.parse` reads: `Fixture.parse(fixture.encoded)` gives the fixture back
// (less its `file`, and with a body's bytes written as text, JSON or base64 as they allow).

extension Fixture {
    /// The fixture as JSON; fields at their default are left out.
    public var jsonValue: JSONValue {
        var o: [String: JSONValue] = ["name": .string(name), "steps": .array(steps.map(\.jsonValue))]
        if app != "demo" { o["app"] = .string(app) }
        if now != Fixture.defaultNow { o["now"] = .int(now) }
        var env: [String: JSONValue] = [:]
        if !vars.isEmpty { env["vars"] = .object(vars.mapValues { .string($0) }) }
        if !kv.isEmpty { env["kv"] = .object(kv.mapValues { .array($0.map(\.jsonValue)) }) }
        if !env.isEmpty { o["env"] = .object(env) }
        if let consistency { o["consistency"] = consistency.jsonValue }
        return .object(o)
    }

    /// The text of a fixture file: ``jsonValue`` pretty-printed (see ``EdgeKV/JSONValue/prettyPrinted(indent:)``) and a
    /// newline.
    public var encoded: [UInt8] { Array((jsonValue.prettyPrinted() + "\n").utf8) }
}

extension Fixture.SeedEntry {
    /// The entry as JSON: the value as text when it is UTF-8, else as base64 with `"base64": true`.
    public var jsonValue: JSONValue {
        var o: [String: JSONValue] = ["key": .string(key)]
        if let text = String(validating: value, as: UTF8.self) {
            o["value"] = .string(text)
        } else {
            o["value"] = .string(base64(value))
            o["base64"] = true
        }
        if let metadata { o["metadata"] = metadata }
        if let expiration { o["expiration"] = .int(expiration) }
        return .object(o)
    }
}

extension Fixture.Consistency {
    /// The settings as JSON.
    public var jsonValue: JSONValue {
        var o: [String: JSONValue] = [:]
        if let propagation { o["propagation"] = .int(propagation) }
        if let cacheTtl { o["cacheTtl"] = .int(cacheTtl) }
        if let writeLimit { o["writeLimit"] = .bool(writeLimit) }
        return .object(o)
    }
}

extension Fixture.Step {
    /// The step as JSON.
    public var jsonValue: JSONValue {
        switch self {
        case .request(let request, let expectation):
            var o: [String: JSONValue] = ["request": request.jsonValue]
            if let expectation { o["expect"] = expectation.jsonValue }
            return .object(o)
        case .advance(let seconds):
            return ["advance": .int(seconds)]
        case .cookies(let edits):
            return ["cookies": .object(edits.mapValues { $0.map(JSONValue.string) ?? .null })]
        case .expectKV(let bindings):
            return ["expectKV": .object(bindings.mapValues(\.jsonValue))]
        }
    }
}

extension Fixture.RequestStep {
    /// The request as JSON: the body as `json` when it came from JSON, else as `body` text when it is UTF-8, else
    /// as `base64`.
    public var jsonValue: JSONValue {
        var o: [String: JSONValue] = ["method": .string(method), "path": .string(path)]
        if !headers.isEmpty {
            o["headers"] = .object(
                Dictionary(headers.map { ($0.name, JSONValue.string($0.value)) }) { _, last in last })
        }
        if let body {
            if isJSON, let json = try? JSONValue(parsing: body) {
                o["json"] = json
            } else if let text = String(validating: body, as: UTF8.self) {
                o["body"] = .string(text)
            } else {
                o["base64"] = .string(base64(body))
            }
        }
        if let location { o["location"] = .string(location) }
        if let truncated { o["truncated"] = .int(truncated) }
        return .object(o)
    }
}

extension Fixture.Expectation {
    /// The expectation as JSON.
    public var jsonValue: JSONValue {
        var o: [String: JSONValue] = [:]
        if let status { o["status"] = .int(Int64(status)) }
        if !headers.isEmpty { o["headers"] = .object(headers.mapValues { .string($0) }) }
        if let json { o["json"] = json }
        if let body { o["body"] = .string(body) }
        if let bodyContains { o["bodyContains"] = .string(bodyContains) }
        if !cookies.isEmpty { o["cookies"] = .object(cookies.mapValues(\.jsonValue)) }
        return .object(o)
    }
}

extension Fixture.CookieExpectation {
    /// The expectation as JSON.
    public var jsonValue: JSONValue {
        var o: [String: JSONValue] = [:]
        if let set { o["set"] = .bool(set) }
        if let cleared { o["cleared"] = .bool(cleared) }
        if let changed { o["changed"] = .bool(changed) }
        if let httpOnly { o["httpOnly"] = .bool(httpOnly) }
        if let secure { o["secure"] = .bool(secure) }
        if let sameSite { o["sameSite"] = .string(sameSite) }
        if let path { o["path"] = .string(path) }
        if let maxAge { o["maxAge"] = .int(maxAge) }
        return .object(o)
    }
}

extension Fixture.KVExpectation {
    /// The expectation as JSON.
    public var jsonValue: JSONValue {
        var o: [String: JSONValue] = [:]
        if let count { o["count"] = .int(Int64(count)) }
        if !has.isEmpty { o["has"] = .array(has.map(JSONValue.string)) }
        if !lacks.isEmpty { o["lacks"] = .array(lacks.map(JSONValue.string)) }
        if !values.isEmpty { o["values"] = .object(values.mapValues { .string($0) }) }
        return .object(o)
    }
}

private func base64(_ bytes: [UInt8]) -> String {
    Data(bytes).base64EncodedString()
}
