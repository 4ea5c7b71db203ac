import ArgumentParser
import EdgeCommandLine
import EdgeKV
import EdgeKVSQLite
import EdgeSupport
import Foundation

struct KVBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kv",
        abstract: "Benchmark the SQLite emulator against the raw SQLite C API.",
        discussion: """
            In one process, on two state files with the same schema and the same SQL: get, put (each its own \
            transaction) and list (1000-key pages) through the emulator, and the same operations done with \
            prepared statements on the raw C API as the baseline. Rounds alternate between the two; the median \
            round counts. The emulator runs on its own database thread (the task prefers that executor, so calls \
            do not hop threads); "cross-thread" figures show calls made from Swift's cooperative pool. Then the \
            same get and list-page figures on a namespace of 10,000 and of 1,000,000 keys, the list pages taken \
            at random depths.
            """)

    @Flag(help: "Print one JSON object instead of a table.") var json = false
    @Option(help: "Rounds per operation, at least 1 (the median counts).") var rounds = 5
    @Option(
        name: .customLong("large-keys"), help: "Keys in the large namespace of the scaling test, at least 10000.")
    var largeKeys = 1_000_000
    @Option(
        name: .customLong("work-dir"),
        help: "Where the benchmark's state files go, made afresh on each run (default: a temp dir).")
    var workDir: String?
    @Flag(help: quickHelp) var quick = false

    func validate() throws {
        if rounds < 1 { throw ValidationError("--rounds must be at least 1.") }
        if largeKeys < 10_000 { throw ValidationError("--large-keys must be at least 10000.") }
    }

    func run() async throws {
        warnIfDebugBuild()
        let dir =
            workDir
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("edgekv-bench-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { if workDir == nil { try? FileManager.default.removeItem(atPath: dir) } }
        let report = try await KVBenchRunner(
            dir: dir, rounds: quick ? 1 : rounds, largeKeys: quick ? 10_000 : largeKeys,
            workload: quick ? .quick : .full, verbose: !json
        ).run()
        if json {
            try Output.printJSON(report.json)
        } else {
            print(report.table)
        }
        try finishBenchmark(missed: report.missed, quick: quick)
    }
}

/// One measured figure: operations per second.
struct Rate {
    let opsPerSecond: Double

    static func median(_ rates: [Double]) -> Rate { Rate(opsPerSecond: EdgeKVBench.median(rates)) }
}

struct KVBenchReport {
    struct Comparison {
        let name: String
        let emulator: Rate
        let baseline: Rate
        let crossThread: Rate
        let target: Double
        var ratio: Double { emulator.opsPerSecond / baseline.opsPerSecond }
    }
    struct Scaling {
        let name: String
        let small: Rate
        let large: Rate
        let target: Double
        var ratio: Double { large.opsPerSecond / small.opsPerSecond }
    }
    let comparisons: [Comparison]
    let scaling: [Scaling]
    let largeKeys: Int
    /// Whether this was a `--quick` run (figures not comparable, targets not checked).
    var quick = false

    /// Each ratio under its target, as `get: ratio 0.71, target ≥ 0.80`.
    var missed: [String] {
        comparisons.filter { $0.ratio < $0.target }.map {
            "\($0.name): ratio \(String(format: "%.2f", $0.ratio)), target ≥ \(String(format: "%.2f", $0.target))"
        }
            + scaling.filter { $0.ratio < $0.target }.map {
                "scaling \($0.name): ratio \(String(format: "%.2f", $0.ratio)), "
                    + "target ≥ \(String(format: "%.2f", $0.target))"
            }
    }

    var json: JSONValue {
        func num(_ d: Double) -> JSONValue { .double((d * 1000).rounded() / 1000) }
        var ops: [String: JSONValue] = [:]
        for c in comparisons {
            ops[c.name] = [
                "emulator_ops_per_sec": num(c.emulator.opsPerSecond),
                "baseline_ops_per_sec": num(c.baseline.opsPerSecond),
                "cross_thread_ops_per_sec": num(c.crossThread.opsPerSecond), "ratio": num(c.ratio),
                "target": num(c.target), "meets_target": .bool(c.ratio >= c.target),
            ]
        }
        var scale: [String: JSONValue] = [:]
        for s in scaling {
            scale[s.name] = [
                "keys_10k_ops_per_sec": num(s.small.opsPerSecond), "keys_large_ops_per_sec": num(s.large.opsPerSecond),
                "large_keys": .int(Int64(largeKeys)), "ratio": num(s.ratio), "target": num(s.target),
                "meets_target": .bool(s.ratio >= s.target),
            ]
        }
        return [
            "benchmark": "kv",
            "baseline": "raw SQLite C API: prepared statements, same schema, SQL and pragmas, on the calling thread",
            "quick": .bool(quick),
            "operations": .object(ops),
            "scaling": .object(scale),
        ]
    }

