import EdgeKV
import EdgeKVSQLite
import EdgeKVTestSupport
import Foundation
import Testing

@Suite struct SQLiteConformanceTests {
    @Test(arguments: KVConformance.cases)
    func inMemory(_ c: KVConformanceCase) async throws {
        try await c.run { clock in try await SQLiteKVStore(inMemoryWithClock: clock).namespace(id: "test") }
    }

    @Test(arguments: KVConformance.cases)
    func onFile(_ c: KVConformanceCase) async throws {
        let dir = try TemporaryDirectory()
        try await c.run { clock in try await SQLiteKVStore(directory: dir.path, clock: clock).namespace(id: "test") }
    }
}
