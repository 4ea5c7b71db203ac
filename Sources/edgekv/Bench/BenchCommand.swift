import ArgumentParser

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks, each reported as a ratio against its baseline.",
        subcommands: [KVBench.self, SessionBench.self, APIBench.self]
    )
}
