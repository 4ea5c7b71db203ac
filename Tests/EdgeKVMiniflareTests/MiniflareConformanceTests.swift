import EdgeKV
import EdgeKVMiniflare
import EdgeKVTestSupport
import Foundation
import Testing

/// The KV conformance suite on Miniflare's own layout: a namespace object's SQLite file and its blob folder.
@Suite struct MiniflareConformanceTests {
    @Test(arguments: KVConformance.cases)
    func inWranglerState(_ c: KVConformanceCase) async throws {
        let state = try TemporaryDirectory()
        try await c.run { clock in
            try await MiniflareKVNamespace(stateDirectory: state.path, namespaceID: "conformance", clock: clock)
        }
    }
}
