import ArgumentParser
import DemoApp
import EdgeReplay
import Foundation
import Logging

struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay request fixtures against the demo app, in-process or over HTTP.",
        discussion: """
            Each fixture runs on fresh in-memory KV state with a virtual clock (`advance` steps move it) and a \
            browser-like cookie jar. With --target URL the requests go over HTTP to that server instead; fixtures \
            that need the in-process env, clock or KV are reported as skipped. The last line is \
            `N passed, M failed` (`, K skipped`); the exit status is 1 when any fixture failed.
            """)

    @Argument(help: "Fixture files or folders of *.json fixtures.") var paths: [String]
    @Option(help: ArgumentHelp("Send the requests to this server (e.g. http://127.0.0.1:8787).", valueName: "url"))
    var target: String?
    @Option(help: ArgumentHelp("Write a JUnit XML report here.", valueName: "file")) var junit: String?
    @Flag(name: .shortAndLong, help: "Print every fixture, not only failures and skips.") var verbose = false

    func validate() throws {
        if let target {
            // `localhost:8787` parses as a URL whose scheme is "localhost": only http(s) with a host will do.
            guard let url = URL(string: target), ["http", "https"].contains(url.scheme?.lowercased() ?? ""),
                url.host?.isEmpty == false
            else {
                throw ValidationError("--target must be a URL such as http://127.0.0.1:8787.")
            }
        }
    }

    static func apps(verbose: Bool) -> [ReplayApp] {
        var logger = Logger(label: "edgekv.replay")
        logger.logLevel = verbose ? .info : .critical  // the fixtures' expectations speak for the app
        return [
            ReplayApp(name: "demo", kvBindings: DemoApp.kvBindings) { [logger] clock in
                DemoApp().runtime(clock: clock, logger: logger)
            }
        ]
    }

    func run() async throws {
        let runner = ReplayRunner(
            apps: Self.apps(verbose: verbose), target: target.map { .http(baseURL: $0) } ?? .inProcess)
        if try Fixture.files(in: paths).isEmpty {
            throw CLIError("no fixture files (*.json) in \(paths.joined(separator: ", "))")
        }
        let summary = try await runner.run(paths: paths) { report($0) }
        if let junit {
            do {
                try summary.junitXML.write(toFile: junit, atomically: true, encoding: .utf8)
            } catch {
                throw CLIError("cannot write the JUnit report to \(junit): \(error.localizedDescription)")
            }
        }
        print(summary.line)
        if summary.failed > 0 { throw ExitCode(1) }
    }

    func report(_ r: ReplayResult) {
        let label = "\(r.name)" + (r.file.map { " (\($0))" } ?? "")
        switch r.outcome {
        case .passed: if verbose { print("✔ \(label)") }
        case .skipped(let reason): print("- \(label): skipped, \(reason)")
        case .failed:
            print("✘ \(label)")
            for failure in r.failures { print("    \(failure)") }
        }
    }
}
