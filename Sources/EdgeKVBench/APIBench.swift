import ArgumentParser
import Edge
import EdgeCommandLine
import EdgeHTTP
import EdgeKV
import EdgeKVAPI
import EdgeKVCloudflare
import EdgeKVSQLite
import EdgeSpawn
import Foundation
import Logging

struct APIBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api",
        abstract: "Benchmark the REST client against the curl command-line tool.",
        discussion: """
            In one process: the KV REST API app (`edgekv api`) over a temporary SQLite state on 127.0.0.1 (an \
            ephemeral port); then sequential value reads and as many writes (100-byte values) through \
            CloudflareClient with one lane, and the same requests made by the curl command-line tool in one \
            keep-alive invocation per operation (a --config file listing every URL) as the baseline. Both send the \
            same token and content type. In each round the two sides run each operation back to back, who goes \
            first alternating; rates are medians over the rounds, and the ratio is the median of the rounds' \
            ratios. curl's start-up (the time of a one-request invocation) is taken off each of its invocations. \
            Reports requests/s, the ratio client/curl (target ≥ 0.8) and the TCP connections each side opened.
            """)

    @Flag(help: "Print one JSON object instead of a table.") var json = false
    @Option(help: "Sequential value reads, and as many writes, per side and round; at least 1.") var requests = 2_000
    @Option(help: "Rounds, at least 1 (the medians count).") var rounds = 5
    @Option(help: ArgumentHelp("The curl command-line tool.", valueName: "path")) var curl = "curl"
    @Option(name: .customLong("work-dir"), help: "Where the state file and curl configs go (default: a temp dir).")
    var workDir: String?
    @Flag(help: quickHelp) var quick = false

    func validate() throws {
        if requests < 1 { throw ValidationError("--requests must be at least 1.") }
        if rounds < 1 { throw ValidationError("--rounds must be at least 1.") }
    }

    func run() async throws {
        warnIfDebugBuild()
        let dir =
            workDir
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("edgekv-bench-api-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { if workDir == nil { try? FileManager.default.removeItem(atPath: dir) } }
        let curlPath = try CurlTool.locate(curl)
        var report = try await APIBenchRunner(
            dir: dir, requests: quick ? 20 : requests, rounds: quick ? 1 : rounds,
            curl: CurlTool(path: curlPath, dir: dir), verbose: !json
        ).run()
        report.quick = quick
        if json {
            try Output.printJSON(report.json)
        } else {
            print(report.table)
        }
        try finishBenchmark(missed: report.missed, quick: quick)
    }
}

struct APIBenchReport {
    /// One operation's timings, round by round: the client's and curl's runs of a round went back to back.
    struct Comparison {
        let name: String
        /// Requests per side and round.
        let count: Int
        /// Seconds per round.
        let client: [Double]
        let curl: [Double]

        var clientRate: Double { Double(count) / median(client) }
        var curlRate: Double { Double(count) / median(curl) }
        /// The median over rounds of client/curl requests per second within a round, so that load on the machine
        /// that comes and goes weighs on both sides of a ratio alike.
        var ratio: Double { median(zip(curl, client).map { $0 / $1 }) }
    }

    let requests: Int
    let rounds: Int
    let read: Comparison
    let write: Comparison
    let clientConnections: Int
    let curlConnections: Int
    let curlInvocations: Int
    let curlStartup: Double
    let curlVersion: String
    /// Whether this was a `--quick` run (figures not comparable, targets not checked).
    var quick = false
    static let target = 0.8

    var all: Comparison {
        Comparison(
            name: "all", count: 2 * requests, client: zip(read.client, write.client).map(+),
            curl: zip(read.curl, write.curl).map(+))
    }

    /// Each ratio under the target, as `read: ratio 0.71, target ≥ 0.80`.
    var missed: [String] {
        [read, write, all].filter { $0.ratio < Self.target }.map {
            "\($0.name): ratio \(String(format: "%.2f", $0.ratio)), target ≥ \(String(format: "%.2f", Self.target))"
        }
    }

