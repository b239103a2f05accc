import Foundation
import GRDB
import Synchronization

/// Copies the write-ahead log into the database file from a connection of its own, so the
/// connection that commits appends and reservations does not stop for checkpoints.
///
/// A passive checkpoint waits for nobody: it copies what no reader still needs, and the writer
/// starts the log over at its next transaction once all of it was copied. The writer keeps an
/// automatic checkpoint at `writerBackstopPages` as a backstop, should this connection fall
/// behind or fail.
final class SQLiteCheckpointer: Sendable {
    /// The write-ahead log size, in pages, at which the writer checkpoints by itself.
    static let writerBackstopPages = 16_384
    /// The size the write-ahead log file is cut back to when it starts over (64 MiB), so a burst
    /// that grew it does not keep the disk space.
    static let journalSizeLimitBytes = 64 << 20

    /// Counts checkpoints that copied frames, shared with the loop.
    private final class Progress: Sendable {
        let copying = Atomic<Int>(0)
    }

    private let progress = Progress()
    private let task: Task<Void, Never>

    /// How many checkpoints have copied frames so far (for tests and diagnostics).
    var checkpointsCopyingFrames: Int { progress.copying.load(ordering: .relaxed) }

    /// Checkpoints the database at `path` every `interval` until `stop()`.
    init(path: String, interval: Duration = .milliseconds(50)) throws {
        var configuration = Configuration()
        configuration.label = "agentry-checkpoint"
        let connection = try DatabaseQueue(path: path, configuration: configuration)
        let progress = progress
        task = Task {
            var copied = 0
            while !Task.isCancelled {
                // A failed or busy checkpoint leaves the log as it was; the next pass tries again.
                if let frames = try? await connection.writeWithoutTransaction({ db in try db.checkpoint(.passive) }) {
                    // The count restarts from zero when the writer starts the log over.
                    if frames.checkpointedFrameCount > 0, frames.checkpointedFrameCount != copied {
                        progress.copying.wrappingAdd(1, ordering: .relaxed)
                    }
                    copied = frames.checkpointedFrameCount
                }
                do { try await Task.sleep(for: interval) } catch { break }
            }
            try? connection.close()
        }
    }

    /// Stops checkpointing and waits until its connection is closed.
    func stop() async {
        task.cancel()
        await task.value
    }

    deinit { task.cancel() }
}
