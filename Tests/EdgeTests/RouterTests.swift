import Edge
import HTTPTypes
import Testing

/// Matching by method and path pattern: parameters, 404 against 405, and the methods a 405 offers.
@Suite struct RouterTests {
    static let router: Router<String> = {
        var router = Router<String>()
        router.add(.get, "/", "home")
        router.add(.head, "/", "home head")
        router.add(.get, "/items/new", "new form")
        router.add(.get, "/items/:id", "item")
        router.add(.put, "/items/:id", "replace")
        router.add(.delete, "/items/:id", "remove")
        router.add(.get, "/items/:id/tags/:tag", "tag")
        router.add(.post, "/items/new", "create")
        return router
    }()

    func found(_ method: HTTPRequest.Method, _ path: String) -> (String, RouteParameters)? {
        guard case .found(let route, let parameters) = Self.router.match(method, path: path) else { return nil }
        return (route, parameters)
    }

    @Test func literalsAndParametersMatchWholeSegments() throws {
        #expect(found(.get, "/")?.0 == "home")
        #expect(found(.head, "/")?.0 == "home head")
        let item = try #require(found(.put, "/items/a%20b"))
        #expect(item.0 == "replace")
        #expect(item.1["id"] == "a%20b")  // still percent-encoded: the caller decodes
        #expect(item.1["nope"] == nil)
        let tag = try #require(found(.get, "/items/7/tags/x+y"))
        #expect(tag.0 == "tag" && tag.1["id"] == "7" && tag.1["tag"] == "x+y")
    }

    @Test func theFirstPatternAddedWins() {
        #expect(found(.get, "/items/new")?.0 == "new form")
        // `POST` is only on the literal: the parameter route does not take it either.
        #expect(found(.post, "/items/new")?.0 == "create")
        #expect(found(.put, "/items/new")?.0 == "replace")
    }

    @Test func aParameterMatchesAnEmptySegment() throws {
        let empty = try #require(found(.get, "/items/"))
        #expect(empty.0 == "item" && empty.1["id"] == "")
    }

    @Test(arguments: ["/items", "/items/7/8", "/items/7/", "//", "/items/7/tags", "/nowhere", "", "*"])
    func pathsNoPatternMatchesAreNotFound(_ path: String) {
        guard case .notFound = Self.router.match(.get, path: path) else {
            Issue.record("\(path) matched: \(Self.router.match(.get, path: path))")
            return
        }
    }

    @Test func anotherMethodOnAKnownPathIs405WithTheMethodsInOrder() {
        let match = Self.router.match(.post, path: "/items/7")
        guard case .methodNotAllowed(let allowed) = match else {
            Issue.record("\(match)")
            return
        }
        #expect(allowed == [.get, .put, .delete])
        #expect(match.allowHeader == "GET, PUT, DELETE")
        // Methods of every pattern the path matches, each once.
        #expect(Self.router.match(.patch, path: "/items/new").allowHeader == "GET, POST, PUT, DELETE")
        #expect(Self.router.match(.delete, path: "/").allowHeader == "GET, HEAD")
        #expect(Self.router.match(.get, path: "/").allowHeader == nil)
    }

    @Test func prefixesCaptureWhatFollowsThemToo() throws {
        let pattern = RoutePattern("/accounts/:account/items")
        let segments = RoutePattern.segments(ofPath: "/accounts/acc/items/7")
        #expect(pattern.match(segments) == nil)
        #expect(try #require(pattern.matchPrefix(segments))["account"] == "acc")
        #expect(pattern.matchPrefix(RoutePattern.segments(ofPath: "/accounts/acc")) == nil)
        #expect(pattern.description == "/accounts/:account/items")
    }
}
