import AgentryAudit
import AgentrySQLite
import AgentryStore
import AgentryTesting
import Foundation
import Synchronization
import Testing

/// Group commit in `AuditLog`: a write takes its batch only once it may write, so events queued
/// meanwhile join it; a store that fails before taking its batch fails the waiting events.
@Suite("Audit log batching")
struct AuditLogBatchingTests {
    /// A real SQLite audit store whose `append(collecting:)` first waits at a gate of the test's,
    /// as a write waits for the store's lock, and records the size of each batch it collected.
    final class GatedStore: AuditStore {
        /// Which calls may go on, and the continuations of those waiting.
        struct Gates {
            var opened: Set<Int> = []
            var waiting: [Int: CheckedContinuation<Void, Never>] = [:]
        }

        let base: any AuditStore
        let arrivals = Atomic<Int>(0)
        let gates = Mutex(Gates())
        let batches = Mutex<[Int]>([])
        let failFirst: Bool

        init(base: any AuditStore, failFirst: Bool = false) {
            self.base = base
            self.failFirst = failFirst
        }

        /// Lets call `number` (0-based) go on, now or when it arrives.
        func open(_ number: Int) {
            let waiting = gates.withLock { gates in
                gates.opened.insert(number)
                return gates.waiting.removeValue(forKey: number)
            }
            waiting?.resume()
        }

        func append(collecting collect: @escaping @Sendable () -> [AuditAppend]) async throws -> [AuditRecord?] {
            let number = arrivals.add(1, ordering: .sequentiallyConsistent).oldValue
            await withCheckedContinuation { continuation in
                let go = gates.withLock { gates in
                    if gates.opened.contains(number) { return true }
                    gates.waiting[number] = continuation
                    return false
                }
                if go { continuation.resume() }
            }
            if failFirst, number == 0 { throw StoreError.unavailable(reason: "the disk went away") }
            let batch = collect()
            batches.withLock { $0.append(batch.count) }
            return try await base.append(batch)
        }

        func append(_ batch: [AuditAppend]) async throws -> [AuditRecord?] { try await base.append(batch) }
        func size() async throws -> Int64 { try await base.size() }
        func records(from start: Int64, count: Int) async throws -> [AuditRecord] {
            try await base.records(from: start, count: count)
        }
        func indexedSize() async throws -> Int64 { try await base.indexedSize() }
        func extendIndex(limit: Int) async throws -> Int { try await base.extendIndex(limit: limit) }
        func indexedRecords(matching filter: AuditFilter, from start: Int64, below end: Int64, count: Int)
            async throws -> [AuditRecord]
        {
            try await base.indexedRecords(matching: filter, from: start, below: end, count: count)
        }
        func hashes(from start: Int64, count: Int) async throws -> [LogHash] {
            try await base.hashes(from: start, count: count)
        }
        func readHashes(_ indexes: [Int64]) async throws -> [LogHash] { try await base.readHashes(indexes) }
        func storeCheckpoint(size: Int64, note: String, at time: Int64) async throws {
            try await base.storeCheckpoint(size: size, note: note, at: time)
        }
        func checkpoints() async throws -> [(size: Int64, note: String)] { try await base.checkpoints() }
        func withCheckpointLease<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T? {
            try await base.withCheckpointLease(body)
        }
        func latestCheckpoint() async throws -> (size: Int64, note: String)? { try await base.latestCheckpoint() }
        func payload(record: Int64, name: String) async throws -> StoredPayload? {
            try await base.payload(record: record, name: name)
        }
        func payloads(from start: Int64, count: Int) async throws -> [StoredPayload] {
            try await base.payloads(from: start, count: count)
        }
        func erasePayload(record: Int64, name: String, erasure: AuditAppend) async throws -> AuditRecord? {
            try await base.erasePayload(record: record, name: name, erasure: erasure)
        }
        func outbox(olderThan time: Int64, limit: Int) async throws -> [OutboxEntry] {
            try await base.outbox(olderThan: time, limit: limit)
        }
    }

    /// Waits until `condition` holds (a liveness wait, not a timing assertion).
    private static func eventually(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while !condition(), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(2)) }
        #expect(condition())
    }

    @Test func eventsQueuedWhileAWriteWaitsForTheLockJoinItsBatch() async throws {
        try await StoreFixture.withStore(.sqlite) { backend in
            let store = GatedStore(base: backend.audit)
            let log = AuditLog(store: store, clock: { 1_790_000_000_000 })
            let first = Task { try await log.append(AuditFixtures.append(0)) }
            try await Self.eventually { store.arrivals.load(ordering: .sequentiallyConsistent) == 1 }
            let second = Task { try await log.append(AuditFixtures.append(1)) }
            // The second event starts the second write: both events are queued, neither write has its batch.
            try await Self.eventually { store.arrivals.load(ordering: .sequentiallyConsistent) == 2 }
            store.open(0)
            let records = [try await first.value, try await second.value]
            #expect(Set(records.map(\.index)) == [0, 1])
            store.open(1)
            // The first write took both waiting events; the second found none and wrote nothing.
            try await Self.eventually { store.batches.withLock { $0.count } == 2 }
            store.open(2)
            let third = try await log.append(AuditFixtures.append(2))
            #expect(third.index == 2)
            #expect(store.batches.withLock { $0 } == [2, 0, 1])
            #expect(try await backend.audit.size() == 3)
        }
    }

    @Test func aStoreFailingBeforeItTakesItsBatchFailsTheWaitingEventsAndTheLogGoesOn() async throws {
        try await StoreFixture.withStore(.sqlite) { backend in
            let store = GatedStore(base: backend.audit, failFirst: true)
            let log = AuditLog(store: store, clock: { 1_790_000_000_000 })
            let first = Task { try await log.append(AuditFixtures.append(0)) }
            try await Self.eventually { store.arrivals.load(ordering: .sequentiallyConsistent) == 1 }
            store.open(0)
            await #expect(throws: StoreError.self) { try await first.value }
            store.open(1)
            store.open(2)
            let record = try await log.append(AuditFixtures.append(1))
            #expect(record.index == 0)
            #expect(try await backend.audit.size() == 1)
        }
    }
}