    var json: JSONValue {
        func num(_ d: Double) -> JSONValue { .double((d * 1000).rounded() / 1000) }
        func entry(_ c: Comparison) -> JSONValue {
            [
                "client_requests_per_sec": num(c.clientRate), "curl_requests_per_sec": num(c.curlRate),
                "ratio": num(c.ratio), "target": num(Self.target), "meets_target": .bool(c.ratio >= Self.target),
            ]
        }
        let total = all
        return [
            "benchmark": "api",
            "baseline": .string(
                "\(curlVersion): one keep-alive invocation per operation and round (--config listing every URL), "
                    + "start-up taken off"),
            "requests": .int(Int64(requests)), "rounds": .int(Int64(rounds)), "quick": .bool(quick),
            "read": entry(read), "write": entry(write),
            "client_requests_per_sec": num(total.clientRate), "curl_requests_per_sec": num(total.curlRate),
            "ratio": num(total.ratio), "target": num(Self.target), "meets_target": .bool(total.ratio >= Self.target),
            "client_lanes": 1, "client_connections": .int(Int64(clientConnections)),
            "curl_connections": .int(Int64(curlConnections)), "curl_invocations": .int(Int64(curlInvocations)),
            "curl_startup_ms": num(curlStartup * 1000),
        ]
    }

    var table: String {
        func f(_ d: Double) -> String { String(format: "%12.0f", d) }
        var lines = ["operation   client req/s    curl req/s   ratio  target"]
        for c in [read, write, all] {
            lines.append(
                c.name.padding(toLength: 10, withPad: " ", startingAt: 0) + f(c.clientRate) + "  " + f(c.curlRate)
                    + "   " + String(format: "%5.2f  ≥%4.2f", c.ratio, Self.target))
        }
        lines.append("")
        lines.append(
            "TCP connections: client \(clientConnections) (1 lane); "
                + "curl \(curlConnections) in \(curlInvocations) invocations")
        lines.append(
            "\(requests) requests per operation and side; medians of \(rounds) rounds (ratio: of each round's pair); "
                + String(format: "curl start-up %.1f ms taken off each invocation", curlStartup * 1000))
        lines.append("baseline: \(curlVersion)")
        if quick { lines.append(quickRunNote) }
        return lines.joined(separator: "\n")
    }
}

struct APIBenchRunner {
    let dir: String
    let requests: Int
    let rounds: Int
    let curl: CurlTool
    let verbose: Bool

    static let token = "edgekv-bench-token"
    static let account = "edgekv-bench"
    static let value = [UInt8](repeating: 0x61, count: 100)
    static func key(_ i: Int) -> String { "key-" + String(i).leftPadded(to: 8) }

    func log(_ s: String) { if verbose { Output.diagnostic(s) } }

    func run() async throws -> APIBenchReport {
        let store = try await SQLiteKVStore(path: dir + "/api.sqlite")
        let namespace = try await store.createNamespace(title: "bench").id
        log("Filling the namespace with \(requests) keys…")
        try await store.namespace(id: namespace).writeEntries(
            (0..<requests).map { (Self.key($0), KVWrite(value: Self.value)) })

        var logger = Logger(label: "edgekv.bench.api")
        logger.logLevel = .warning
        let api = KVAPI(namespaces: store, configuration: KVAPI.Configuration(token: Self.token))
        let server = try await EdgeServer(
            runtime: EdgeRuntime(logger: logger, handler: api.handler),
            configuration: EdgeServer.Configuration(host: "127.0.0.1", port: 0, logger: logger)
        ).start()
        do {
            let report = try await measure(
                store: store, namespace: namespace, base: server.baseURL + "/client/v4")
            try await server.stop()
            return report
        } catch {
            try? await server.stop()
            throw error
        }
    }

