extension AuditVerifier {
    /// Incremental verification from a checkpoint the caller already trusts: the stored tree must
    /// still contain `trusted` (its root, recomputed from the stored frontier hashes), and only the
    /// records after it are re-hashed; their stored hashes, the checkpoints after `trusted` and
    /// their payloads are checked as in the full verification.
    public static func verify(
        store: some AuditStore, verifier: NoteVerifier, since trusted: Checkpoint, checkPayloads: Bool = true
    ) async throws -> VerificationReport {
        let storedCheckpoints = try await store.checkpoints()
        let size = try await store.size()
        guard trusted.size <= size else {
            throw VerificationFailure.truncation(checkpointSize: trusted.size, logSize: size)
        }
        guard try await MerkleTree.treeHash(size: trusted.size, reader: store) == trusted.root else {
            throw VerificationFailure.consistency(checkpointSize: trusted.size)
        }
        var events = EventChecks()
        if trusted.size > 0, let previous = try await store.records(from: trusted.size - 1, count: 1).first {
            events.lastTime = (try? previous.event().time) ?? 0
        }
        var start = trusted.size
        while start < size {
            let records = try await store.records(from: start, count: Int(min(Int64(pageSize), size - start)))
            guard !records.isEmpty else {
                throw VerificationFailure.leafMismatch(index: start, reason: "record is missing")
            }
            for (offset, record) in records.enumerated() {
                let index = start + Int64(offset)
                guard record.index == index else {
                    throw VerificationFailure.leafMismatch(index: index, reason: "record is missing or repeats")
                }
                try await checkStoredHashes(of: record, store: store)
                try events.check(record)
            }
            start += Int64(records.count)
        }
        if let extra = try await store.records(from: size, count: 1).first,
            try await !appendedSince(extra.index, store: store)
        {
            throw VerificationFailure.leafMismatch(index: extra.index, reason: "record beyond the log's size")
        }
        var report = VerificationReport()
        report.size = size
        report.root = try await MerkleTree.treeHash(size: size, reader: store)
        for (checkpointSize, note) in storedCheckpoints where checkpointSize > trusted.size {
            guard let checkpoint = try? Checkpoint.open(note, verifier: verifier), checkpoint.size == checkpointSize
            else {
                throw VerificationFailure.signature(checkpointSize: checkpointSize)
            }
            guard checkpoint.size <= size else {
                throw VerificationFailure.truncation(checkpointSize: checkpoint.size, logSize: size)
            }
            guard try await MerkleTree.treeHash(size: checkpoint.size, reader: store) == checkpoint.root else {
                throw VerificationFailure.consistency(checkpointSize: checkpoint.size)
            }
            report.checkpoints += 1
        }
        if checkPayloads {
            try await self.checkPayloads(
                store: store, from: trusted.size, size: size, commitments: events.commitments,
                erasures: events.erasures,
                report: &report)
        }
        return report
    }

    /// Recomputes the hashes appending `record` stores, from the stored siblings, and compares them.
    private static func checkStoredHashes(of record: AuditRecord, store: some AuditStore) async throws {
        let siblings = try await store.readHashes(MerkleTree.storedHashesInput(forRecord: record.index))
        let expected = MerkleTree.storedHashes(
            forRecord: record.index, recordHash: MerkleTree.recordHash(record.leaf), siblings: siblings)
        let first = MerkleTree.storedHashIndex(level: 0, n: record.index)
        let stored: [LogHash]
        do { stored = try await store.hashes(from: first, count: expected.count) } catch AuditStoreError.missingHashes {
            throw VerificationFailure.leafMismatch(index: record.index, reason: "stored tree hashes are missing")
        }
        guard stored == expected else {
            throw VerificationFailure.leafMismatch(
                index: record.index, reason: "the stored tree disagrees with the record")
        }
    }
}
