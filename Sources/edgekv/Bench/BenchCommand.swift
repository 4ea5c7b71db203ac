import ArgumentParser

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks, each reported as a ratio against its baseline.",
        subcommands: [KVBench.self, SessionBench.self, APIBench.self]
    )
}

/// The median of a benchmark's rounds (the upper middle one for an even count); `values` must not be empty.
func median(_ values: [Double]) -> Double {
    values.sorted()[values.count / 2]
}