    var table: String {
        func f(_ d: Double) -> String { String(format: "%12.0f", d) }
        var lines = [
            "operation      emulator ops/s  raw SQLite ops/s  ratio  target  cross-thread ops/s"
        ]
        for c in comparisons {
            lines.append(
                c.name.padding(toLength: 14, withPad: " ", startingAt: 0) + f(c.emulator.opsPerSecond) + "  "
                    + f(c.baseline.opsPerSecond) + "    " + String(format: "%5.2f  ≥%4.2f", c.ratio, c.target)
                    + "  " + f(c.crossThread.opsPerSecond))
        }
        lines.append("")
        lines.append("scaling        10k keys ops/s  \(largeKeys) keys ops/s  ratio  target")
        for s in scaling {
            lines.append(
                s.name.padding(toLength: 14, withPad: " ", startingAt: 0) + f(s.small.opsPerSecond) + "  "
                    + f(s.large.opsPerSecond) + "    " + String(format: "%5.2f  ≥%4.2f", s.ratio, s.target))
        }
        if quick { lines += ["", quickRunNote] }
        return lines.joined(separator: "\n")
    }
}

struct KVBenchRunner {
    /// How much work each round does.
    struct Workload {
        var gets: Int
        var puts: Int
        /// List pages of 1000 keys; a quarter of them cross-thread, so at least 4.
        var listPages: Int
        /// Whether the figures are too few to judge (`--quick`).
        var isQuick = false

        static let full = Workload(gets: 20_000, puts: 2_000, listPages: 40)
        /// Enough of each operation to run every code path once, no more.
        static let quick = Workload(gets: 400, puts: 40, listPages: 4, isQuick: true)
    }

    let dir: String
    let rounds: Int
    let largeKeys: Int
    var workload = Workload.full
    let verbose: Bool

    static let namespace = "bench"
    static let smallKeys = 10_000
    static let value = [UInt8](repeating: 0x61, count: 100)
    static func key(_ i: Int) -> String { "key-" + String(i).leftPadded(to: 8) }

    func log(_ s: String) { if verbose { Output.diagnostic(s) } }

    static let stateFiles = ["emulator", "raw", "scale-small", "scale-large"]

    func run() async throws -> KVBenchReport {
        // Fresh files on every run: a --work-dir used before holds the last run's keys (and the raw baseline's
        // schema, which it creates unconditionally).
        for name in Self.stateFiles {
            for suffix in ["", "-wal", "-shm", "-journal"] {
                let path = dir + "/\(name).sqlite\(suffix)"
                if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
            }
        }
        let store = try await SQLiteKVStore(path: dir + "/emulator.sqlite")
        let raw = try SQLiteKVBaseline(path: dir + "/raw.sqlite")
        let kv = store.namespace(id: Self.namespace)
        log("Filling both files with \(Self.smallKeys) keys…")
        try await fill(kv, count: Self.smallKeys)
        try raw.fill(namespace: Self.namespace, keys: (0..<Self.smallKeys).map(Self.key), value: Self.value)

        let getOps = workload.gets
        let putOps = workload.puts
        let listPages = workload.listPages
        var results: [String: (e: [Double], b: [Double], x: [Double])] = [:]
        for round in 0..<rounds {
            log("Round \(round + 1) of \(rounds)…")
            let seed = UInt64(round + 1)
            results["get", default: ([], [], [])].e.append(
                try await onStoreThread(store) {
                    try await Self.gets(kv, ops: getOps, keys: Self.smallKeys, seed: seed)
                })
            results["get"]!.b.append(
                try raw.gets(namespace: Self.namespace, keys: Self.randomKeys(getOps, of: Self.smallKeys, seed: seed)))
            results["get"]!.x.append(try await Self.gets(kv, ops: getOps / 4, keys: Self.smallKeys, seed: seed))

            results["put", default: ([], [], [])].e.append(
                try await onStoreThread(store) { try await Self.puts(kv, ops: putOps, round: round, tag: "e") })
            results["put"]!.b.append(
                try raw.puts(
                    namespace: Self.namespace, keys: (0..<putOps).map { "put-b-\(round)-\($0)" }, value: Self.value))
            results["put"]!.x.append(try await Self.puts(kv, ops: putOps / 4, round: round, tag: "x"))

            results["list_page", default: ([], [], [])].e.append(
                try await onStoreThread(store) { try await Self.listPages(kv, pages: listPages) })
            results["list_page"]!.b.append(
                try raw.listPages(namespace: Self.namespace, prefix: "key-", pages: listPages))
            results["list_page"]!.x.append(try await Self.listPages(kv, pages: listPages / 4))
        }
        let targets = ["get": 0.8, "put": 0.8, "list_page": 0.7]
        let comparisons = ["get", "put", "list_page"].map { name in
            let r = results[name]!
            return KVBenchReport.Comparison(
                name: name, emulator: .median(r.e), baseline: .median(r.b), crossThread: .median(r.x),
                target: targets[name]!)
        }

        // Scaling: the same get and list-page work on 10k keys and on the large namespace.
        let smallStore = try await SQLiteKVStore(path: dir + "/scale-small.sqlite")
        let largeStore = try await SQLiteKVStore(path: dir + "/scale-large.sqlite")
        log("Filling a namespace of \(Self.smallKeys) keys and one of \(largeKeys) keys…")
        try await fill(smallStore.namespace(id: Self.namespace), count: Self.smallKeys)
        try await fill(largeStore.namespace(id: Self.namespace), count: largeKeys)
        var scale: [String: (s: [Double], l: [Double])] = ["get": ([], []), "list_page": ([], [])]
        for round in 0..<rounds {
            log("Scaling round \(round + 1) of \(rounds)…")
            let seed = UInt64(100 + round)
            let small = smallStore.namespace(id: Self.namespace)
            let large = largeStore.namespace(id: Self.namespace)
            scale["get"]!.s.append(
                try await onStoreThread(smallStore) {
                    try await Self.gets(small, ops: getOps, keys: Self.smallKeys, seed: seed)
                })
            scale["get"]!.l.append(
                try await onStoreThread(largeStore) {
                    try await Self.gets(large, ops: getOps, keys: largeKeys, seed: seed)
                })
            scale["list_page"]!.s.append(
                try await onStoreThread(smallStore) {
                    try await Self.deepPages(small, pages: listPages, keys: Self.smallKeys, seed: seed)
                })
            scale["list_page"]!.l.append(
                try await onStoreThread(largeStore) {
                    try await Self.deepPages(large, pages: listPages, keys: largeKeys, seed: seed)
                })
        }
        let scaling = ["get", "list_page"].map { name in
            KVBenchReport.Scaling(
                name: name, small: .median(scale[name]!.s), large: .median(scale[name]!.l), target: 0.7)
        }
        return KVBenchReport(
            comparisons: comparisons, scaling: scaling, largeKeys: largeKeys, quick: workload.isQuick)
    }

