import EdgeSync
import Testing

@Suite struct SyncEndpointTests {
    @Test func parsesTheForms() throws {
        #expect(try SyncEndpoint(parsing: "local:SESSIONS") == .local(directory: nil, namespace: "SESSIONS"))
        #expect(
            try SyncEndpoint(parsing: "local:/tmp/a:b/stateB:DST")
                == .local(directory: "/tmp/a:b/stateB", namespace: "DST"))
        #expect(try SyncEndpoint(parsing: "file:backup.json") == .file("backup.json"))
        #expect(try SyncEndpoint(parsing: "file:/tmp/a:b.json") == .file("/tmp/a:b.json"))
        #expect(try SyncEndpoint(parsing: "remote:0f2ac74b") == .remote("0f2ac74b"))
        #expect(
            try SyncEndpoint(parsing: "wrangler:/tmp/a:b/.wrangler/state:SESSIONS")
                == .wrangler(directory: "/tmp/a:b/.wrangler/state", namespace: "SESSIONS"))
    }

    @Test(arguments: [
        "local:", "local::NS", "local:dir:", "remote", "wrangler:NS", "wrangler::NS", "wrangler:dir:", "file:",
        "s3:bucket",
    ])
    func rejectsOtherForms(_ text: String) {
        #expect(throws: SyncEndpointError.self) { try SyncEndpoint(parsing: text) }
    }
}
