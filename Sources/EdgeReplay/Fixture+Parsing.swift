import EdgeKV
import Foundation
import HTTPTypes

extension Fixture {
    /// Loads and validates a fixture file.
    /// - Throws: ``FixtureError`` naming the file, the step and the field.
    public static func load(path: String) throws -> Fixture {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FixtureError(description: "\(path): cannot read the file")
        }
        var fixture = try parse(Array(data), file: path)
        fixture.file = path
        return fixture
    }

    /// Parses and validates fixture JSON.
    /// - Throws: ``FixtureError`` naming `file`, the step and the field.
    public static func parse(_ bytes: [UInt8], file: String = "fixture") throws -> Fixture {
        let root: JSONValue
        do {
            root = try JSONValue(parsing: bytes)
        } catch let error as JSONValue.ParseError {
            let (line, column) = Self.lineAndColumn(of: error.offset, in: bytes)
            throw FixtureError(
                description: "\(file): not valid JSON at line \(line), column \(column): \(error.reason)")
        }
        var p = Parser(file: file)
        return try p.fixture(root)
    }

    /// The 1-based line and column of a byte offset, as editors count them: columns in characters, not bytes.
    static func lineAndColumn(of offset: Int, in bytes: [UInt8]) -> (line: Int, column: Int) {
        let before = bytes[..<min(max(offset, 0), bytes.count)]
        let lineStart = before.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0
        let line = before.reduce(1) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
        return (line, String(decoding: before[lineStart...], as: UTF8.self).count + 1)
    }

    /// Every fixture file under the paths (files, or folders searched for `*.json`), sorted by path.
    /// - Throws: ``FixtureError`` for a path that does not exist.
    public static func files(in paths: [String]) throws -> [String] {
        var files: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw FixtureError(description: "\(path): no such file or folder")
            }
            if isDirectory.boolValue {
                let found = (FileManager.default.enumerator(atPath: path)?.allObjects as? [String] ?? [])
                    .filter { $0.hasSuffix(".json") }
                    .map { (path as NSString).appendingPathComponent($0) }
                files += found.sorted()
            } else {
                files.append(path)
            }
        }
        return files
    }
}

/// Walks the JSON with a path for error messages.
struct Parser {
    let file: String

    func fail(_ path: String, _ message: String) -> FixtureError {
        FixtureError(description: "\(file): \(path.isEmpty ? "" : "\(path): ")\(message)")
    }

    func object(_ value: JSONValue, _ path: String, allowed: Set<String>) throws -> [String: JSONValue] {
        guard let o = value.objectValue else { throw fail(path, "expected an object") }
        if let unknown = o.keys.filter({ !allowed.contains($0) }).sorted().first {
            throw fail(
                path.isEmpty ? unknown : "\(path).\(unknown)",
                "unknown field (expected one of: \(allowed.sorted().joined(separator: ", ")))")
        }
        return o
    }

    func string(_ value: JSONValue?, _ path: String) throws -> String? {
        guard let value, value != .null else { return nil }
        guard let s = value.stringValue else { throw fail(path, "expected a string") }
        return s
    }

    func int(_ value: JSONValue?, _ path: String) throws -> Int64? {
        switch value {
        case nil, .null: return nil
        case .int(let i): return i
        case .double(let d) where d == d.rounded() && abs(d) < 9e15: return Int64(d)
        default: throw fail(path, "expected an integer")
        }
    }

    func bool(_ value: JSONValue?, _ path: String) throws -> Bool? {
        switch value {
        case nil, .null: return nil
        case .bool(let b): return b
        default: throw fail(path, "expected true or false")
        }
    }

    func stringMap(_ value: JSONValue?, _ path: String) throws -> [String: String] {
        guard let value, value != .null else { return [:] }
        guard let o = value.objectValue else { throw fail(path, "expected an object of strings") }
        var out: [String: String] = [:]
        for (k, v) in o {
            guard let s = v.stringValue else { throw fail("\(path).\(k)", "expected a string") }
            out[k] = s
        }
        return out
    }

    func stringList(_ value: JSONValue?, _ path: String) throws -> [String] {
        guard let value, value != .null else { return [] }
        guard let a = value.arrayValue else { throw fail(path, "expected an array of strings") }
        return try a.enumerated().map { i, v in
            guard let s = v.stringValue else { throw fail("\(path)[\(i)]", "expected a string") }
            return s
        }
    }