    func measure(store: SQLiteKVStore, namespace: String, base: String) async throws -> APIBenchReport {
        let client = CloudflareClient(
            configuration: CloudflareConfiguration(
                baseURL: base, accountID: Self.account, credentials: .token(Self.token),
                retry: CloudflareRetryPolicy(maxAttempts: 1), lanes: 1))
        let valuesURL = "\(base)/accounts/\(Self.account)/storage/kv/namespaces/\(namespace)/values/"
        let readKeys = (0..<requests).map(Self.key)
        let valueFile = dir + "/value.bin"
        try Data(Self.value).write(to: URL(fileURLWithPath: valueFile))

        // Warm both sides up, and time curl's start-up: a one-request invocation, three times.
        log("Warming up…")
        let warm = Array(readKeys.prefix(100))
        _ = try await Self.clientReads(client, namespace, warm)
        _ = try await Self.clientWrites(client, namespace, warm.map { "warm-\($0)" })
        var curlConnections = 0
        var curlInvocations = 0
        var startups: [Double] = []
        for _ in 0..<3 {
            let run = try await curl.reads(valuesURL, Array(readKeys.prefix(1)), token: Self.token)
            startups.append(run.seconds)
            curlConnections += run.connections
            curlInvocations += 1
        }
        let startup = startups.sorted()[1]

        var reads: (client: [Double], curl: [Double]) = ([], [])
        var writes: (client: [Double], curl: [Double]) = ([], [])
        for round in 0..<rounds {
            log("Round \(round + 1) of \(rounds): \(requests) reads and \(requests) writes each…")
            let clientKeys = (0..<requests).map { "client-\(round)-" + String($0).leftPadded(to: 8) }
            let curlKeys = (0..<requests).map { "curl-\(round)-" + String($0).leftPadded(to: 8) }
            // Each operation's pair runs back to back; who goes first alternates, so that neither always meets a
            // warmer (or more fragmented) state.
            let order = round.isMultiple(of: 2) ? [true, false] : [false, true]
            for clientTurn in order {
                if clientTurn {
                    reads.client.append(try await Self.clientReads(client, namespace, readKeys))
                } else {
                    let run = try await curl.reads(valuesURL, readKeys, token: Self.token)
                    reads.curl.append(max(run.seconds - startup, 1e-6))
                    curlConnections += run.connections
                    curlInvocations += 1
                }
            }
            for clientTurn in order {
                if clientTurn {
                    writes.client.append(try await Self.clientWrites(client, namespace, clientKeys))
                } else {
                    let run = try await curl.writes(valuesURL, curlKeys, valueFile: valueFile, token: Self.token)
                    writes.curl.append(max(run.seconds - startup, 1e-6))
                    curlConnections += run.connections
                    curlInvocations += 1
                }
            }
            // Every write landed, on both sides.
            let landed = try await store.namespace(id: namespace).readEntries(clientKeys + curlKeys)
            guard landed.count == 2 * requests, landed.values.allSatisfy({ $0.value == Self.value }) else {
                throw CLIError("benchmark writes missing: \(2 * requests - landed.count) of \(2 * requests)")
            }
        }
        return APIBenchReport(
            requests: requests, rounds: rounds,
            read: .init(name: "read", count: requests, client: reads.client, curl: reads.curl),
            write: .init(name: "write", count: requests, client: writes.client, curl: writes.curl),
            clientConnections: client.connectionsOpened, curlConnections: curlConnections,
            curlInvocations: curlInvocations, curlStartup: startup, curlVersion: try await curl.version())
    }

    static func clientReads(_ client: CloudflareClient, _ namespace: String, _ keys: [String]) async throws -> Double {
        let start = ContinuousClock.now
        for key in keys {
            guard let read = try await client.readValue(namespaceID: namespace, key: key), read.value.count == 100
            else {
                throw CLIError("benchmark key \(key) missing")
            }
        }
        return seconds(since: start)
    }

