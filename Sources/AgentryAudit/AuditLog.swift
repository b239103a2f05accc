/// Appends events to the audit log with group commit: concurrent callers' events are batched into
/// one store transaction, and each `append` returns only after its batch is durable.
///
/// Up to `pipelineDepth` batches are handed to the store at once, so the store's writer finds the
/// next batch waiting when a commit ends instead of idling while this actor is woken to send it.
/// The store's transaction, not this actor, assigns indices, so batches in flight never overlap.
public actor AuditLog {
    /// The most events one transaction carries, so a flood cannot build an unbounded transaction.
    public static let batchMax = 1024
    /// How many batches may be in the store's hands at once.
    public static let pipelineDepth = 2

    private let store: any AuditStore
    private let clock: @Sendable () -> Int64
    private var pending: [(AuditAppend, CheckedContinuation<AuditRecord?, any Error>)] = []
    private var inFlight = 0

    /// Creates the log over `store`; `clock` gives milliseconds since 1970.
    public init(store: any AuditStore, clock: @escaping @Sendable () -> Int64) {
        self.store = store
        self.clock = clock
    }

    /// Appends `entry` (its time set from the clock when zero) and returns the durable record.
    /// Validation and encoding run here, concurrently with other callers; only queueing is serialised.
    public nonisolated func append(_ entry: AuditAppend) async throws -> AuditRecord {
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
    public nonisolated func deliver(_ entry: AuditAppend) async throws -> AuditRecord? {
        precondition(entry.outboxID != nil, "deliver takes outbox entries")
        var entry = entry
        try entry.event.validate()
        try entry.prepare()
        return try await enqueue(entry)
    }

    /// Queues a prepared entry for the next batch and waits until that batch is durable.
    private func enqueue(_ entry: AuditAppend) async throws -> AuditRecord? {
        try await withCheckedThrowingContinuation { continuation in
            pending.append((entry, continuation))
            startBatches()
        }
    }

    /// Hands queued events to the store in batches while fewer than `pipelineDepth` are in flight.
    private func startBatches() {
        while inFlight < Self.pipelineDepth, !pending.isEmpty {
            let batch = Array(pending.prefix(Self.batchMax))
            pending.removeFirst(batch.count)
            inFlight += 1
            Task { await self.write(batch) }
        }
    }

    /// Writes one batch, answers its callers, and starts the events queued meanwhile.
    private func write(_ batch: [(AuditAppend, CheckedContinuation<AuditRecord?, any Error>)]) async {
        do {
            let records = try await store.append(batch.map(\.0))
            precondition(records.count == batch.count, "the store returned one record per appended event")
            for (item, record) in zip(batch, records) { item.1.resume(returning: record) }
        } catch {
            for item in batch { item.1.resume(throwing: error) }
        }
        inFlight -= 1
        startBatches()
    }
}
