/// A payload to store apart from its leaf: the bytes and the salt its commitment was made with.
public struct AuditPayload: Sendable, Equatable {
    /// The commitment name in the event (`input`, `output`, …).
    public let name: String
    /// The random salt.
    public let salt: [UInt8]
    /// The payload bytes.
    public let bytes: [UInt8]
    /// The commitment the event carries for this payload, computed once.
    public let commitment: PayloadCommitment

    /// Creates a payload with a fresh salt.
    public init(name: String, bytes: [UInt8], salt: [UInt8] = PayloadCommitment.newSalt()) {
        self.name = name
        self.salt = salt
        self.bytes = bytes
        self.commitment = PayloadCommitment(name: name, hash: PayloadCommitment.commit(payload: bytes, salt: salt))
    }
}

/// An event waiting to be appended, with the payloads its commitments refer to.
public struct AuditAppend: Sendable {
    /// The event; its time is raised to the log's last time if it is earlier.
    public var event: AuditEvent
    /// The payloads, one per commitment in `event.payloads`.
    public var payloads: [AuditPayload]
    /// The leaf and record hash of `event` as it was when `prepare()` ran; used while the event is unchanged.
    var prepared: (event: AuditEvent, leaf: [UInt8], recordHash: LogHash)?
    /// The outbox entry this append delivers, if it came through the outbox: the store appends it
    /// only if the entry is still waiting, and removes it in the same transaction.
    public internal(set) var outboxID: String?

    /// Creates an append whose event commits to `payloads`.
    public init(event: AuditEvent, payloads: [AuditPayload] = []) {
        var event = event
        event.payloads = payloads.map(\.commitment).sorted { $0.name < $1.name }
        self.event = event
        self.payloads = payloads
    }

    /// Encodes the leaf and its record hash now, off the store's single writer, so a batch
    /// transaction only re-encodes events whose time it had to raise.
    public mutating func prepare() throws(AuditEncodingError) {
        let leaf = try event.encoded()
        prepared = (event, leaf, MerkleTree.recordHash(leaf))
    }

    /// The leaf and record hash of `event` as it is now.
    func leafAndHash() throws(AuditEncodingError) -> (leaf: [UInt8], recordHash: LogHash) {
        if let prepared, prepared.event == event { return (prepared.leaf, prepared.recordHash) }
        let leaf = try event.encoded()
        return (leaf, MerkleTree.recordHash(leaf))
    }
}

/// A record of the log: its index and the leaf bytes the tree hashes.
public struct AuditRecord: Sendable, Equatable {
    /// 0-based position in the log.
    public let index: Int64
    /// The canonical leaf bytes.
    public let leaf: [UInt8]

    /// Creates a record.
    public init(index: Int64, leaf: [UInt8]) {
        self.index = index
        self.leaf = leaf
    }

    /// The decoded event (the leaf is canonical, or the record was tampered with).
    public func event() throws(AuditEncodingError) -> AuditEvent { try AuditEvent(leaf: leaf) }
}

/// A stored payload with the record that committed to it.
public struct StoredPayload: Sendable, Equatable {
    /// The commitment hash (the payload's key).
    public let commitment: LogHash
    /// The record whose event committed to it.
    public let recordIndex: Int64
    /// The name, salt and bytes.
    public let payload: AuditPayload

    /// Creates a stored payload.
    public init(commitment: LogHash, recordIndex: Int64, payload: AuditPayload) {
        self.commitment = commitment
        self.recordIndex = recordIndex
        self.payload = payload
    }
}

/// Which records a listing returns; every condition present must hold.
public struct AuditFilter: Sendable, Equatable {
    public var kind: AuditEventKind?
    public var actor: String?
    public var subject: String?
    public var agent: String?
    public var run: String?
    /// Milliseconds since 1970, inclusive.
    public var since: Int64?
    /// Milliseconds since 1970, exclusive.
    public var until: Int64?

    /// A filter; no condition means every record.
    public init(
        kind: AuditEventKind? = nil, actor: String? = nil, subject: String? = nil, agent: String? = nil,
        run: String? = nil, since: Int64? = nil, until: Int64? = nil
    ) {
        self.kind = kind
        self.actor = actor
        self.subject = subject
        self.agent = agent
        self.run = run
        self.since = since
        self.until = until
    }
}

