/// Appends events to the audit log with group commit: concurrent callers' events are batched into
/// one store transaction, and each `append` returns only after its batch is durable.
public actor AuditLog {
    /// The most events one transaction carries, so a flood cannot build an unbounded transaction.
    public static let batchMax = 1024

    private let store: any AuditStore
    private let clock: @Sendable () -> Int64
    private var pending: [(AuditAppend, CheckedContinuation<AuditRecord, any Error>)] = []
    private var flushing = false

    /// Creates the log over `store`; `clock` gives milliseconds since 1970.
    public init(store: any AuditStore, clock: @escaping @Sendable () -> Int64) {
        self.store = store
        self.clock = clock
    }

    /// Appends `entry` (its time set from the clock when zero) and returns the durable record.
    public func append(_ entry: AuditAppend) async throws -> AuditRecord {
        var entry = entry
        if entry.event.time == 0 { entry.event.time = clock() }
        // A malformed event is refused here, so it can never fail a batch of others.
        try entry.event.validate()
        return try await withCheckedThrowingContinuation { continuation in
            pending.append((entry, continuation))
            if !flushing {
                flushing = true
                Task { await self.flush() }
            }
        }
    }

    /// Appends an event built from its parts with the current time.
    @discardableResult
    public func record(
        _ kind: AuditEventKind, actor: String, subject: String? = nil, payloads: [AuditPayload] = []
    ) async throws -> AuditRecord {
        try await append(
            AuditAppend(
                event: AuditEvent(time: clock(), kind: kind, actor: actor, subject: subject), payloads: payloads))
    }

    /// Writes queued events in batches until none is left; events queued meanwhile join the next batch.
    private func flush() async {
        while !pending.isEmpty {
            let batch = Array(pending.prefix(Self.batchMax))
            pending.removeFirst(batch.count)
            do {
                let records = try await store.append(batch.map(\.0))
                precondition(records.count == batch.count, "the store returned one record per appended event")
                for (item, record) in zip(batch, records) { item.1.resume(returning: record) }
            } catch {
                for item in batch { item.1.resume(throwing: error) }
            }
        }
        flushing = false
    }
}
