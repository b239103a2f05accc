import AgentryAudit
import Foundation

/// An append-only file outside the database that receives every signed checkpoint, one JSON line
/// each, so a database rolled back or truncated by someone can be caught at the next start.
public struct CheckpointFile: Sendable {
    /// The file's path.
    public let path: String

    /// One line of the file.
    struct Line: Codable {
        let size: Int64
        let note: String
    }

    /// Creates the handle; the file is created on the first append.
    public init(path: String) { self.path = path }

    /// Appends `note` for `size` and flushes it to disk before returning.
    public func append(size: Int64, note: String) throws {
        var data = try JSONEncoder().encode(Line(size: size, note: note))
        data.append(0x0A)
        do {
            try DurableFile.write(Array(data), to: path, mode: .append, permissions: 0o644)
        } catch {
            throw AuditKeyError(description: error.description)
        }
    }

    /// The newest checkpoint note in the file, or nil when there is none yet.
    public func latestNote() throws -> String? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw AuditKeyError(description: "cannot read the checkpoint file \(path)")
        }
        guard let last = text.split(separator: "\n").last else { return nil }
        guard let line = try? JSONDecoder().decode(Line.self, from: Data(last.utf8)) else {
            throw AuditKeyError(description: "the last line of the checkpoint file \(path) is not a checkpoint")
        }
        return line.note
    }
}
