import Synchronization

/// Appends events to the audit log with group commit: concurrent callers' events are batched into
/// one store transaction, and each `append` returns only after its batch is durable.
///
/// Up to `pipelineDepth` writes are in the store's hands at once, so when a commit ends the next
/// write is already waiting for the lock. A write takes its batch only once it holds the lock
/// (`AuditStore.append(collecting:)`), so every event queued while the previous batch was being
/// written joins it: batches are as large as the waiting allows, and no event waits for a batch
/// that was fixed before it arrived. The store's transaction, not this log, assigns indices.
public final class AuditLog: Sendable {
    /// The most events one transaction carries, so a flood cannot build an unbounded transaction.
    public static let batchMax = 1024
    /// How many writes may be in the store's hands at once.
    public static let pipelineDepth = 2

    private typealias Waiter = (entry: AuditAppend, continuation: CheckedContinuation<AuditRecord?, any Error>)

    /// Events waiting for a write, and how many writes are running.
    private struct Queue {
        var waiting: [Waiter] = []
        var writers = 0
    }

    private let store: any AuditStore
    private let clock: @Sendable () -> Int64
    private let queue = Mutex(Queue())

    /// Creates the log over `store`; `clock` gives milliseconds since 1970.
    public init(store: any AuditStore, clock: @escaping @Sendable () -> Int64) {
        self.store = store
        self.clock = clock
    }

    /// Appends `entry` (its time set from the clock when zero) and returns the durable record.
    /// Validation and encoding run here, concurrently with other callers; only queueing is serialised.
    public func append(_ entry: AuditAppend) async throws -> AuditRecord {
        var entry = entry
        if entry.event.time == 0 { entry.event.time = clock() }
        // A malformed event is refused here, so it can never fail a batch of others.
        try entry.event.validate()
        try entry.prepare()
        guard let record = try await enqueue(entry) else {
            preconditionFailure("only outbox entries are ever skipped")
        }
        return record
    }

    /// Appends an entry read from the outbox, unless it was delivered already (then nil), and
    /// removes it from the outbox in the same transaction.
    public func deliver(_ entry: AuditAppend) async throws -> AuditRecord? {
        precondition(entry.outboxID != nil, "deliver takes outbox entries")
        var entry = entry
        try entry.event.validate()
        try entry.prepare()
        return try await enqueue(entry)
    }

    /// Queues a prepared entry, starting a writer if fewer than `pipelineDepth` run, and waits
    /// until the batch that took it is durable.
    private func enqueue(_ entry: AuditAppend) async throws -> AuditRecord? {
        try await withCheckedThrowingContinuation { continuation in
            let start = queue.withLock { queue -> Bool in
                queue.waiting.append((entry, continuation))
                guard queue.writers < Self.pipelineDepth else { return false }
                queue.writers += 1
                return true
            }
            if start { Task { await self.write() } }
        }
    }

    /// Writes batches while events wait, then stops; the check for waiting events and the
    /// writer's count change together, so an event is never left without a writer.
    private func write() async {
        while queue.withLock({ queue in
            if queue.waiting.isEmpty { queue.writers -= 1 }
            return !queue.waiting.isEmpty
        }) {
            let taken = Taken()
            do {
                let records = try await store.append(collecting: {
                    let batch = self.takeBatch()
                    taken.batch.withLock { taken in
                        precondition(taken == nil, "a store collects its batch once per append")
                        taken = batch
                    }
                    return batch.map(\.entry)
                })
                let batch = taken.batch.withLock { $0 } ?? []
                precondition(records.count == batch.count, "the store returned one record per appended event")
                for (waiter, record) in zip(batch, records) { waiter.continuation.resume(returning: record) }
            } catch {
                // A store that failed before it collected fails the events that would have been its batch.
                for waiter in taken.batch.withLock({ $0 }) ?? takeBatch() {
                    waiter.continuation.resume(throwing: error)
                }
            }
        }
    }

    /// Takes the next batch out of the queue.
    private func takeBatch() -> [Waiter] {
        queue.withLock { queue in
            let batch = Array(queue.waiting.prefix(Self.batchMax))
            queue.waiting.removeFirst(batch.count)
            return batch
        }
    }

    /// The batch one write collected, nil until it got that far.
    private final class Taken: Sendable {
        let batch = Mutex<[Waiter]?>(nil)
    }
}
