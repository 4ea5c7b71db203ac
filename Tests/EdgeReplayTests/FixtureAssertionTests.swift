import EdgeReplay
import Testing

/// A request step that asserts nothing would pass whatever the app answered: such a fixture does not load.
@Suite("Fixture request steps must assert something")
struct FixtureAssertionTests {
    static let fields = "status, headers, json, body, bodyContains, cookies"

    struct Case: Sendable, CustomTestStringConvertible {
        let label: String
        let step: String
        let message: String
        var testDescription: String { label }
    }

    static let cases: [Case] = [
        Case(
            label: "no expect", step: #"{"request": {"path": "/me"}}"#,
            message: "login.json: steps[1]: a request step needs an \"expect\" with at least one of: \(fields)"),
        Case(
            label: "expect: null", step: #"{"request": {"path": "/me"}, "expect": null}"#,
            message: "login.json: steps[1]: a request step needs an \"expect\" with at least one of: \(fields)"),
        Case(
            label: "expect: {}", step: #"{"request": {"path": "/me"}, "expect": {}}"#,
            message: "login.json: steps[1].expect: asserts nothing: give at least one of \(fields)"),
        Case(
            label: "only empty headers and cookies",
            step: #"{"request": {"path": "/me"}, "expect": {"headers": {}, "cookies": {}}}"#,
            message: "login.json: steps[1].expect: asserts nothing: give at least one of \(fields)"),
        Case(
            label: "a cookie expectation with no field",
            step: #"{"request": {"path": "/me"}, "expect": {"status": 200, "cookies": {"session": {}}}}"#,
            message:
                "login.json: steps[1].expect.cookies.session: asserts nothing: give at least one of "
                + "set, cleared, changed, httpOnly, secure, sameSite, path, maxAge"),
    ]

    @Test("refused at load, naming the file and the step", arguments: cases)
    func refused(_ c: Case) {
        let json = #"{"name": "t", "steps": [{"advance": 1}, \#(c.step)]}"#
        do {
            _ = try Fixture.parse(Array(json.utf8), file: "login.json")
            Issue.record("\(c.label): loaded")
        } catch {
            #expect("\(error)" == c.message)
        }
    }

    @Test("one assertion is enough, including a JSON null body")
    func oneAssertionLoads() throws {
        for expect in [
            #"{"status": 200}"#, #"{"json": null}"#, #"{"bodyContains": "x"}"#, #"{"headers": {"Allow": "GET"}}"#,
            #"{"cookies": {"session": {"set": false}}}"#,
        ] {
            let json = #"{"name": "t", "steps": [{"request": {"path": "/"}, "expect": \#(expect)}]}"#
            let fixture = try Fixture.parse(Array(json.utf8))
            guard case .request(_, let expectation?) = fixture.steps.first else {
                Issue.record("\(expect): no expectation kept")
                continue
            }
            #expect(
                expectation.status != nil || expectation.json != nil || expectation.bodyContains != nil
                    || !expectation.headers.isEmpty || !expectation.cookies.isEmpty, "\(expect)")
        }
    }
}
