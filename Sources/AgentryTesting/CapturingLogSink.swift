import AgentryServer
import Logging
import Synchronization

/// A log sink that keeps every line, so tests can read what the server logged.
public final class CapturingLogSink: LogSink {
    private let storage = Mutex<[String]>([])

    /// Creates an empty sink.
    public init() {}

    /// Keeps `line`.
    public func write(_ line: String) { storage.withLock { $0.append(line) } }

    /// Every line written so far.
    public var lines: [String] { storage.withLock { $0 } }

    /// A logger at `level` that writes JSON lines into this sink.
    public func logger(level: Logger.Level = .debug) -> Logger {
        Logger(label: "agentry") { label in JSONLogHandler(label: label, level: level, sink: self) }
    }
}
