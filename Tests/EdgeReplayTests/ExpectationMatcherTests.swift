import EdgeKV
import Foundation
import Testing

@testable import EdgeReplay

@Suite("ExpectationMatcher")
struct ExpectationMatcherTests {
    static let now = Fixture.defaultNow * 1000

    /// The expectation of a one-step fixture whose `expect` is `json`.
    static func expectation(_ json: String) throws -> Fixture.Expectation {
        let fixture = try parseFixture(#"{"name": "t", "steps": [{"request": {"path": "/"}, "expect": \#(json)}]}"#)
        guard case .request(_, let expect?) = fixture.steps.first else { throw Failure("no expectation parsed") }
        return expect
    }

    /// The problems `expect` finds in a response.
    static func problems(
        _ expect: String, status: Int = 200, headers: [(String, String)] = [], body: String = "",
        previous: [String: String] = [:]
    ) throws -> [String] {
        let response = ReplayResponse(
            status: status, headers: headers.map { (name: $0.0, value: $0.1) }, body: Array(body.utf8))
        return ExpectationMatcher.check(
            try expectation(expect), response, previousCookies: { previous[$0] }, nowMilliseconds: now)
    }

    // MARK: Status, headers, body

    @Test("status: a mismatch shows both and a hint of the body")
    func status() throws {
        #expect(try Self.problems(#"{"status": 200}"#) == [])
        #expect(
            try Self.problems(#"{"status": 200}"#, status: 404, body: #"{"error":"not found"}"#)
                == [#"status: expected 200, got 404 (body: "{\"error\":\"not found\"}")"#])
        #expect(try Self.problems(#"{"status": 204}"#, status: 200) == ["status: expected 204, got 200"])
    }

    @Test("headers: names are case-insensitive, values exact, a missing one says nothing came")
    func headers() throws {
        let headers = [("content-type", "application/json"), ("X-Trace", "abc")]
        #expect(try Self.problems(#"{"headers": {"Content-Type": "application/json"}}"#, headers: headers) == [])
        #expect(
            try Self.problems(#"{"headers": {"x-trace": "ABC", "X-Missing": "1"}}"#, headers: headers)
                == [#"headers.X-Missing: expected "1", got nothing"#, #"headers.x-trace: expected "ABC", got "abc""#])
    }

    @Test("body is exact; bodyContains looks for a substring")
    func body() throws {
        #expect(try Self.problems(#"{"body": "hello", "bodyContains": "ell"}"#, body: "hello") == [])
        #expect(
            try Self.problems(#"{"body": "hello"}"#, body: "hello\n") == [#"body: expected "hello", got "hello\n""#])
        #expect(
            try Self.problems(#"{"bodyContains": "SESSION_KEYS"}"#, body: "invalid SESSION_STORE")
                == [#"bodyContains: "SESSION_KEYS" is not in "invalid SESSION_STORE""#])
    }

    // MARK: JSON

    @Test("json: a deep subset matches; extra members are fine, arrays must match in length")
    func jsonSubset() throws {
        let body = #"{"user": "alice", "visits": 2, "extra": {"a": [1, {"b": true, "c": null}]}, "more": 1}"#
        #expect(try Self.problems(#"{"json": {"user": "alice"}}"#, body: body) == [])
        #expect(try Self.problems(#"{"json": {"extra": {"a": [1, {"c": null}]}}}"#, body: body) == [])
        #expect(try Self.problems(#"{"json": {}}"#, body: body) == [])
        #expect(try Self.problems(#"{"json": [1, "x"]}"#, body: #"[1, "x"]"#) == [])
        #expect(try Self.problems(#"{"json": "text"}"#, body: #""text""#) == [])
    }

    @Test("json: the first difference is named by its path, followed by expected and got")
    func jsonDifference() throws {
        let body = #"{"user": "bob", "extra": {"a": [1, {"b": true}]}}"#
        let problems = try Self.problems(#"{"json": {"extra": {"a": [1, {"b": false}]}}}"#, body: body)
        #expect(
            problems == [
                "json.extra.a[1].b: expected false, got true\n"
                    + #"      expected (subset): {"extra":{"a":[1,{"b":false}]}}"# + "\n"
                    + #"      got:               {"extra":{"a":[1,{"b":true}]},"user":"bob"}"#
            ])
        let cases: [(String, String)] = [
            (#"{"user": "alice"}"#, #"json.user: expected "alice", got "bob""#),
            (#"{"visits": 1}"#, "json.visits: expected 1, got nothing"),
            (#"{"extra": {"a": [1]}}"#, "json.extra.a: expected 1 elements, got 2"),
            (#"{"extra": [1]}"#, #"json.extra: expected [1], got {"a":[1,{"b":true}]}"#),
            (#"{"extra": {"a": [1, {"b": true, "c": null}]}}"#, "json.extra.a[1].c: expected null, got nothing"),
        ]
        for (expected, line) in cases {
            let got = try Self.problems(#"{"json": \#(expected)}"#, body: body)
            #expect(got.count == 1 && got.first?.components(separatedBy: "\n").first == line, "\(expected): \(got)")
        }
    }

    @Test("json: null is a value, not an absence")
    func jsonNull() throws {
        #expect(try Self.problems(#"{"json": {"user": null}}"#, body: #"{"user": null}"#) == [])
        let problems = try Self.problems(#"{"json": {"user": null}}"#, body: #"{"user": "alice"}"#)
        #expect(problems.first?.hasPrefix(#"json.user: expected null, got "alice""#) == true, "\(problems)")
    }

    @Test("json: an integer equals the same double; different numbers differ")
    func intVersusDouble() throws {
        #expect(try Self.problems(#"{"json": {"n": 1}}"#, body: #"{"n": 1.0}"#) == [])
        #expect(try Self.problems(#"{"json": {"n": 1.0}}"#, body: #"{"n": 1}"#) == [])
        #expect(try Self.problems(#"{"json": {"n": 100}}"#, body: #"{"n": 1e2}"#) == [])
        #expect(try Self.problems(#"{"json": [2.5, 3]}"#, body: #"[2.5, 3.0]"#) == [])
        let fractional = try Self.problems(#"{"json": {"n": 1}}"#, body: #"{"n": 1.5}"#)
        #expect(fractional.first?.hasPrefix("json.n: expected 1, got 1.5") == true, "\(fractional)")
        let other = try Self.problems(#"{"json": {"n": 2.5}}"#, body: #"{"n": 2}"#)
        #expect(other.first?.hasPrefix("json.n: expected 2.5, got 2") == true, "\(other)")
        let string = try Self.problems(#"{"json": {"n": 1}}"#, body: #"{"n": "1"}"#)
        #expect(string.first?.hasPrefix(#"json.n: expected 1, got "1""#) == true, "\(string)")
    }

    @Test("json: a body that is not JSON says what came")
    func jsonNotJSON() throws {
        #expect(
            try Self.problems(#"{"json": {"a": 1}}"#, body: "oops")
                == [#"json: expected a JSON body containing {"a":1}, got "oops""#])
    }

    // MARK: Cookies

    static let keep = "session=new; Max-Age=3600; Path=/; HttpOnly; SameSite=Lax"
    static let clear = "session=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"

    func cookieProblems(_ spec: String, _ setCookies: [String], previous: String? = nil) throws -> [String] {
        try Self.problems(
            #"{"cookies": {"session": \#(spec)}}"#, headers: setCookies.map { ("Set-Cookie", $0) },
            previous: previous.map { ["session": $0] } ?? [:])
    }

    @Test("set: true wants a Set-Cookie that keeps the cookie")
    func setTrue() throws {
        #expect(try cookieProblems(#"{"set": true}"#, [Self.keep]) == [])
        #expect(
            try cookieProblems(#"{"set": true}"#, [])
                == ["cookies.session.set: expected a Set-Cookie that keeps session, got none"])
        #expect(
            try cookieProblems(#"{"set": true}"#, [Self.clear])
                == ["cookies.session.set: expected a Set-Cookie that keeps session, got one that deletes it"])
        #expect(
            try cookieProblems(#"{"set": true}"#, ["other=1"])
                == ["cookies.session.set: expected a Set-Cookie that keeps session, got none"],
            "another cookie's Set-Cookie does not count")
    }

    @Test("set: false wants no Set-Cookie for the name at all")
    func setFalse() throws {
        #expect(try cookieProblems(#"{"set": false}"#, []) == [])
        #expect(try cookieProblems(#"{"set": false}"#, ["other=1"]) == [])
        #expect(
            try cookieProblems(#"{"set": false}"#, [Self.keep])
                == ["cookies.session.set: expected no Set-Cookie for session, got one"])
        #expect(
            try cookieProblems(#"{"set": false}"#, [Self.clear])
                == ["cookies.session.set: expected no Set-Cookie for session, got one"])
    }

    @Test("cleared: Max-Age=0 or an Expires in the past deletes; cleared: false forbids that")
    func cleared() throws {
        #expect(try cookieProblems(#"{"cleared": true}"#, [Self.clear]) == [])
        #expect(
            try cookieProblems(#"{"cleared": true}"#, ["session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT"]) == [])
        #expect(
            try cookieProblems(#"{"cleared": true}"#, [Self.keep])
                == ["cookies.session.cleared: expected a Set-Cookie that deletes session"])
        #expect(
            try cookieProblems(#"{"cleared": true}"#, [])
                == ["cookies.session.cleared: expected a Set-Cookie that deletes session"])
        #expect(try cookieProblems(#"{"cleared": false}"#, [Self.keep]) == [])
        #expect(try cookieProblems(#"{"cleared": false}"#, []) == [])
        #expect(
            try cookieProblems(#"{"cleared": false}"#, [Self.clear])
                == ["cookies.session.cleared: expected session not to be deleted, it was"])
    }

    @Test("changed compares with what the client held before the response")
    func changed() throws {
        #expect(try cookieProblems(#"{"changed": true}"#, [Self.keep], previous: "old") == [])
        #expect(try cookieProblems(#"{"changed": true}"#, [Self.keep]) == [], "a first cookie is a change")
        #expect(
            try cookieProblems(#"{"changed": true}"#, [Self.keep], previous: "new")
                == ["cookies.session.changed: expected the value to change, it stayed the same"])
        #expect(
            try cookieProblems(#"{"changed": true}"#, [], previous: "old")
                == ["cookies.session.changed: expected the value to change, no Set-Cookie came"])
        #expect(
            try cookieProblems(#"{"changed": true}"#, [Self.clear], previous: "old")
                == ["cookies.session.changed: expected the value to change, it was deleted"])
        #expect(try cookieProblems(#"{"changed": false}"#, [Self.keep], previous: "new") == [])
        #expect(try cookieProblems(#"{"changed": false}"#, [], previous: "old") == [])
        #expect(
            try cookieProblems(#"{"changed": false}"#, [Self.keep], previous: "old")
                == ["cookies.session.changed: expected the value to stay, it changed"])
    }

    @Test("attributes: httpOnly, secure, sameSite (any case), path and maxAge")
    func attributes() throws {
        let all = #"{"httpOnly": true, "secure": false, "sameSite": "lax", "path": "/", "maxAge": 3600}"#
        #expect(try cookieProblems(all, [Self.keep]) == [])
        #expect(
            try cookieProblems(all, ["session=x; Max-Age=60; Path=/app; Secure; SameSite=Strict"]) == [
                "cookies.session.httpOnly: expected true, got false",
                "cookies.session.secure: expected false, got true",
                "cookies.session.sameSite: expected lax, got Strict",
                "cookies.session.path: expected /, got /app",
                "cookies.session.maxAge: expected 3600, got 60",
            ])
        #expect(
            try cookieProblems(#"{"sameSite": "Lax", "path": "/", "maxAge": 1}"#, ["session=x"]) == [
                "cookies.session.sameSite: expected Lax, got none",
                "cookies.session.path: expected /, got none",
                "cookies.session.maxAge: expected 1, got none",
            ])
        #expect(
            try cookieProblems(#"{"httpOnly": true}"#, [])
                == ["cookies.session: expected a Set-Cookie for session to check its attributes, got none"])
    }

    @Test("the last Set-Cookie for a name is the one checked")
    func lastWins() throws {
        #expect(try cookieProblems(#"{"cleared": true}"#, [Self.keep, Self.clear]) == [])
        #expect(try cookieProblems(#"{"set": true, "maxAge": 3600}"#, [Self.clear, Self.keep]) == [])
    }

    @Test("every problem is listed, in a stable order")
    func several() throws {
        let problems = try Self.problems(
            #"{"status": 201, "headers": {"X-A": "1"}, "json": {"a": 2}, "body": "x", "bodyContains": "y", "#
                + #""cookies": {"b": {"set": true}, "a": {"set": true}}}"#,
            body: #"{"a":1}"#)
        #expect(problems.count == 7, "\(problems)")
        #expect(
            problems.map { String($0.prefix { $0 != ":" }) }
                == ["status", "headers.X-A", "json.a", "body", "bodyContains", "cookies.a.set", "cookies.b.set"])
    }
}