/// Storage of the audit log: records, stored tree hashes, checkpoints and payloads.
///
/// Contract, shared by every backend and checked by the conformance suite:
/// - `append` assigns the next indices under a lock inside one transaction (so several processes
///   can append), raises each event's time to the log's last time, writes leaves, stored hashes
///   and payloads, and returns only after the transaction is durable.
/// - Leaves and stored hashes are never updated or deleted; the database refuses it.
/// - Payloads are deleted only by `erasePayload`.
public protocol AuditStore: HashReader {
    /// Appends `batch` in order as one transaction; returns the records as stored, one per entry,
    /// nil for an outbox entry no longer waiting (delivered already), which is not appended again.
    func append(_ batch: [AuditAppend]) async throws -> [AuditRecord?]
    /// Like `append`, but the batch is what `collect` returns when it is called, once, inside the
    /// transaction after the append lock is held: entries queued while an earlier batch was being
    /// written join this one. An empty batch writes nothing.
    func append(collecting collect: @escaping @Sendable () -> [AuditAppend]) async throws -> [AuditRecord?]
    /// Number of records.
    func size() async throws -> Int64
    /// Up to `count` records from index `start` on, in index order.
    func records(from start: Int64, count: Int) async throws -> [AuditRecord]
    /// Number of records the filter index covers: records `0..<indexedSize` are indexed.
    func indexedSize() async throws -> Int64
    /// Indexes up to `limit` records past the end of the filter index in one transaction; returns how many.
    func extendIndex(limit: Int) async throws -> Int
    /// Up to `count` indexed records (index < `end`) matching `filter` with index ≥ `start`, in index order.
    func indexedRecords(matching filter: AuditFilter, from start: Int64, below end: Int64, count: Int) async throws
        -> [AuditRecord]
    /// The stored hashes at indexes `start..<start+count`, in order; throws `missingHashes` on a gap.
    func hashes(from start: Int64, count: Int) async throws -> [LogHash]
    /// Stores a signed checkpoint note for tree size `size` (once per size).
    func storeCheckpoint(size: Int64, note: String, at time: Int64) async throws
    /// Every stored checkpoint `(size, note)`, by size.
    func checkpoints() async throws -> [(size: Int64, note: String)]
    /// Runs `body` while holding the lease that makes one instance at a time sign checkpoints;
    /// returns nil without running it when another instance holds the lease.
    func withCheckpointLease<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T?
    /// The checkpoint of the largest size, if any (one indexed lookup, however many are stored).
    func latestCheckpoint() async throws -> (size: Int64, note: String)?
    /// The payload called `name` of record `record`, if it is stored (not erased).
    func payload(record: Int64, name: String) async throws -> StoredPayload?
    /// Every stored payload of records in `[start, start + count)`.
    func payloads(from start: Int64, count: Int) async throws -> [StoredPayload]
    /// Deletes payload `name` of record `record` and its salt, provided its commitment is the one
    /// `erasure.event.erases` names, and appends `erasure`, in one transaction; nil if there is no such payload.
    func erasePayload(record: Int64, name: String, erasure: AuditAppend) async throws -> AuditRecord?
    /// Up to `limit` outbox entries written before `time` (milliseconds since 1970), oldest first.
    func outbox(olderThan time: Int64, limit: Int) async throws -> [OutboxEntry]
}

extension AuditStore {
    /// A store without a lock to wait for collects the batch at once.
    public func append(collecting collect: @escaping @Sendable () -> [AuditAppend]) async throws -> [AuditRecord?] {
        try await append(collect())
    }
}

/// Failures of an audit store that mean its contents are damaged.
public enum AuditStoreError: Error, Equatable, Sendable {
    /// A stored tree hash the tree needs is missing.
    case missingHashes
    /// A payload row cannot be decoded.
    case corruptPayloadRow
}

/// Turns a range query's `(index, hex)` rows into hashes, refusing gaps and malformed values.
public enum AuditHashRange {
    /// The hashes for `start..<start+count` from `rows` sorted by index.
    public static func assemble(_ rows: [(index: Int64, hex: String)], from start: Int64, count: Int) throws
        -> [LogHash]
    {
        guard rows.count == count else { throw AuditStoreError.missingHashes }
        return try rows.enumerated().map { offset, row in
            guard row.index == start + Int64(offset), let hash = LogHash(hex: row.hex) else {
                throw AuditStoreError.missingHashes
            }
            return hash
        }
    }
}
