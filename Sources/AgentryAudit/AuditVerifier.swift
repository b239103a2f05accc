/// What `AuditVerifier.verify` found wrong; each class has its own exit code in `agentry audit verify`.
public enum VerificationFailure: Error, Equatable, Sendable, CustomStringConvertible {
    /// A checkpoint's signature does not verify with the log's key.
    case signature(checkpointSize: Int64)
    /// A checkpoint's root differs from the root recomputed from the records.
    case consistency(checkpointSize: Int64)
    /// A checkpoint (stored or trusted) covers more records than the log holds.
    case truncation(checkpointSize: Int64, logSize: Int64)
    /// A record is missing, extra, not canonical, out of time order, or disagrees with the stored tree.
    case leafMismatch(index: Int64, reason: String)
    /// A payload does not match its commitment, or is missing without an erasure event.
    case payloadMismatch(index: Int64, reason: String)

    /// The process exit code for this class of failure.
    public var exitCode: Int32 {
        switch self {
        case .signature: 10
        case .consistency: 11
        case .truncation: 12
        case .leafMismatch: 13
        case .payloadMismatch: 14
        }
    }

    /// One line naming the class and the first bad index.
    public var description: String {
        switch self {
        case .signature(let size) where size < 0: "signature: the trusted checkpoint is not signed by the log's key"
        case .signature(let size): "signature: the checkpoint at size \(size) is not signed by the log's key"
        case .consistency(let size): "consistency: the checkpoint at size \(size) does not match the records"
        case .truncation(let size, let logSize):
            "truncation: a checkpoint covers \(size) records but the log holds \(logSize)"
        case .leafMismatch(let index, let reason): "leaf mismatch at record \(index): \(reason)"
        case .payloadMismatch(let index, let reason): "payload mismatch at record \(index): \(reason)"
        }
    }
}

/// What a successful verification checked.
public struct VerificationReport: Sendable, Equatable {
    /// Records re-hashed.
    public var size: Int64 = 0
    /// The recomputed root.
    public var root: LogHash = .emptyTree
    /// Stored checkpoints whose signature and root were checked.
    public var checkpoints = 0
    /// Payloads re-hashed against their commitments.
    public var payloads = 0
    /// Payloads erased, each with the index of the `payload.erased` event that erased it.
    public var erased: [(commitment: LogHash, erasedBy: Int64)] = []

    public static func == (lhs: VerificationReport, rhs: VerificationReport) -> Bool {
        lhs.size == rhs.size && lhs.root == rhs.root && lhs.checkpoints == rhs.checkpoints
            && lhs.payloads == rhs.payloads
            && lhs.erased.map(\.commitment) == rhs.erased.map(\.commitment)
    }
}

/// Recomputes everything in an audit store and checks it against signed checkpoints.
public enum AuditVerifier {
    /// Records read per page.
    static let pageSize = 10_000

