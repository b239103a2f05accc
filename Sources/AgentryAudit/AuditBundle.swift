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
    public func append(_ batch: [AuditAppend]) async throws -> [AuditRecord?] {
        preconditionFailure("an audit bundle is read-only")
    }

    public func size() async throws -> Int64 { Int64(bundleRecords.count) }

    public func records(from start: Int64, count: Int) async throws -> [AuditRecord] {
        // Binary search for the first record at or past `start`: pages of a large bundle stay cheap.
        var (low, high) = (0, bundleRecords.count)
        while low < high {
            let middle = (low + high) / 2
            if bundleRecords[middle].index < start { low = middle + 1 } else { high = middle }
        }
        return Array(bundleRecords[low...].prefix(count))
    }

    /// A bundle keeps no filter index: filtered listings decode its leaves.
    public func indexedSize() async throws -> Int64 { 0 }

    public func extendIndex(limit: Int) async throws -> Int { 0 }

    public func indexedRecords(matching filter: AuditFilter, from start: Int64, below end: Int64, count: Int)
        async throws -> [AuditRecord]
    { [] }

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

    public func payload(record: Int64, name: String) async throws -> StoredPayload? {
        bundlePayloads.first { $0.recordIndex == record && $0.payload.name == name }
    }

    public func payloads(from start: Int64, count: Int) async throws -> [StoredPayload] {
        bundlePayloads.filter { $0.recordIndex >= start && $0.recordIndex < start + Int64(count) }
    }

    /// A bundle has no outbox.
    public func outbox(olderThan time: Int64, limit: Int) async throws -> [OutboxEntry] { [] }

    public func erasePayload(record: Int64, name: String, erasure: AuditAppend) async throws -> AuditRecord? {
        preconditionFailure("an audit bundle is read-only")
    }
}
