import EdgeKVTestSupport
import Foundation

/// `edgekv serve --port 0 ...` running as a child in a sandbox's working directory, with its port read from the
/// line it prints once it listens.
final class ServeProcess: Sendable {
    let child: ChildProcess
    let port: Int
    /// The line `edgekv serve` printed when it started listening.
    let banner: String

    /// Starts `edgekv serve --port 0 ARGUMENTS` in `box.work` and waits until it listens.
    /// - Parameter environment: `NAME=VALUE` variables set for edgekv (through `env`, which becomes edgekv).
    init(
        _ box: Sandbox, _ arguments: [String], environment: [String] = [], timeout: Duration = .seconds(300)
    ) async throws {
        // `sh` only changes into the working directory and then becomes edgekv (exec): signals reach edgekv itself.
        child = try ChildProcess(
            "/bin/sh",
            ["-c", #"cd "$1" && shift && exec "$@""#, "sh", box.work]
                + (environment.isEmpty ? [] : ["/usr/bin/env"] + environment)
                + [try ChildProcess.builtProduct("edgekv"), "serve", "--port", "0"] + arguments, timeout: timeout)
        var found: (String, Int)?
        var seen = 0
        while found == nil {
            let lines = try await child.waitForLines(atLeast: seen + 1)
            seen = lines.count
            // `http://HOST:PORT (…)`, HOST as `--host` gave it (an IPv6 address in brackets).
            for line in lines where line.hasPrefix("EdgeKV demo listening on http://") {
                let authority = line.dropFirst("EdgeKV demo listening on http://".count).prefix { $0 != " " }
                if let colon = authority.lastIndex(of: ":"), let port = Int(authority[authority.index(after: colon)...])
                {
                    found = (line, port)
                }
            }
        }
        banner = found!.0
        port = found!.1
    }

    /// How long `edgekv serve` or `edgekv api` may take to exit after SIGINT or SIGTERM before a test calls it a
    /// hang. The server drains open connections for at most its 5 s `--shutdown-timeout`; with none open, stops
    /// took at most 0.2 s in a debug build on two cores at load 14. Three times the drain limit.
    static let stopBound = Duration.seconds(15)

    var baseURL: String { "http://127.0.0.1:\(port)" }

    var client: HTTPTestClient { HTTPTestClient(port: port) }

    /// Sends `signal` and waits for the child to end; returns how it ended and how long that took.
    func stop(_ signal: Int32 = SIGINT) async throws -> (ChildProcess.Termination, Duration) {
        let start = ContinuousClock.now
        child.signal(signal)
        let termination = try await child.waitForExit()
        return (termination, ContinuousClock.now - start)
    }
}

extension HTTPTestResponse {
    /// Every `Set-Cookie` line, in order.
    var setCookies: [String] { headers("Set-Cookie") }

    /// The value the response gives cookie `name` (`name=value; ...`), if it sets it.
    func cookie(_ name: String) -> String? {
        for line in setCookies {
            let pair = line.split(separator: ";", maxSplits: 1).first ?? ""
            if pair.hasPrefix(name + "=") { return String(pair.dropFirst(name.count + 1)) }
        }
        return nil
    }

    /// The body parsed as JSON.
    func json() throws -> JSON {
        do {
            return try JSONDecoder().decode(JSON.self, from: Data(body))
        } catch {
            throw CLIFailure("the body is not JSON (\(error)): \(text)")
        }
    }
}