    static func clientWrites(_ client: CloudflareClient, _ namespace: String, _ keys: [String]) async throws -> Double {
        let start = ContinuousClock.now
        for key in keys { try await client.writeValue(namespaceID: namespace, key: key, value: value) }
        return seconds(since: start)
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        (ContinuousClock.now - start).inSeconds
    }
}

/// The curl command-line tool, run with a `--config` file that lists every URL, so that one process makes every
/// request over the connections it keeps alive.
struct CurlTool {
    let path: String
    let dir: String

    struct Run {
        let seconds: Double
        let connections: Int
    }

    /// The executable: `name` when it holds a `/`, else the first match on `PATH`.
    static func locate(_ name: String) throws -> String {
        if name.contains("/") {
            guard FileManager.default.isExecutableFile(atPath: name) else {
                throw CLIError("\(name) is not executable")
            }
            return name
        }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") {
            return "\(dir)/\(name)"
        }
        throw CLIError("\(name) not found on PATH: install curl (apt-get install -y curl) or pass --curl PATH")
    }

    /// `curl 7.88.1`.
    func version() async throws -> String {
        let output = dir + "/curl-version.txt"
        _ = try await execute(["--version"], stdout: output)
        let line = (try String(contentsOfFile: output, encoding: .utf8)).split(separator: "\n").first ?? "curl"
        return line.split(separator: " ").prefix(2).joined(separator: " ")
    }

    func reads(_ valuesURL: String, _ keys: [String], token: String) async throws -> Run {
        try await batch(
            ["header = \"Authorization: Bearer \(token)\""], urls: keys.map { valuesURL + $0 }, name: "reads")
    }

    func writes(_ valuesURL: String, _ keys: [String], valueFile: String, token: String) async throws -> Run {
        try await batch(
            [
                "header = \"Authorization: Bearer \(token)\"", "header = \"Content-Type: application/octet-stream\"",
                "request = \"PUT\"", "data-binary = \"@\(valueFile)\"",
            ], urls: keys.map { valuesURL + $0 }, name: "writes")
    }

    /// One invocation for every URL; checks that each answered 200, and sums the connections it opened.
    func batch(_ options: [String], urls: [String], name: String) async throws -> Run {
        var config = ["silent", "show-error", "write-out = \"%{http_code} %{num_connects}\\n\""] + options
        for url in urls {
            config.append("url = \"\(url)\"")
            config.append("output = \"/dev/null\"")
        }
        let configFile = dir + "/curl-\(name).cfg"
        let output = dir + "/curl-\(name).out"
        try (config.joined(separator: "\n") + "\n").write(toFile: configFile, atomically: true, encoding: .utf8)
        let seconds = try await execute(["--config", configFile], stdout: output)
        let lines = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n")
        guard lines.count == urls.count else {
            throw CLIError("curl made \(lines.count) of \(urls.count) \(name)")
        }
        var connections = 0
        for line in lines {
            let fields = line.split(separator: " ")
            guard fields.count == 2, fields[0] == "200", let opened = Int(fields[1]) else {
                throw CLIError("curl \(name): unexpected answer \(line)")
            }
            connections += opened
        }
        return Run(seconds: seconds, connections: connections)
    }

    /// Runs curl and returns the seconds from launch to exit. Waits without blocking a thread: the server under test
    /// shares this process's cooperative pool.
    func execute(_ arguments: [String], stdout: String) async throws -> Double {
        let start = ContinuousClock.now
        let process: SpawnedProcess
        do {
            process = try SpawnedProcess(
                executable: path, arguments: arguments, stdout: .file(stdout))
        } catch {
            throw CLIError("cannot run \(path): \(error)")
        }
        let termination = await process.exit()
        let end = ContinuousClock.now
        guard termination == .exited(0) else {
            let message = String(decoding: process.stderr, as: UTF8.self).trimmingCharacters(
                in: .whitespacesAndNewlines)
            throw CLIError(
                "\(path) \(arguments.joined(separator: " ")) ended with \(termination)"
                    + (message.isEmpty ? "" : ": \(message)"))
        }
        return (end - start).inSeconds
    }
}