    /// Full verification: every record re-hashed, the tree rebuilt and compared with the stored
    /// hashes, every stored checkpoint's signature and root checked, `trusted` (a checkpoint kept
    /// outside the database) checked for truncation and consistency, every payload re-hashed.
    public static func verify(
        store: some AuditStore, verifier: NoteVerifier, trusted: Checkpoint? = nil, checkPayloads: Bool = true
    ) async throws -> VerificationReport {
        // Checkpoints first, then the size: every checkpoint read is then within the size read, so
        // a log that is appended to (and checkpointed) meanwhile verifies as of its size at the start.
        let storedCheckpoints = try await store.checkpoints()
        let size = try await store.size()
        var tree = HashBuffer()
        var report = VerificationReport()
        var events = EventChecks()
        var start: Int64 = 0
        // Reads run ahead of the hashing: the next page of records and this page's stored hashes are
        // fetched (on the database's own threads) while this page is re-hashed and decoded.
        func fetchRecords(_ from: Int64) -> Task<[AuditRecord], any Error>? {
            guard from < size else { return nil }
            return Task { try await store.records(from: from, count: Int(min(Int64(pageSize), size - from))) }
        }
        var pending = fetchRecords(0)
        // Decoding runs as a chain of tasks beside the hashing; a failure found by hashing first
        // waits for the earlier pages' decoding, so the first bad index is always the one reported.
        var decoded = Task<EventChecks, any Error> { EventChecks() }
        while start < size, let current = pending {
            let records = try await current.value
            guard !records.isEmpty else {
                throw VerificationFailure.leafMismatch(index: start, reason: "record is missing")
            }
            let first = MerkleTree.storedHashIndex(level: 0, n: start)
            let end = MerkleTree.storedHashCount(size: start + Int64(records.count))
            let storedHashes = Task { try await store.hashes(from: first, count: Int(end - first)) }
            pending = fetchRecords(start + Int64(records.count))
            for (offset, record) in records.enumerated() where record.index != start + Int64(offset) {
                let expected = start + Int64(offset)
                _ = try await decoded.value
                throw VerificationFailure.leafMismatch(
                    index: expected, reason: record.index < expected ? "record repeats" : "record is missing")
            }
            for record in records { tree.append(recordHash: MerkleTree.recordHash(record.leaf)) }
            // The stored hashes this page wrote must equal the rebuilt ones; the first difference names its record.
            let stored: [LogHash]
            do { stored = try await storedHashes.value } catch AuditStoreError.missingHashes {
                _ = try await decoded.value
                throw VerificationFailure.leafMismatch(index: start, reason: "stored tree hashes are missing")
            }
            for (offset, hash) in stored.enumerated() where !tree.matches(hash, at: first + Int64(offset)) {
                _ = try await decoded.value
                throw VerificationFailure.leafMismatch(
                    index: recordOf(storedIndex: first + Int64(offset), size: size),
                    reason: "the stored tree disagrees with the record")
            }
            let previous = decoded
            decoded = Task {
                var checks = try await previous.value
                for record in records { try checks.check(record) }
                return checks
            }
            start += Int64(records.count)
        }
        events = try await decoded.value
        if let extra = try await store.records(from: size, count: 1).first,
            try await !appendedSince(extra.index, store: store)
        {
            throw VerificationFailure.leafMismatch(index: extra.index, reason: "record beyond the log's size")
        }
        report.size = size
        report.root = try await MerkleTree.treeHash(size: size, reader: tree)
        report.checkpoints = try await checkCheckpoints(
            storedCheckpoints, tree: tree, size: size, verifier: verifier, trusted: trusted)
        if checkPayloads {
            try await self.checkPayloads(
                store: store, size: size, commitments: events.commitments, erasures: events.erasures, report: &report)
        }
        return report
    }

    /// Per-record checks of the decoded events: canonical form, time order, commitments and erasures.
    struct EventChecks: Sendable {
        var commitments: [LogHash: Int64] = [:]
        var erasures: [LogHash: Int64] = [:]
        var lastTime: Int64 = 0

        mutating func check(_ record: AuditRecord) throws {
            let event: AuditEvent
            do { event = try record.event() } catch {
                throw VerificationFailure.leafMismatch(index: record.index, reason: "not a canonical event (\(error))")
            }
            guard event.time >= lastTime else {
                throw VerificationFailure.leafMismatch(index: record.index, reason: "time goes backwards")
            }
            lastTime = event.time
            for payload in event.payloads { commitments[payload.hash] = record.index }
            if event.kind == .payloadErased, let erased = event.erases { erasures[erased] = record.index }
        }
    }