    mutating func fixture(_ root: JSONValue) throws -> Fixture {
        let o = try object(root, "", allowed: ["name", "app", "now", "env", "consistency", "steps", "description"])
        guard let name = try string(o["name"], "name"), !name.isEmpty else {
            throw fail("name", "required: a non-empty string")
        }
        let app = try string(o["app"], "app") ?? "demo"
        let now = try int(o["now"], "now") ?? Fixture.defaultNow
        var vars: [String: String] = [:]
        var kv: [String: [Fixture.SeedEntry]] = [:]
        if let env = o["env"], env != .null {
            let e = try object(env, "env", allowed: ["vars", "kv"])
            vars = try stringMap(e["vars"], "env.vars")
            if let seeds = e["kv"], seeds != .null {
                guard let bindings = seeds.objectValue else { throw fail("env.kv", "expected an object of bindings") }
                for (binding, entries) in bindings {
                    let path = "env.kv.\(binding)"
                    guard let list = entries.arrayValue else { throw fail(path, "expected an array of entries") }
                    kv[binding] = try list.enumerated().map { i, entry in try seed(entry, "\(path)[\(i)]") }
                }
            }
        }
        var consistency: Fixture.Consistency?
        if let c = o["consistency"], c != .null {
            let co = try object(c, "consistency", allowed: ["propagation", "cacheTtl", "writeLimit"])
            consistency = Fixture.Consistency(
                propagation: try int(co["propagation"], "consistency.propagation"),
                cacheTtl: try int(co["cacheTtl"], "consistency.cacheTtl"),
                writeLimit: try bool(co["writeLimit"], "consistency.writeLimit"))
        }
        guard let rawSteps = o["steps"]?.arrayValue else { throw fail("steps", "required: an array of steps") }
        let steps = try rawSteps.enumerated().map { i, s in try step(s, "steps[\(i)]") }
        // A fixture that checks nothing would count as passed.
        guard !steps.isEmpty else { throw fail("steps", "empty: a fixture needs at least one step") }
        return Fixture(
            name: name, app: app, now: now, vars: vars, kv: kv, consistency: consistency, steps: steps, file: nil)
    }

    func seed(_ value: JSONValue, _ path: String) throws -> Fixture.SeedEntry {
        let o = try object(value, path, allowed: ["key", "value", "base64", "metadata", "expiration"])
        guard let key = try string(o["key"], "\(path).key") else { throw fail("\(path).key", "required: a string") }
        guard let text = try string(o["value"], "\(path).value") else {
            throw fail("\(path).value", "required: a string")
        }
        var bytes = Array(text.utf8)
        if try bool(o["base64"], "\(path).base64") == true {
            guard let data = Data(base64Encoded: text) else { throw fail("\(path).value", "not valid base64") }
            bytes = Array(data)
        }
        return Fixture.SeedEntry(
            key: key, value: bytes, metadata: o["metadata"].flatMap { $0 == .null ? nil : $0 },
            expiration: try int(o["expiration"], "\(path).expiration"))
    }

    func step(_ value: JSONValue, _ path: String) throws -> Fixture.Step {
        guard let o = value.objectValue else { throw fail(path, "expected an object") }
        let kinds = ["request", "advance", "cookies", "expectKV"].filter { o[$0] != nil }
        if kinds.count > 1 {
            throw fail(path, "a step has one kind, this one has \(kinds.joined(separator: " and "))")
        }
        guard let kind = kinds.first else {
            throw fail(path, "expected one of request, advance, cookies, expectKV")
        }
        switch kind {
        case "request":
            let so = try object(value, path, allowed: ["request", "expect", "comment"])
            let request = try request(so["request"]!, "\(path).request")
            // A request that asserts nothing would count as passed whatever the app answered.
            guard let expect = so["expect"], expect != .null else {
                throw fail(
                    path,
                    "a request step needs an \"expect\" with at least one of: "
                        + Self.expectationFields.joined(separator: ", ")
                )
            }
            return .request(request, try expectation(expect, "\(path).expect"))
        case "advance":
            _ = try object(value, path, allowed: ["advance", "comment"])
            guard let seconds = try int(o["advance"], "\(path).advance"), seconds >= 0 else {
                throw fail("\(path).advance", "expected a number of seconds ≥ 0")
            }
            return .advance(seconds)
        case "cookies":
            _ = try object(value, path, allowed: ["cookies", "comment"])
            guard let edits = o["cookies"]?.objectValue else { throw fail("\(path).cookies", "expected an object") }
            var out: [String: String?] = [:]
            for (name, v) in edits {
                if v == .null {
                    out.updateValue(nil, forKey: name)
                } else {
                    guard let s = v.stringValue else {
                        throw fail("\(path).cookies.\(name)", "expected a string or null")
                    }
                    out[name] = s
                }
            }
            return .cookies(out)
        default:
            _ = try object(value, path, allowed: ["expectKV", "comment"])
            guard let bindings = o["expectKV"]?.objectValue else {
                throw fail("\(path).expectKV", "expected an object of bindings")
            }
            var out: [String: Fixture.KVExpectation] = [:]
            for (binding, spec) in bindings {
                let bp = "\(path).expectKV.\(binding)"
                let so = try object(spec, bp, allowed: ["count", "has", "lacks", "values"])
                out[binding] = Fixture.KVExpectation(
                    count: try int(so["count"], "\(bp).count").map { Int($0) },
                    has: try stringList(so["has"], "\(bp).has"),
                    lacks: try stringList(so["lacks"], "\(bp).lacks"),
                    values: try stringMap(so["values"], "\(bp).values"))
            }
            return .expectKV(out)
        }
    }

