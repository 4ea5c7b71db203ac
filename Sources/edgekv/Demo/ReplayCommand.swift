import ArgumentParser
import DemoApp
import EdgeCommandLine
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
            `N passed, M failed` (`, K skipped`); the exit status is 1 when any fixture failed or none passed (all \
            skipped: nothing was checked), 2 when the --target cannot be reached (nothing is run).
            """)

    @Argument(help: "Fixture files or folders of *.json fixtures.") var paths: [String]
    @Option(help: ArgumentHelp("Send the requests to this server (e.g. http://127.0.0.1:8787).", valueName: "url"))
    var target: String?
    @Option(help: ArgumentHelp("Write a JUnit XML report here (missing folders are created).", valueName: "file"))
    var junit: String?
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

    static let apps = [
        ReplayApp(name: "demo", kvBindings: DemoApp.kvBindings) { clock, logger in
            DemoApp().runtime(clock: clock, logger: logger)
        }
    ]

    func run() async throws {
        var logger = Logger(label: "edgekv.replay")
        // The fixtures' expectations speak for the app; a failed 500 still shows the errors it logged.
        logger.logLevel = verbose ? .info : .critical
        let runner = ReplayRunner(
            apps: Self.apps, target: target.map { .http(baseURL: $0) } ?? .inProcess, logger: logger)
        if try Fixture.files(in: paths).isEmpty {
            throw CLIError("no fixture files (*.json) in \(paths.joined(separator: ", "))")
        }
        // Before any fixture runs: a report that cannot be written should not cost a whole run.
        if let junit { try OutputFile.createParent(of: junit, for: "the JUnit report") }
        if let target {
            do {
                try ReplayRunner.checkReachable(target)
            } catch let error as ReplayTargetUnreachable {
                // Every fixture would fail the same way: one line, and the status that says "not run".
                Output.diagnostic("Error: \(error)")
                throw ExitCode(2)
            }
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
        // Nothing checked is not a pass: a run whose every fixture was skipped proves nothing about the target.
        if summary.passed == 0 {
            Output.diagnostic("Error: no fixture passed: every one was skipped, so nothing was checked")
            throw ExitCode(1)
        }
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