    /// The record whose append wrote stored hash `storedIndex`.
    static func recordOf(storedIndex: Int64, size: Int64) -> Int64 {
        var low: Int64 = 0
        var high = size - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if MerkleTree.storedHashIndex(level: 0, n: middle) <= storedIndex {
                low = middle
            } else {
                high = middle - 1
            }
        }
        return low
    }

    /// Whether a record or payload found at `index`, past the size a verification started with, was
    /// appended since (the log's size now covers it) rather than planted beyond the log's end.
    static func appendedSince(_ index: Int64, store: some AuditStore) async throws -> Bool {
        index < (try await store.size())
    }

    private static func checkCheckpoints(
        _ stored: [(size: Int64, note: String)], tree: HashBuffer, size: Int64, verifier: NoteVerifier,
        trusted: Checkpoint?
    ) async throws -> Int {
        var checked: [Checkpoint] = []
        for (storedSize, note) in stored {
            guard let checkpoint = try? Checkpoint.open(note, verifier: verifier), checkpoint.size == storedSize else {
                throw VerificationFailure.signature(checkpointSize: storedSize)
            }
            checked.append(checkpoint)
        }
        for checkpoint in checked + (trusted.map { [$0] } ?? []) {
            guard checkpoint.size <= size else {
                throw VerificationFailure.truncation(checkpointSize: checkpoint.size, logSize: size)
            }
            guard try await MerkleTree.treeHash(size: checkpoint.size, reader: tree) == checkpoint.root else {
                throw VerificationFailure.consistency(checkpointSize: checkpoint.size)
            }
        }
        return checked.count
    }

    /// Re-hashes the stored payloads of records `from..<size` and accounts for every commitment.
    static func checkPayloads(
        store: some AuditStore, from first: Int64 = 0, size: Int64, commitments: [LogHash: Int64],
        erasures: [LogHash: Int64], report: inout VerificationReport
    ) async throws {
        var seen = Set<LogHash>()
        var start = first
        while start < size {
            let page: [StoredPayload]
            let count = Int(min(Int64(pageSize), size - start))
            do { page = try await store.payloads(from: start, count: count) } catch AuditStoreError.corruptPayloadRow {
                throw VerificationFailure.payloadMismatch(index: start, reason: "a stored payload row is malformed")
            }
            for stored in page {
                let index = stored.recordIndex
                guard stored.payload.salt.count == PayloadCommitment.saltByteCount else {
                    throw VerificationFailure.payloadMismatch(
                        index: index, reason: "a payload salt has the wrong length")
                }
                guard commitments[stored.commitment] == index else {
                    throw VerificationFailure.payloadMismatch(
                        index: index, reason: "a stored payload no record commits to")
                }
                guard
                    PayloadCommitment.commit(payload: stored.payload.bytes, salt: stored.payload.salt)
                        == stored.commitment
                else {
                    throw VerificationFailure.payloadMismatch(
                        index: index, reason: "the payload does not match its commitment")
                }
                seen.insert(stored.commitment)
                report.payloads += 1
            }
            start += Int64(pageSize)
        }
        if let stray = try await store.payloads(from: size, count: Int(Int32.max)).first,
            try await !appendedSince(stray.recordIndex, store: store)
        {
            throw VerificationFailure.payloadMismatch(
                index: stray.recordIndex, reason: "a stored payload beyond the log's size")
        }
        for (commitment, index) in commitments.sorted(by: { $0.value < $1.value }) where !seen.contains(commitment) {
            guard let erasedBy = erasures[commitment], erasedBy > index else {
                throw VerificationFailure.payloadMismatch(
                    index: index, reason: "a payload is missing without an erasure event")
            }
            report.erased.append((commitment, erasedBy))
        }
    }
}

/// Stored tree hashes kept in memory as one contiguous array, for rebuilding a tree quickly.
public struct HashBuffer: HashReader {
    private var hashes: [LogHash] = []
    private(set) var size: Int64 = 0

    /// An empty tree.
    public init() {}

    /// Appends a record hash and the subtree hashes it completes.
    public mutating func append(recordHash: LogHash) {
        var hash = recordHash
        hashes.append(hash)
        // Each trailing 1 bit of the new size - 1 completes a subtree with its left sibling (sumdb/tlog layout).
        var level = 0
        var n = size
        while n & 1 == 1 {
            let sibling = hashes[Int(MerkleTree.storedHashIndex(level: level, n: (size >> Int64(level)) - 1))]
            hash = MerkleTree.nodeHash(sibling, hash)
            hashes.append(hash)
            level += 1
            n >>= 1
        }
        size += 1
    }

    /// Whether the stored hash at `index` equals `hash`.
    public func matches(_ hash: LogHash, at index: Int64) -> Bool { hashes[Int(index)] == hash }

    /// The stored hash at `index`.
    public func hash(at index: Int64) -> LogHash { hashes[Int(index)] }

    /// Reads stored hashes; indexes beyond the buffer are a proof-input error.
    public func readHashes(_ indexes: [Int64]) async throws -> [LogHash] {
        try indexes.map { index in
            guard index >= 0, index < hashes.count else { throw ProofError.invalidInput("no stored hash \(index)") }
            return hashes[Int(index)]
        }
    }
}
