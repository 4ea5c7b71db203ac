import EdgeKVTestSupport
import Foundation
import Testing

@testable import EdgeReplay

#if canImport(FoundationXML)
import FoundationXML
#endif

/// An element of a parsed XML document.
final class XMLElementNode {
    let name: String
    let attributes: [String: String]
    var children: [XMLElementNode] = []
    var text = ""

    init(name: String, attributes: [String: String]) {
        self.name = name
        self.attributes = attributes
    }

    func all(_ name: String) -> [XMLElementNode] { children.filter { $0.name == name } }
    func first(_ name: String) -> XMLElementNode? { children.first { $0.name == name } }
}

/// Parses XML with Foundation's XMLParser (libxml2 underneath): a document that is not well-formed throws.
final class XMLTree: NSObject, XMLParserDelegate {
    private var stack: [XMLElementNode] = []
    private(set) var root: XMLElementNode?

    static func parse(_ text: String) throws -> XMLElementNode {
        let tree = XMLTree()
        let parser = XMLParser(data: Data(text.utf8))
        parser.delegate = tree
        guard parser.parse(), let root = tree.root else {
            throw Failure("not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "no root element")")
        }
        return root
    }

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        let node = XMLElementNode(name: elementName, attributes: attributes)
        stack.last?.children.append(node)
        if root == nil { root = node }
        stack.append(node)
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        stack.removeLast()
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        stack.last?.text += string
    }
}

@Suite("JUnit report")
struct JUnitTests {
    static let awkward = "a <name> & \"quotes\" 'too' \u{1} ✓"

    @Test("well-formed XML: one testcase per fixture, failure and skipped elements, counts, escaping")
    func structure() throws {
        let summary = ReplaySummary(results: [
            ReplayResult(
                name: "passes", file: "fixtures/a.json", outcome: .passed, failures: [], duration: .milliseconds(12)),
            ReplayResult(
                name: Self.awkward, file: "fixtures/<b>.json", outcome: .failed,
                failures: ["steps[0] (GET /): expect.status: expected 200, got 500", "second <problem> & more\nline"],
                duration: .milliseconds(1500)),
            ReplayResult(
                name: "skips", file: nil, outcome: .skipped(reason: "seeds KV (needs in-process state)"), failures: [],
                duration: .zero),
        ])
        let root = try XMLTree.parse(summary.junitXML)
        #expect(root.name == "testsuites")
        #expect(root.attributes["tests"] == "3")
        #expect(root.attributes["failures"] == "1")
        #expect(root.attributes["skipped"] == "1")
        #expect(root.attributes["time"] == "1.512")
        let suites = root.all("testsuite")
        #expect(suites.count == 1)
        let suite = try #require(suites.first)
        #expect(suite.attributes["tests"] == "3" && suite.attributes["failures"] == "1")
        #expect(suite.attributes["skipped"] == "1")
        let cases = suite.all("testcase")
        #expect(cases.map { $0.attributes["name"] } == ["passes", "a <name> & \"quotes\" 'too' ? ✓", "skips"])
        #expect(cases.map { $0.attributes["classname"] } == ["fixtures/a.json", "fixtures/<b>.json", "fixtures"])
        #expect(cases.map { $0.attributes["time"] } == ["0.012", "1.500", "0.000"])
        #expect(cases[0].children.isEmpty)
        let failure = try #require(cases[1].first("failure"))
        #expect(cases[1].children.count == 1)
        #expect(failure.attributes["message"] == "steps[0] (GET /): expect.status: expected 200, got 500")
        #expect(
            failure.text
                == "steps[0] (GET /): expect.status: expected 200, got 500\n\nsecond <problem> & more\nline")
        let skipped = try #require(cases[2].first("skipped"))
        #expect(skipped.attributes["message"] == "seeds KV (needs in-process state)")
        #expect(cases[2].first("failure") == nil)
    }

    @Test("an empty run is still a well-formed report")
    func empty() throws {
        let root = try XMLTree.parse(ReplaySummary(results: []).junitXML)
        #expect(root.attributes["tests"] == "0")
        #expect(root.first("testsuite")?.all("testcase").isEmpty == true)
    }

    @Test("the report of a real run: passed, failed (with the step in the message) and a broken fixture")
    func realRun() async throws {
        let dir = try TemporaryDirectory()
        try dir.write("1.json", #"{"name": "one", "steps": [{"request": {"path": "/"}, "expect": {"status": 200}}]}"#)
        try dir.write("2.json", #"{"name": "two", "steps": [{"request": {"path": "/"}, "expect": {"status": 201}}]}"#)
        try dir.write("3.json", #"{"name": "three", "steps": [{"request": {"path": "/", "method": 1}}]}"#)
        let summary = try await ReplayRunner(apps: [demoReplayApp()]).run(paths: [dir.path])
        let suite = try #require(try XMLTree.parse(summary.junitXML).first("testsuite"))
        let cases = suite.all("testcase")
        #expect(cases.map { $0.attributes["name"] } == ["one", "two", "3.json"])
        #expect(cases[0].children.isEmpty)
        #expect(
            cases[1].first("failure")?.attributes["message"]?.hasPrefix(
                "steps[0] (GET /): expect.status: expected 201, got 200") == true)
        #expect(
            cases[2].first("error")?.attributes["message"]
                == "\(dir.file("3.json")): steps[0].request.method: expected a string")
        #expect(cases[2].first("failure") == nil, "a broken fixture is an error, not a failed expectation")
        #expect(suite.attributes["failures"] == "1" && suite.attributes["errors"] == "1")
    }
}