    /// Runs the work as a task that prefers the store's database thread, so KV calls run there inline.
    func onStoreThread(
        _ store: SQLiteKVStore, _ body: @escaping @Sendable () async throws -> Double
    ) async throws -> Double {
        try await withTaskExecutorPreference(store.executor) { try await body() }
    }

    func fill(_ kv: any KVNamespace, count: Int) async throws {
        let write = KVWrite(value: Self.value)
        var start = 0
        while start < count {
            let end = min(count, start + 50_000)
            try await kv.writeEntries((start..<end).map { (Self.key($0), write) })
            start = end
        }
    }

    static func measure(_ ops: Int, _ body: () async throws -> Void) async rethrows -> Double {
        let clock = ContinuousClock()
        let elapsed = try await clock.measure { try await body() }
        return Double(ops) / elapsed.inSeconds
    }

    /// `count` key names drawn from the first `keys`, the same ones for the same seed.
    static func randomKeys(_ count: Int, of keys: Int, seed: UInt64) -> [String] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in key(Int.random(in: 0..<keys, using: &rng)) }
    }

    static func gets(_ kv: any KVNamespace, ops: Int, keys: Int, seed: UInt64) async throws -> Double {
        let names = randomKeys(ops, of: keys, seed: seed)
        return try await measure(ops) {
            for name in names {
                guard try await kv.getBytes(name) != nil else { throw CLIError("benchmark key \(name) missing") }
            }
        }
    }

    static func puts(_ kv: any KVNamespace, ops: Int, round: Int, tag: String) async throws -> Double {
        let names = (0..<ops).map { "put-\(tag)-\(round)-\($0)" }
        return try await measure(ops) {
            for name in names { try await kv.put(name, bytes: value) }
        }
    }

    static func listPages(_ kv: any KVNamespace, pages: Int) async throws -> Double {
        try await measure(pages) {
            var cursor: String?
            for _ in 0..<pages {
                let page = try await kv.list(prefix: "key-", cursor: cursor)
                guard page.keys.count == 1000 else { throw CLIError("benchmark page has \(page.keys.count) keys") }
                cursor = page.listComplete ? nil : page.cursor
            }
        }
    }

    /// Pages that start at random depths of the namespace (a cursor made from a random key).
    static func deepPages(_ kv: any KVNamespace, pages: Int, keys: Int, seed: UInt64) async throws -> Double {
        var rng = SplitMix64(seed: seed)
        let cursors = (0..<pages).map { _ in
            Data(key(Int.random(in: 0..<(keys - 1000), using: &rng)).utf8).base64EncodedString()
        }
        return try await measure(pages) {
            for cursor in cursors {
                let page = try await kv.list(prefix: "key-", cursor: cursor)
                guard page.keys.count == 1000 else { throw CLIError("benchmark page has \(page.keys.count) keys") }
            }
        }
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
