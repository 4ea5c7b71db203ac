import EdgeSync
import Testing

@Suite struct SyncEndpointTests {
    @Test func parsesTheThreeForms() throws {
        #expect(try SyncEndpoint(parsing: "local:SESSIONS") == .local("SESSIONS"))
        #expect(try SyncEndpoint(parsing: "remote:0f2ac74b") == .remote("0f2ac74b"))
        #expect(
            try SyncEndpoint(parsing: "wrangler:/tmp/a:b/.wrangler/state:SESSIONS")
                == .wrangler(directory: "/tmp/a:b/.wrangler/state", namespace: "SESSIONS"))
    }

    @Test(arguments: ["local:", "remote", "wrangler:NS", "wrangler::NS", "wrangler:dir:", "s3:bucket"])
    func rejectsOtherForms(_ text: String) {
        #expect(throws: SyncEndpointError.self) { try SyncEndpoint(parsing: text) }
    }
}
