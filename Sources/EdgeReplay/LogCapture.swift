import Logging
import Synchronization

/// Keeps the lines a runtime logs at error level or above, so a failed step can show why the app answered 500.
final class LogCapture: Sendable {
    private let lines = Mutex<[String]>([])

    /// Returns the lines kept so far and forgets them.
    func take() -> [String] {
        lines.withLock { lines in
            defer { lines.removeAll() }
            return lines
        }
    }

    func append(_ line: String) { lines.withLock { $0.append(line) } }

    /// `base` with this capture added beside its own handler.
    func logger(teeing base: Logger) -> Logger {
        var logger = base
        logger.handler = MultiplexLogHandler([base.handler, Handler(capture: self)])
        return logger
    }

    /// A handler that renders each record on one line: `message (key: value, …)`.
    struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .error

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { _, new in new }
            let details = all.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
            capture.append("\(event.message)" + (details.isEmpty ? "" : " (\(details.joined(separator: ", ")))"))
        }
    }
}
