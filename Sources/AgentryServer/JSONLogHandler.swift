import Foundation
import Logging

/// A swift-log backend that writes one JSON object per line: time, level, label, message, metadata.
///
/// Only `main` bootstraps it; tests pass a `LogSink` that collects lines so they can check that
/// every request line carries `request.id` and that no secret is ever logged.
public struct JSONLogHandler: LogHandler {
    /// Metadata attached to every line of this logger.
    public var metadata: Logger.Metadata = [:]
    /// Lines below this level are dropped.
    public var logLevel: Logger.Level
    private let label: String
    private let sink: any LogSink

    /// Creates a handler for `label` writing to `sink`.
    public init(label: String, level: Logger.Level = .info, sink: any LogSink) {
        self.label = label
        self.logLevel = level
        self.sink = sink
    }

    /// Reads or writes one metadata value.
    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Writes one line.
    public func log(event: LogEvent) {
        var fields: [(String, String)] = [
            ("time", Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(Date())),
            ("level", event.level.rawValue), ("label", label), ("message", event.message.description),
        ]
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        for key in merged.keys.sorted() { fields.append((key, merged[key]!.description)) }
        let line = "{" + fields.map { "\(JSONText.quoted($0.0)):\(JSONText.quoted($0.1))" }.joined(separator: ",") + "}"
        sink.write(line)
    }
}

/// Where log lines go.
public protocol LogSink: Sendable {
    /// Writes one complete line (without the trailing newline).
    func write(_ line: String)
}

/// Writes lines to standard error, where logs belong so standard output stays for the program's answers.
public struct StandardErrorSink: LogSink {
    /// Creates the sink.
    public init() {}

    /// Writes `line` and a newline to standard error in one call, so concurrent lines do not interleave.
    public func write(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

/// JSON string quoting for hand-built JSON text.
enum JSONText {
    /// `text` as a JSON string literal, escaping quotes, backslashes and control characters.
    static func quoted(_ text: String) -> String {
        var output = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case let control where control.value < 0x20:
                output +=
                    "\\u" + String(repeating: "0", count: 4 - String(control.value, radix: 16).count)
                    + String(control.value, radix: 16)
            default: output.unicodeScalars.append(scalar)
            }
        }
        return output + "\""
    }
}