    func request(_ value: JSONValue, _ path: String) throws -> Fixture.RequestStep {
        let o = try object(
            value, path, allowed: ["method", "path", "headers", "body", "json", "base64", "location", "truncated"])
        let method = try string(o["method"], "\(path).method")?.uppercased() ?? "GET"
        guard method.allSatisfy({ $0.isLetter }) else { throw fail("\(path).method", "not an HTTP method") }
        guard let target = try string(o["path"], "\(path).path") else {
            throw fail("\(path).path", "required: a string")
        }
        guard target.hasPrefix("/") else { throw fail("\(path).path", "must start with /") }
        let headers = try stringMap(o["headers"], "\(path).headers").sorted { $0.key < $1.key }.map {
            ($0.key, $0.value)
        }
        // A name HTTP cannot carry would be dropped in-process and refused over HTTP: say so up front.
        if let bad = headers.first(where: { HTTPField.Name($0.0) == nil }) {
            throw fail("\(path).headers.\(bad.0)", "not a valid header name")
        }
        let bodies = ["body", "json", "base64"].filter { o[$0] != nil }
        if bodies.count > 1 {
            throw fail(path, "give one of body, json or base64, not \(bodies.joined(separator: " and "))")
        }
        var body: [UInt8]?
        var isJSON = false
        if let text = try string(o["body"], "\(path).body") { body = Array(text.utf8) }
        if let json = o["json"] {
            body = Array(json.serialized.utf8)
            isJSON = true
        }
        if let b64 = try string(o["base64"], "\(path).base64") {
            guard let data = Data(base64Encoded: b64) else { throw fail("\(path).base64", "not valid base64") }
            body = Array(data)
        }
        let truncated = try int(o["truncated"], "\(path).truncated")
        if let truncated, truncated < (body?.count).map(Int64.init) ?? 0 {
            throw fail("\(path).truncated", "the body's full size in bytes: at least the size of the body kept")
        }
        return Fixture.RequestStep(
            method: method, path: target, headers: headers, body: body, isJSON: isJSON,
            location: try string(o["location"], "\(path).location"), truncated: truncated)
    }

    static let expectationFields = ["status", "headers", "json", "body", "bodyContains", "cookies"]
    static let cookieExpectationFields = [
        "set", "cleared", "changed", "httpOnly", "secure", "sameSite", "path", "maxAge",
    ]

    func expectation(_ value: JSONValue, _ path: String) throws -> Fixture.Expectation {
        let o = try object(value, path, allowed: Set(Self.expectationFields))
        var cookies: [String: Fixture.CookieExpectation] = [:]
        if let c = o["cookies"], c != .null {
            guard let names = c.objectValue else { throw fail("\(path).cookies", "expected an object") }
            for (name, spec) in names {
                let cp = "\(path).cookies.\(name)"
                let co = try object(spec, cp, allowed: Set(Self.cookieExpectationFields))
                if co.values.allSatisfy({ $0 == .null }) {
                    throw fail(
                        cp,
                        "asserts nothing: give at least one of \(Self.cookieExpectationFields.joined(separator: ", "))")
                }
                cookies[name] = Fixture.CookieExpectation(
                    set: try bool(co["set"], "\(cp).set"), cleared: try bool(co["cleared"], "\(cp).cleared"),
                    changed: try bool(co["changed"], "\(cp).changed"),
                    httpOnly: try bool(co["httpOnly"], "\(cp).httpOnly"),
                    secure: try bool(co["secure"], "\(cp).secure"),
                    sameSite: try string(co["sameSite"], "\(cp).sameSite"),
                    path: try string(co["path"], "\(cp).path"), maxAge: try int(co["maxAge"], "\(cp).maxAge"))
            }
        }
        let status = try int(o["status"], "\(path).status")
        if let status, !(100...599).contains(status) { throw fail("\(path).status", "not an HTTP status") }
        let expectation = Fixture.Expectation(
            status: status.map { Int($0) }, headers: try stringMap(o["headers"], "\(path).headers"),
            json: o["json"], body: try string(o["body"], "\(path).body"),
            bodyContains: try string(o["bodyContains"], "\(path).bodyContains"),
            cookies: cookies)
        if expectation.status == nil && expectation.headers.isEmpty && expectation.json == nil
            && expectation.body == nil && expectation.bodyContains == nil && expectation.cookies.isEmpty
        {
            throw fail(
                path, "asserts nothing: give at least one of \(Self.expectationFields.joined(separator: ", "))")
        }
        return expectation
    }
}
