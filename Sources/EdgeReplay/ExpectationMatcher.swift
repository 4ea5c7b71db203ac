import Edge
import EdgeKV
import Foundation

/// A response as replay sees it, whichever way it came.
struct ReplayResponse: Sendable {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    var setCookies: [ParsedSetCookie] {
        headers.filter { $0.name.lowercased() == "set-cookie" }.compactMap { ParsedSetCookie($0.value) }
    }
}

/// Compares a response with an expectation; each mismatch is one readable line (or block, for JSON).
enum ExpectationMatcher {
    static func check(
        _ expect: Fixture.Expectation, _ response: ReplayResponse, previousCookies: (String) -> String?,
        nowMilliseconds: Int64
    ) -> [String] {
        var problems: [String] = []
        let text = String(decoding: response.body, as: UTF8.self)
        if let status = expect.status, status != response.status {
            problems.append("status: expected \(status), got \(response.status)\(bodyHint(text))")
        }
        for (name, value) in expect.headers.sorted(by: { $0.key < $1.key }) {
            let got = response.header(name)
            if got != value {
                problems.append("headers.\(name): expected \(quote(value)), got \(got.map(quote) ?? "nothing")")
            }
        }
        if let json = expect.json {
            if let actual = try? JSONValue(parsing: response.body) {
                if let diff = subsetDifference(expected: json, actual: actual, path: "json") {
                    problems.append(
                        "\(diff)\n      expected (subset): \(json.serialized)\n      got:               \(actual.serialized)"
                    )
                }
            } else {
                problems.append(
                    "json: expected a JSON body containing \(json.serialized), got \(quote(String(text.prefix(200))))")
            }
        }
        if let body = expect.body, body != text {
            problems.append("body: expected \(quote(body)), got \(quote(String(text.prefix(500))))")
        }
        if let needle = expect.bodyContains, !text.contains(needle) {
            problems.append("bodyContains: \(quote(needle)) is not in \(quote(String(text.prefix(500))))")
        }
        let cookies = response.setCookies
        for (name, spec) in expect.cookies.sorted(by: { $0.key < $1.key }) {
            problems += checkCookie(
                name, spec, cookies.last { $0.name == name }, previousCookies(name), nowMilliseconds)
        }
        return problems
    }

    static func checkCookie(
        _ name: String, _ spec: Fixture.CookieExpectation, _ cookie: ParsedSetCookie?, _ previous: String?,
        _ now: Int64
    ) -> [String] {
        var problems: [String] = []
        let path = "cookies.\(name)"
        let deletes = cookie?.deletes(nowMilliseconds: now) ?? false
        if let set = spec.set {
            if set && (cookie == nil || deletes) {
                problems.append(
                    "\(path).set: expected a Set-Cookie that keeps \(name), got \(cookie == nil ? "none" : "one that deletes it")"
                )
            }
            if !set && cookie != nil { problems.append("\(path).set: expected no Set-Cookie for \(name), got one") }
        }
        if let cleared = spec.cleared {
            if cleared && !deletes { problems.append("\(path).cleared: expected a Set-Cookie that deletes \(name)") }
            if !cleared && deletes { problems.append("\(path).cleared: expected \(name) not to be deleted, it was") }
        }
        if let changed = spec.changed {
            let isChanged = cookie != nil && !deletes && cookie?.value != previous
            if changed != isChanged {
                problems.append(
                    "\(path).changed: expected the value \(changed ? "to change" : "to stay"), "
                        + (cookie == nil
                            ? "no Set-Cookie came"
                            : deletes ? "it was deleted" : isChanged ? "it changed" : "it stayed the same"))
            }
        }
        guard let cookie else {
            if spec.httpOnly != nil || spec.secure != nil || spec.sameSite != nil || spec.path != nil
                || spec.maxAge != nil
            {
                problems.append("\(path): expected a Set-Cookie for \(name) to check its attributes, got none")
            }
            return problems
        }
        if let v = spec.httpOnly, v != cookie.httpOnly {
            problems.append("\(path).httpOnly: expected \(v), got \(cookie.httpOnly)")
        }
        if let v = spec.secure, v != cookie.secure {
            problems.append("\(path).secure: expected \(v), got \(cookie.secure)")
        }
        if let v = spec.sameSite, v.lowercased() != cookie.sameSite?.lowercased() {
            problems.append("\(path).sameSite: expected \(v), got \(cookie.sameSite ?? "none")")
        }
        if let v = spec.path, v != cookie.path {
            problems.append("\(path).path: expected \(v), got \(cookie.path ?? "none")")
        }
        if let v = spec.maxAge, v != cookie.maxAge {
            problems.append("\(path).maxAge: expected \(v), got \(cookie.maxAge.map(String.init) ?? "none")")
        }
        return problems
    }

    /// nil when `expected` is contained in `actual` (objects: listed members; arrays: same length, element-wise);
    /// else where and how they differ.
    static func subsetDifference(expected: JSONValue, actual: JSONValue, path: String) -> String? {
        switch (expected, actual) {
        case (.object(let e), .object(let a)):
            for key in e.keys.sorted() {
                guard let av = a[key] else { return "\(path).\(key): expected \(e[key]!.serialized), got nothing" }
                if let d = subsetDifference(expected: e[key]!, actual: av, path: "\(path).\(key)") { return d }
            }
            return nil
        case (.array(let e), .array(let a)):
            guard e.count == a.count else { return "\(path): expected \(e.count) elements, got \(a.count)" }
            for (i, (ev, av)) in zip(e, a).enumerated() {
                if let d = subsetDifference(expected: ev, actual: av, path: "\(path)[\(i)]") { return d }
            }
            return nil
        case (.int(let x), .double(let y)), (.double(let y), .int(let x)):
            return Double(x) == y ? nil : "\(path): expected \(expected.serialized), got \(actual.serialized)"
        default:
            return expected == actual ? nil : "\(path): expected \(expected.serialized), got \(actual.serialized)"
        }
    }

    static func quote(_ s: String) -> String { JSONValue.string(s).serialized }

    static func bodyHint(_ text: String) -> String {
        text.isEmpty ? "" : " (body: \(quote(String(text.prefix(200)))))"
    }
}
