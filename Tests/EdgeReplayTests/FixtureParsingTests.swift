import EdgeKV
import EdgeKVTestSupport
import EdgeReplay
import Foundation
import Testing

@Suite("Fixture parsing")
struct FixtureParsingTests {
    /// A broken fixture and the exact message it must give.
    struct Broken: Sendable, CustomTestStringConvertible {
        let label: String
        let json: String
        let message: String

        var testDescription: String { label }
    }

    /// A fixture whose steps[0] is valid and whose steps[1] is `step`.
    static func step(_ step: String) -> String {
        #"{"name": "t", "steps": [{"request": {"path": "/"}, "expect": {"status": 200}}, \#(step)]}"#
    }

    /// A fixture with `env` set to `env`.
    static func env(_ env: String) -> String {
        #"{"name": "t", "env": \#(env), "steps": [{"request": {"path": "/"}, "expect": {"status": 200}}]}"#
    }

    /// A fixture whose steps[1] requests `/` with `expect` set to `expect`.
    static func expect(_ expect: String) -> String { step(#"{"request": {"path": "/"}, "expect": \#(expect)}"#) }

    /// A fixture whose steps[1] is the request `request`.
    static func request(_ request: String) -> String { step(#"{"request": \#(request)}"#) }

    static let topLevel: [Broken] = [
        Broken(
            label: "unknown top-level key", json: #"{"name": "t", "steps": [], "stepz": []}"#,
            message:
                "broken.json: stepz: unknown field "
                + "(expected one of: app, consistency, description, env, name, now, steps)"
        ),
        Broken(
            label: "missing name", json: #"{"steps": []}"#, message: "broken.json: name: required: a non-empty string"),
        Broken(
            label: "empty name", json: #"{"name": "", "steps": []}"#,
            message: "broken.json: name: required: a non-empty string"),
        Broken(
            label: "name of a bad type", json: #"{"name": 7, "steps": []}"#,
            message: "broken.json: name: expected a string"),
        Broken(
            label: "missing steps", json: #"{"name": "t"}"#,
            message: "broken.json: steps: required: an array of steps"),
        Broken(
            label: "steps of a bad type", json: #"{"name": "t", "steps": {}}"#,
            message: "broken.json: steps: required: an array of steps"),
        Broken(
            label: "now of a bad type", json: #"{"name": "t", "now": "today", "steps": []}"#,
            message: "broken.json: now: expected an integer"),
        Broken(label: "not an object", json: "[1]", message: "broken.json: expected an object"),
        Broken(
            label: "consistency.writeLimit of a bad type",
            json: #"{"name": "t", "consistency": {"writeLimit": "yes"}, "steps": []}"#,
            message: "broken.json: consistency.writeLimit: expected true or false"),
        Broken(
            label: "unknown consistency key", json: #"{"name": "t", "consistency": {"ttl": 5}, "steps": []}"#,
            message:
                "broken.json: consistency.ttl: unknown field (expected one of: cacheTtl, propagation, writeLimit)"),
    ]

    static let envCases: [Broken] = [
        Broken(
            label: "env.vars value of a bad type", json: env(#"{"vars": {"SESSION_MAX_AGE": 600}}"#),
            message: "broken.json: env.vars.SESSION_MAX_AGE: expected a string"),
        Broken(
            label: "env.vars of a bad type", json: env(#"{"vars": []}"#),
            message: "broken.json: env.vars: expected an object of strings"),
        Broken(
            label: "unknown env key", json: env(#"{"kvs": {}}"#),
            message: "broken.json: env.kvs: unknown field (expected one of: kv, vars)"),
        Broken(
            label: "env.kv of a bad type", json: env(#"{"kv": []}"#),
            message: "broken.json: env.kv: expected an object of bindings"),
        Broken(
            label: "env.kv binding of a bad type", json: env(#"{"kv": {"SESSIONS": {"key": "a"}}}"#),
            message: "broken.json: env.kv.SESSIONS: expected an array of entries"),
        Broken(
            label: "env.kv entry key of a bad type", json: env(#"{"kv": {"SESSIONS": [{"key": 1, "value": "v"}]}}"#),
            message: "broken.json: env.kv.SESSIONS[0].key: expected a string"),
        Broken(
            label: "env.kv entry without a value", json: env(#"{"kv": {"SESSIONS": [{"key": "a"}]}}"#),
            message: "broken.json: env.kv.SESSIONS[0].value: required: a string"),
        Broken(
            label: "env.kv entry value of a bad type",
            json: env(#"{"kv": {"SESSIONS": [{"key": "a", "value": "v"}, {"key": "b", "value": {"x": 1}}]}}"#),
            message: "broken.json: env.kv.SESSIONS[1].value: expected a string"),
        Broken(
            label: "env.kv entry expiration of a bad type",
            json: env(#"{"kv": {"SESSIONS": [{"key": "a", "value": "v", "expiration": "soon"}]}}"#),
            message: "broken.json: env.kv.SESSIONS[0].expiration: expected an integer"),
        Broken(
            label: "env.kv entry base64 flag of a bad type",
            json: env(#"{"kv": {"SESSIONS": [{"key": "a", "value": "v", "base64": "yes"}]}}"#),
            message: "broken.json: env.kv.SESSIONS[0].base64: expected true or false"),
        Broken(
            label: "env.kv entry with bad base64",
            json: env(#"{"kv": {"SESSIONS": [{"key": "a", "value": "@@@", "base64": true}]}}"#),
            message: "broken.json: env.kv.SESSIONS[0].value: not valid base64"),
        Broken(
            label: "unknown env.kv entry key",
            json: env(#"{"kv": {"SESSIONS": [{"key": "a", "value": "v", "ttl": 60}]}}"#),
            message:
                "broken.json: env.kv.SESSIONS[0].ttl: unknown field "
                + "(expected one of: base64, expiration, key, metadata, value)"
        ),
    ]

    static let stepCases: [Broken] = [
        Broken(label: "step of a bad type", json: step(#""x""#), message: "broken.json: steps[1]: expected an object"),
        Broken(
            label: "step of no kind", json: step(#"{"comment": "only"}"#),
            message: "broken.json: steps[1]: expected one of request, advance, cookies, expectKV"),
        Broken(
            label: "step with two kinds", json: step(#"{"advance": 1, "cookies": {}}"#),
            message: "broken.json: steps[1]: a step has one kind, this one has advance and cookies"),
        Broken(
            label: "request step with a second kind", json: step(#"{"request": {"path": "/"}, "expectKV": {}}"#),
            message: "broken.json: steps[1]: a step has one kind, this one has request and expectKV"),
        Broken(
            label: "unknown key in a request step", json: step(#"{"request": {"path": "/"}, "expct": {}}"#),
            message: "broken.json: steps[1].expct: unknown field (expected one of: comment, expect, request)"),
        Broken(
            label: "expect beside advance", json: step(#"{"advance": 1, "expect": {}}"#),
            message: "broken.json: steps[1].expect: unknown field (expected one of: advance, comment)"),
        Broken(
            label: "unknown key in a request", json: request(#"{"path": "/", "header": {}}"#),
            message:
                "broken.json: steps[1].request.header: unknown field "
                + "(expected one of: base64, body, headers, json, location, method, path, truncated)"
        ),
        Broken(
            label: "request of a bad type", json: request(#""/""#),
            message: "broken.json: steps[1].request: expected an object"),
        Broken(
            label: "method of a bad type", json: request(#"{"method": 42, "path": "/"}"#),
            message: "broken.json: steps[1].request.method: expected a string"),
        Broken(
            label: "method that is no method", json: request(#"{"method": "GET /x", "path": "/"}"#),
            message: "broken.json: steps[1].request.method: not an HTTP method"),
        Broken(
            label: "path of a bad type", json: request(#"{"path": 3}"#),
            message: "broken.json: steps[1].request.path: expected a string"),
        Broken(
            label: "missing path", json: request(#"{"method": "GET"}"#),
            message: "broken.json: steps[1].request.path: required: a string"),
        Broken(
            label: "relative path", json: request(#"{"path": "me"}"#),
            message: "broken.json: steps[1].request.path: must start with /"),
        Broken(
            label: "header value of a bad type", json: request(#"{"path": "/", "headers": {"X-Count": 1}}"#),
            message: "broken.json: steps[1].request.headers.X-Count: expected a string"),
        Broken(
            label: "header name that is no token", json: request(#"{"path": "/", "headers": {"Bad Header": "x"}}"#),
            message: "broken.json: steps[1].request.headers.Bad Header: not a valid header name"),
        Broken(
            label: "location of a bad type", json: request(#"{"path": "/", "location": 5}"#),
            message: "broken.json: steps[1].request.location: expected a string"),
        Broken(
            label: "body and json together", json: request(#"{"path": "/", "body": "x", "json": {}}"#),
            message: "broken.json: steps[1].request: give one of body, json or base64, not body and json"),
        Broken(
            label: "json and base64 together", json: request(#"{"path": "/", "json": 1, "base64": "AA=="}"#),
            message: "broken.json: steps[1].request: give one of body, json or base64, not json and base64"),
        Broken(
            label: "bad base64 body", json: request(#"{"path": "/", "base64": "@@@"}"#),
            message: "broken.json: steps[1].request.base64: not valid base64"),
        Broken(
            label: "body of a bad type", json: request(#"{"path": "/", "body": 5}"#),
            message: "broken.json: steps[1].request.body: expected a string"),
        Broken(
            label: "truncated of a bad type", json: request(#"{"path": "/", "body": "ab", "truncated": "10"}"#),
            message: "broken.json: steps[1].request.truncated: expected an integer"),
        Broken(
            label: "truncated smaller than the body kept",
            json: request(#"{"path": "/", "body": "abc", "truncated": 2}"#),
            message:
                "broken.json: steps[1].request.truncated: the body's full size in bytes: at least the size of the body kept"
        ),
    ]

    static let expectCases: [Broken] = [
        Broken(
            label: "unknown key in expect", json: expect(#"{"stauts": 200}"#),
            message:
                "broken.json: steps[1].expect.stauts: unknown field "
                + "(expected one of: body, bodyContains, cookies, headers, json, status)"
        ),
        Broken(
            label: "status of a bad type", json: expect(#"{"status": "200"}"#),
            message: "broken.json: steps[1].expect.status: expected an integer"),
        Broken(
            label: "fractional status", json: expect(#"{"status": 200.5}"#),
            message: "broken.json: steps[1].expect.status: expected an integer"),
        Broken(
            label: "status out of range", json: expect(#"{"status": 1000}"#),
            message: "broken.json: steps[1].expect.status: not an HTTP status"),
        Broken(
            label: "expected header of a bad type", json: expect(#"{"headers": {"X-Count": 1}}"#),
            message: "broken.json: steps[1].expect.headers.X-Count: expected a string"),
        Broken(
            label: "expected body of a bad type", json: expect(#"{"body": 1}"#),
            message: "broken.json: steps[1].expect.body: expected a string"),
        Broken(
            label: "bodyContains of a bad type", json: expect(#"{"bodyContains": []}"#),
            message: "broken.json: steps[1].expect.bodyContains: expected a string"),
        Broken(
            label: "expected cookies of a bad type", json: expect(#"{"cookies": []}"#),
            message: "broken.json: steps[1].expect.cookies: expected an object"),
        Broken(
            label: "one expected cookie of a bad type", json: expect(#"{"cookies": {"session": true}}"#),
            message: "broken.json: steps[1].expect.cookies.session: expected an object"),
        Broken(
            label: "cookie set of a bad type", json: expect(#"{"cookies": {"session": {"set": "yes"}}}"#),
            message: "broken.json: steps[1].expect.cookies.session.set: expected true or false"),
        Broken(
            label: "cookie maxAge of a bad type", json: expect(#"{"cookies": {"session": {"maxAge": "1h"}}}"#),
            message: "broken.json: steps[1].expect.cookies.session.maxAge: expected an integer"),
        Broken(
            label: "cookie sameSite of a bad type", json: expect(#"{"cookies": {"session": {"sameSite": 1}}}"#),
            message: "broken.json: steps[1].expect.cookies.session.sameSite: expected a string"),
        Broken(
            label: "unknown cookie expectation", json: expect(#"{"cookies": {"session": {"expires": 1}}}"#),
            message:
                "broken.json: steps[1].expect.cookies.session.expires: unknown field "
                + "(expected one of: changed, cleared, httpOnly, maxAge, path, sameSite, secure, set)"
        ),
    ]

    static let otherStepCases: [Broken] = [
        Broken(
            label: "advance of a bad type", json: step(#"{"advance": "10"}"#),
            message: "broken.json: steps[1].advance: expected an integer"),
        Broken(
            label: "fractional advance", json: step(#"{"advance": 1.5}"#),
            message: "broken.json: steps[1].advance: expected an integer"),
        Broken(
            label: "negative advance", json: step(#"{"advance": -5}"#),
            message: "broken.json: steps[1].advance: expected a number of seconds ≥ 0"),
        Broken(
            label: "cookies of a bad type", json: step(#"{"cookies": ["session"]}"#),
            message: "broken.json: steps[1].cookies: expected an object"),
        Broken(
            label: "cookie edit of a bad type", json: step(#"{"cookies": {"session": 5}}"#),
            message: "broken.json: steps[1].cookies.session: expected a string or null"),
        Broken(
            label: "expectKV of a bad type", json: step(#"{"expectKV": []}"#),
            message: "broken.json: steps[1].expectKV: expected an object of bindings"),
        Broken(
            label: "expectKV binding of a bad type", json: step(#"{"expectKV": {"SESSIONS": 1}}"#),
            message: "broken.json: steps[1].expectKV.SESSIONS: expected an object"),
        Broken(
            label: "expectKV count of a bad type", json: step(#"{"expectKV": {"SESSIONS": {"count": "one"}}}"#),
            message: "broken.json: steps[1].expectKV.SESSIONS.count: expected an integer"),
        Broken(
            label: "expectKV has of a bad type", json: step(#"{"expectKV": {"SESSIONS": {"has": "k"}}}"#),
            message: "broken.json: steps[1].expectKV.SESSIONS.has: expected an array of strings"),
        Broken(
            label: "expectKV lacks element of a bad type",
            json: step(#"{"expectKV": {"SESSIONS": {"lacks": ["a", 2]}}}"#),
            message: "broken.json: steps[1].expectKV.SESSIONS.lacks[1]: expected a string"),
        Broken(
            label: "expectKV value of a bad type", json: step(#"{"expectKV": {"SESSIONS": {"values": {"k": 1}}}}"#),
            message: "broken.json: steps[1].expectKV.SESSIONS.values.k: expected a string"),
        Broken(
            label: "unknown expectKV key", json: step(#"{"expectKV": {"SESSIONS": {"keys": []}}}"#),
            message:
                "broken.json: steps[1].expectKV.SESSIONS.keys: unknown field "
                + "(expected one of: count, has, lacks, values)"
        ),
    ]

    @Test("a broken fixture names the file and the field", arguments: topLevel + envCases)
    func brokenTopLevel(_ broken: Broken) {
        #expect(parseError(broken.json) == broken.message)
    }

    @Test("a broken step names the file, the step and the field", arguments: stepCases + expectCases + otherStepCases)
    func brokenStep(_ broken: Broken) {
        #expect(parseError(broken.json) == broken.message)
    }

    @Test("text that is not JSON names the file, the line and the column (in characters)")
    func notJSON() throws {
        let message = try #require(parseError(#"{"name": "t", "steps": [}"#))
        #expect(message.hasPrefix("broken.json: not valid JSON at line 1, column 25: "), "\(message)")
        let multiline = try #require(parseError("{\n  \"name\": \"t\",\n  \"steps\": [\"é€\",]\n}"))
        #expect(multiline.hasPrefix("broken.json: not valid JSON at line 3, column 18: "), "\(multiline)")
        #expect(!multiline.contains("byte"), "\(multiline)")
    }

    @Test("a fixture without steps is broken: it would pass having checked nothing")
    func noSteps() {
        #expect(
            parseError(#"{"name": "t", "steps": []}"#) == "broken.json: steps: empty: a fixture needs at least one step"
        )
    }

    @Test("load names the file's path; a file that cannot be read says so")
    func loadNamesThePath() throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write("login.json", Self.request(#"{"method": 1, "path": "/"}"#))
        #expect(throws: FixtureError.self) { try Fixture.load(path: path) }
        do {
            _ = try Fixture.load(path: path)
        } catch {
            #expect("\(error)" == "\(path): steps[1].request.method: expected a string")
        }
        let missing = dir.file("missing.json")
        do {
            _ = try Fixture.load(path: missing)
            Issue.record("a missing file loaded")
        } catch {
            #expect("\(error)" == "\(missing): cannot read the file")
        }
        let good = try Fixture.load(path: try dir.write("good.json", #"{"name": "g", "steps": [{"advance": 1}]}"#))
        #expect(good.file == dir.file("good.json"))
    }

    @Test("a valid fixture: defaults, bodies, seeds and every step kind")
    func validFixture() throws {
        let fixture = try parseFixture(
            #"""
            {
              "name": "everything", "description": "free text",
              "env": {"vars": {"A": "1"},
                      "kv": {"DATA": [{"key": "k", "value": "aGk=", "base64": true, "metadata": {"m": 1},
                                       "expiration": 1767229200},
                                      {"key": "plain", "value": "text"}]}},
              "consistency": {"propagation": 30},
              "steps": [
                {"request": {"path": "/a?x=1"}, "expect": {"bodyContains": "a"}},
                {"request": {"method": "post", "path": "/b", "json": {"user": "alice"}, "location": "eu",
                             "headers": {"X-One": "1", "Accept": "*/*"}},
                 "expect": {"status": 201, "json": {"ok": true}, "headers": {"X-Y": "z"}, "body": "b",
                            "bodyContains": "c",
                            "cookies": {"session": {"set": true, "cleared": false, "changed": true, "httpOnly": true,
                                                    "secure": false, "sameSite": "Lax", "path": "/", "maxAge": 60}}},
                 "comment": "a comment"},
                {"request": {"method": "PUT", "path": "/c", "base64": "AAEC/w=="}, "expect": {"status": 204}},
                {"request": {"method": "PUT", "path": "/d", "body": "text"}, "expect": {"status": 204}},
                {"advance": 60},
                {"cookies": {"session": "raw value", "other": null}},
                {"expectKV": {"DATA": {"count": 2, "has": ["k"], "lacks": ["x"], "values": {"plain": "text"}}}}
              ]
            }
            """#)
        #expect(fixture.name == "everything")
        #expect(fixture.app == "demo")
        #expect(fixture.now == Fixture.defaultNow)
        #expect(fixture.vars == ["A": "1"])
        let seeds = try #require(fixture.kv["DATA"])
        #expect(seeds.map(\.key) == ["k", "plain"])
        #expect(seeds[0].value == Array("hi".utf8))
        #expect(seeds[0].metadata == ["m": 1])
        #expect(seeds[0].expiration == 1_767_229_200)
        #expect(seeds[1].value == Array("text".utf8) && seeds[1].expiration == nil)
        #expect(fixture.consistency?.propagation == 30)
        #expect(fixture.consistency?.cacheTtl == nil && fixture.consistency?.writeLimit == nil)
        #expect(fixture.steps.count == 7)

        guard case .request(let get, let first) = fixture.steps[0] else { throw Failure("steps[0] is not a request") }
        #expect(get.method == "GET" && get.path == "/a?x=1" && get.body == nil && !get.isJSON)
        #expect(first?.bodyContains == "a" && first?.status == nil && first?.cookies.isEmpty == true)
        guard case .request(let post, let expect?) = fixture.steps[1] else {
            throw Failure("steps[1] is not a request with an expectation")
        }
        #expect(post.method == "POST", "the method is upper-cased")
        #expect(post.isJSON && post.body.map { String(decoding: $0, as: UTF8.self) } == #"{"user":"alice"}"#)
        #expect(post.location == "eu")
        #expect(post.headers.map(\.name) == ["Accept", "X-One"])
        #expect(expect.status == 201 && expect.json == ["ok": true] && expect.headers == ["X-Y": "z"])
        #expect(expect.body == "b" && expect.bodyContains == "c")
        let cookie = try #require(expect.cookies["session"])
        #expect(cookie.set == true && cookie.cleared == false && cookie.changed == true && cookie.httpOnly == true)
        #expect(cookie.secure == false && cookie.sameSite == "Lax" && cookie.path == "/" && cookie.maxAge == 60)
        guard case .request(let put, _) = fixture.steps[2] else { throw Failure("steps[2] is not a request") }
        #expect(put.body == [0, 1, 2, 255] && !put.isJSON)
        guard case .request(let text, _) = fixture.steps[3] else { throw Failure("steps[3] is not a request") }
        #expect(text.body == Array("text".utf8))
        guard case .advance(60) = fixture.steps[4] else { throw Failure("steps[4] is not advance 60") }
        guard case .cookies(let edits) = fixture.steps[5] else { throw Failure("steps[5] is not cookies") }
        #expect(edits.count == 2 && edits["session"] == .some("raw value") && edits["other"] == .some(nil))
        guard case .expectKV(let kv) = fixture.steps[6], let data = kv["DATA"] else {
            throw Failure("steps[6] is not expectKV DATA")
        }
        #expect(data.count == 2 && data.has == ["k"] && data.lacks == ["x"] && data.values == ["plain": "text"])
    }

    @Test("app and now are taken as given")
    func appAndNow() throws {
        let fixture = try parseFixture(#"{"name": "n", "app": "mine", "now": 1000, "steps": [{"advance": 1}]}"#)
        #expect(fixture.app == "mine" && fixture.now == 1000)
    }

    @Test("every bundled fixture parses")
    func bundledFixturesParse() throws {
        let files = try Repo.fixtureFiles()
        #expect(files.count >= 18)
        for file in files {
            let fixture = try Fixture.load(path: file)
            #expect(!fixture.steps.isEmpty, "\(file)")
        }
    }

    @Test("files(in:) finds *.json in folders, sorted, and names a path that does not exist")
    func files() throws {
        let dir = try TemporaryDirectory()
        try dir.write("b.json", "{}")
        try dir.write("a.json", "{}")
        try dir.write("notes.txt", "")
        try dir.write("nested/c.json", "{}")
        let single = try dir.write("single.fixture", "{}")
        let found = try Fixture.files(in: [dir.path, single])
        #expect(found == [dir.file("a.json"), dir.file("b.json"), dir.file("nested/c.json"), single])
        do {
            _ = try Fixture.files(in: [dir.file("nope")])
            Issue.record("a missing path was accepted")
        } catch {
            #expect("\(error)" == "\(dir.file("nope")): no such file or folder")
        }
    }
}

struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
