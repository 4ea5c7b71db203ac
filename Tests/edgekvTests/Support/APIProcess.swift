import EdgeKVTestSupport

/// `env VARIABLES edgekv api --port 0 --persist-to STATE ARGUMENTS`, once it listens: the child and its port.
/// `env` puts the variables in place and becomes edgekv (exec), so they are not in edgekv's command line.
func startAPIProcess(
    _ box: Sandbox, environment: [String] = [], _ arguments: [String] = [], timeout: Duration = .seconds(300)
) async throws -> (ChildProcess, Int) {
    let child = try ChildProcess(
        "/usr/bin/env",
        environment + [try ChildProcess.builtProduct("edgekv"), "api", "--port", "0", "--persist-to", box.state]
            + arguments,
        timeout: timeout)
    // `http://HOST:PORT/client/v4`, HOST as `--host` gave it (an IPv6 address in brackets).
    let prefix = "EdgeKV KV API listening on http://"
    var seen = 0
    while true {
        let lines = try await child.waitForLines(atLeast: seen + 1)
        seen = lines.count
        for line in lines where line.hasPrefix(prefix) {
            let authority = line.dropFirst(prefix.count).prefix { $0 != "/" }
            if let colon = authority.lastIndex(of: ":"), let port = Int(authority[authority.index(after: colon)...]) {
                return (child, port)
            }
        }
    }
}
