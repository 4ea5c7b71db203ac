import ArgumentParser
import EdgeCommandLine

/// `edgekv bench`: the benchmarks, each reported as a ratio against its baseline.
public struct BenchCommand: AsyncParsableCommand {
    /// The command group and its benchmarks.
    public static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks, each reported as a ratio against its baseline.",
        discussion: """
            Each ratio has a stated target; the exit status is 1 when any ratio misses it, and stderr names which. \
            Measure a release build (`swift build -c release`): a debug build is many times slower and says so. \
            --quick runs one small round only to check that a benchmark still runs: its figures are not \
            measurements and no target is checked.
            """,
        subcommands: [KVBench.self, SessionBench.self, APIBench.self]
    )

    /// Creates the command (ArgumentParser parses its subcommands).
    public init() {}
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

/// The help of every benchmark's `--quick` flag.
let quickHelp = ArgumentHelp(
    """
    One small round, only to check that the benchmark runs (overrides the sizes and --rounds): the figures are not \
    measurements and no target is checked, so the exit status is 0 unless the run fails.
    """)

/// The last line of a quick run's table.
let quickRunNote = "quick run (--quick): one small round; these figures are not measurements"

/// Ends a benchmark: names on stderr each ratio that missed its target and exits 1 when any did. A quick run's
/// figures are too few to judge, so it says that no target was checked instead.
/// - Parameter missed: one line per miss, e.g. `get: ratio 0.71, target ≥ 0.80`.
func finishBenchmark(missed: [String], quick: Bool) throws {
    if quick {
        Output.diagnostic("quick run: the figures are not measurements and no target was checked")
        return
    }
    guard !missed.isEmpty else { return }
    for line in missed { Output.diagnostic("target missed: \(line)") }
    throw ExitCode(1)
}

/// The median of a benchmark's rounds (the upper middle one for an even count); `values` must not be empty.
func median(_ values: [Double]) -> Double {
    values.sorted()[values.count / 2]
}
