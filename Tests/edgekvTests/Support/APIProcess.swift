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
    let prefix = "EdgeKV KV API listening on http://127.0.0.1:"
    var seen = 0
    while true {
        let lines = try await child.waitForLines(atLeast: seen + 1)
        seen = lines.count
        for line in lines where line.hasPrefix(prefix) {
            if let port = Int(line.dropFirst(prefix.count).prefix { $0.isNumber }) { return (child, port) }
        }
    }
}
