import ArgumentParser

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks, each reported as a ratio against its baseline.",
        discussion: """
            Each ratio has a stated target; the exit status is 1 when any ratio misses it, and stderr names which. \
            Measure a release build (`swift build -c release`): a debug build is many times slower and says so.
            """,
        subcommands: [KVBench.self, SessionBench.self, APIBench.self]
    )
}

/// Warns on stderr when this binary is a debug build: its figures are far below a release build's and say nothing
/// about the targets.
func warnIfDebugBuild() {
    #if DEBUG
    Output.diagnostic(
        "warning: this edgekv is a debug build; its figures are not comparable to the targets "
            + "(build with `swift build -c release`)")
    #endif
}

/// Ends a benchmark: names on stderr each ratio that missed its target and exits 1 when any did.
/// - Parameter missed: one line per miss, e.g. `get: ratio 0.71, target ≥ 0.80`.
func finishBenchmark(missed: [String]) throws {
    guard !missed.isEmpty else { return }
    for line in missed { Output.diagnostic("target missed: \(line)") }
    throw ExitCode(1)
}

/// The median of a benchmark's rounds (the upper middle one for an even count); `values` must not be empty.
func median(_ values: [Double]) -> Double {
    values.sorted()[values.count / 2]
}
