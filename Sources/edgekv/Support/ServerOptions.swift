import ArgumentParser
import EdgeCommandLine
import EdgeHTTP

/// The connection limits `serve` and `api` share.
struct ServerOptions: ParsableArguments {
    @Option(
        name: .customLong("idle-timeout"),
        help: ArgumentHelp("Close a keep-alive connection idle this many seconds.", valueName: "seconds"))
    var idleTimeout: Double = 30
    @Option(
        name: .customLong("header-timeout"),
        help: ArgumentHelp("Answer 408 and close when a request head takes longer.", valueName: "seconds"))
    var headerTimeout: Double = 10
    @Option(
        name: .customLong("body-timeout"),
        help: ArgumentHelp("Answer 408 and close when a request body stalls this long.", valueName: "seconds"))
    var bodyTimeout: Double = 30
    @Option(
        name: .customLong("shutdown-timeout"),
        help: ArgumentHelp(
            "On SIGINT/SIGTERM, close connections still busy after this many seconds.", valueName: "seconds"))
    var shutdownTimeout: Double = 5

    func validate() throws {
        for (flag, value) in [
            ("--idle-timeout", idleTimeout), ("--header-timeout", headerTimeout), ("--body-timeout", bodyTimeout),
            ("--shutdown-timeout", shutdownTimeout),
        ] where !(value >= 0.05 && value <= 86_400) {
            throw ValidationError("\(flag) takes seconds from 0.05 to 86400.")
        }
    }

    var timeouts: EdgeServer.Timeouts {
        EdgeServer.Timeouts(
            idle: .milliseconds(Int64(idleTimeout * 1000)), requestHead: .milliseconds(Int64(headerTimeout * 1000)),
            body: .milliseconds(Int64(bodyTimeout * 1000)), shutdown: .milliseconds(Int64(shutdownTimeout * 1000)))
    }
}

/// `host` as a URL's host: an IPv6 address in brackets (`http://[::1]:8788`), anything else as given.
func urlHost(_ host: String) -> String {
    host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
}

extension EdgeServer {
    /// ``run(onRunning:)``, with a port another process holds reported in the CLI's words.
    func runNamingPort(onRunning: @escaping @Sendable (Int) async -> Void) async throws {
        do {
            try await run(onRunning: onRunning)
        } catch let error as EdgeServerError where error.code == .addressInUse {
            throw CLIError("port \(configuration.port) is in use; pick another with --port")
        }
    }
}
