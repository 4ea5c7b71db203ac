import EdgeKV
import Foundation

/// How one fixture went.
public struct ReplayResult: Sendable {
    /// Passed, failed or skipped.
    public enum Outcome: Sendable, Hashable {
        /// Every expectation held.
        case passed
        /// At least one expectation failed (or the fixture could not run).
        case failed
        /// The fixture needs what the target cannot give (in-process env, clock or KV).
        case skipped(reason: String)
    }

    /// The fixture's name.
    public var name: String
    /// Its file.
    public var file: String?
    /// The outcome.
    public var outcome: Outcome
    /// Each failure: the step, what was expected and what came.
    public var failures: [String]
    /// Whether the fixture could not run at all (it breaks the format, names an app or KV binding that does not
    /// exist, or the target could not be reached) rather than ran and missed an expectation: JUnit reports it as an
    /// `<error>`, a missed expectation as a `<failure>`.
    public var broken = false
    /// How long it took.
    public var duration: Duration
}

/// The last line of a replay and the JUnit report.
public struct ReplaySummary: Sendable {
    /// Every fixture's result, in order.
    public var results: [ReplayResult]

    /// Creates a summary.
    public init(results: [ReplayResult]) { self.results = results }

    /// Fixtures that passed.
    public var passed: Int { results.filter { $0.outcome == .passed }.count }
    /// Fixtures that failed.
    public var failed: Int { results.filter { $0.outcome == .failed }.count }
    /// Failed fixtures that could not run at all (``ReplayResult/broken``).
    public var broken: Int { results.filter { $0.outcome == .failed && $0.broken }.count }
    /// Fixtures skipped.
    public var skipped: Int {
        results.filter { if case .skipped = $0.outcome { true } else { false } }.count
    }

    /// `N passed, M failed` (`, K skipped` when any were).
    public var line: String {
        "\(passed) passed, \(failed) failed" + (skipped > 0 ? ", \(skipped) skipped" : "")
    }

    /// A JUnit XML report with one test case per fixture.
    public var junitXML: String {
        func esc(_ s: String) -> String {
            var out = ""
            for scalar in s.unicodeScalars {
                switch scalar {
                case "&": out += "&amp;"
                case "<": out += "&lt;"
                case ">": out += "&gt;"
                case "\"": out += "&quot;"
                case "'": out += "&apos;"
                case "\n", "\t", "\r": out.unicodeScalars.append(scalar)
                default:
                    if scalar.value < 0x20 || (0xD800...0xDFFF).contains(scalar.value) || scalar.value == 0xFFFE
                        || scalar.value == 0xFFFF
                    {
                        out += "?"
                    } else {
                        out.unicodeScalars.append(scalar)
                    }
                }
            }
            return out
        }
        func seconds(_ d: Duration) -> String {
            String(format: "%.3f", d.inSeconds)
        }
        let total = results.reduce(Duration.zero) { $0 + $1.duration }
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        let counts =
            "tests=\"\(results.count)\" failures=\"\(failed - broken)\" errors=\"\(broken)\" skipped=\"\(skipped)\" "
            + "time=\"\(seconds(total))\""
        xml += "<testsuites \(counts)>\n"
        xml += "  <testsuite name=\"edgekv replay\" \(counts)>\n"
        for r in results {
            let classname = esc(r.file ?? "fixtures")
            xml += "    <testcase name=\"\(esc(r.name))\" classname=\"\(classname)\" time=\"\(seconds(r.duration))\""
            switch r.outcome {
            case .passed: xml += "/>\n"
            case .skipped(let reason): xml += ">\n      <skipped message=\"\(esc(reason))\"/>\n    </testcase>\n"
            case .failed:
                let message = r.failures.first ?? "failed"
                let element = r.broken ? "error" : "failure"
                xml +=
                    ">\n      <\(element) message=\"\(esc(message))\">\(esc(r.failures.joined(separator: "\n\n")))</\(element)>\n"
                xml += "    </testcase>\n"
            }
        }
        xml += "  </testsuite>\n</testsuites>\n"
        return xml
    }
}
