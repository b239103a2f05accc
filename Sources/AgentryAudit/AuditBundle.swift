/// An offline copy of the audit log for auditors: records, checkpoints and payloads, verifiable
/// with nothing but the verifier key. `records(from:count:)` and the other reads serve it, so
/// `AuditVerifier` checks a bundle exactly as it checks a live store.
public final class AuditBundle: AuditStore, @unchecked Sendable {
    /// The records, in index order.
    public let bundleRecords: [AuditRecord]
    /// The signed checkpoints `(size, note)`.
    public let bundleCheckpoints: [(size: Int64, note: String)]
    /// The payloads still stored when the bundle was made.
    public let bundlePayloads: [StoredPayload]
    private let tree: HashBuffer

    /// Creates a bundle; the tree hashes are recomputed from the records, never taken on trust.
    public init(records: [AuditRecord], checkpoints: [(size: Int64, note: String)], payloads: [StoredPayload]) {
        bundleRecords = records.sorted { $0.index < $1.index }
        bundleCheckpoints = checkpoints.sorted { $0.size < $1.size }
        bundlePayloads = payloads
        var tree = HashBuffer()
        for record in bundleRecords { tree.append(recordHash: MerkleTree.recordHash(record.leaf)) }
        self.tree = tree
    }

    /// A bundle holds what it was given; appending to it is a programming error.
    public func append(_ batch: [AuditAppend]) async throws -> [AuditRecord] {
        preconditionFailure("an audit bundle is read-only")
    }

    public func size() async throws -> Int64 { Int64(bundleRecords.count) }

    public func records(from start: Int64, count: Int) async throws -> [AuditRecord] {
        Array(bundleRecords.drop { $0.index < start }.prefix(count))
    }

    public func records(matching filter: AuditFilter, from start: Int64, count: Int) async throws -> [AuditRecord] {
        try await records(from: start, count: Int.max).filter { record in
            guard let event = try? record.event() else { return false }
            return (filter.kind.map { $0 == event.kind } ?? true) && (filter.actor.map { $0 == event.actor } ?? true)
                && (filter.subject.map { $0 == event.subject } ?? true)
                && (filter.agent.map { $0 == event.agent } ?? true)
                && (filter.run.map { $0 == event.run } ?? true) && (filter.since.map { event.time >= $0 } ?? true)
                && (filter.until.map { event.time < $0 } ?? true)
        }.prefix(count).map { $0 }
    }

    public func readHashes(_ indexes: [Int64]) async throws -> [LogHash] { try await tree.readHashes(indexes) }

    public func hashes(from start: Int64, count: Int) async throws -> [LogHash] {
        try await tree.readHashes(Array(start..<(start + Int64(count))))
    }

    public func storeCheckpoint(size: Int64, note: String, at time: Int64) async throws {
        preconditionFailure("an audit bundle is read-only")
    }

    public func checkpoints() async throws -> [(size: Int64, note: String)] { bundleCheckpoints }

    public func latestCheckpoint() async throws -> (size: Int64, note: String)? { bundleCheckpoints.last }

    /// A bundle never signs; the lease is trivially free.
    public func withCheckpointLease<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T? {
        try await body()
    }

    public func payload(commitment: LogHash) async throws -> StoredPayload? {
        bundlePayloads.first { $0.commitment == commitment }
    }

    public func payloads(from start: Int64, count: Int) async throws -> [StoredPayload] {
        bundlePayloads.filter { $0.recordIndex >= start && $0.recordIndex < start + Int64(count) }
    }

    public func erasePayload(commitment: LogHash, erasure: AuditAppend) async throws -> AuditRecord? {
        preconditionFailure("an audit bundle is read-only")
    }
}
