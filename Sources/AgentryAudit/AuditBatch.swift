/// The pure part of an append, shared by every backend: times, leaves and the stored hashes of a batch.
public enum AuditBatch {
    /// One record ready to write.
    public struct Row: Sendable {
        /// The record's index.
        public let index: Int64
        /// The event as it will be stored (time adjusted).
        public let event: AuditEvent
        /// Its canonical leaf bytes.
        public let leaf: [UInt8]
        /// RFC 6962 hash of the leaf.
        public let recordHash: LogHash
        /// Its payloads.
        public let payloads: [AuditPayload]
    }

    /// Which entries of `batch` to append: every entry without an outbox id, and of the entries
    /// with one, the first per id still `waiting` (one taken out of the outbox by this transaction).
    /// The same entry delivered twice into one batch is thus appended once.
    public static func deliverable(_ batch: [AuditAppend], waiting: Set<String>) -> [Bool] {
        var unclaimed = waiting
        return batch.map { entry in
            guard let id = entry.outboxID else { return true }
            return unclaimed.remove(id) != nil
        }
    }

    /// The entries `deliverable` chose.
    public static func chosen(_ batch: [AuditAppend], _ deliverable: [Bool]) -> [AuditAppend] {
        zip(batch, deliverable).filter(\.1).map(\.0)
    }

    /// The outbox ids of `batch`, which the store removes from the outbox in the append's transaction.
    public static func outboxIDs(_ batch: [AuditAppend]) -> [String] { batch.compactMap(\.outboxID) }

    /// One result per entry: the next of `records` (those of the chosen entries) for each entry
    /// `deliverable` chose, nil for each it skipped.
    public static func results(_ deliverable: [Bool], records: [AuditRecord]) -> [AuditRecord?] {
        var next = records.makeIterator()
        let results = deliverable.map { chosen -> AuditRecord? in
            guard chosen else { return nil }
            guard let record = next.next() else { preconditionFailure("one record per chosen entry") }
            return record
        }
        precondition(next.next() == nil, "one record per chosen entry")
        return results
    }

    /// The stored-hash indexes below the batch that appending `count` records to a tree of `size` reads.
    public static func existingHashIndexes(size: Int64, count: Int) -> [Int64] {
        let firstNew = MerkleTree.storedHashIndex(level: 0, n: size)
        var needed = Set<Int64>()
        for n in size..<(size + Int64(count)) {
            for index in MerkleTree.storedHashesInput(forRecord: n) where index < firstNew { needed.insert(index) }
        }
        return needed.sorted()
    }

    /// Rows for `batch` appended to a tree of `size` whose last event time is `lastTime`.
    public static func rows(_ batch: [AuditAppend], size: Int64, lastTime: Int64) throws(AuditEncodingError) -> [Row] {
        var time = lastTime
        var rows: [Row] = []
        for (offset, entry) in batch.enumerated() {
            var entry = entry
            entry.event.time = max(entry.event.time, time)
            time = entry.event.time
            guard Set(entry.payloads.map(\.commitment)) == Set(entry.event.payloads) else {
                throw AuditEncodingError("the event's payload commitments do not match its payloads")
            }
            let (leaf, recordHash) = try entry.leafAndHash()
            rows.append(
                Row(
                    index: size + Int64(offset), event: entry.event, leaf: leaf, recordHash: recordHash,
                    payloads: entry.payloads))
        }
        return rows
    }

    /// The `(stored index, hash)` pairs to insert for `rows`, given the hashes at `existingHashIndexes`.
    public static func storedHashes(for rows: [Row], existing: [Int64: LogHash]) -> [(Int64, LogHash)] {
        var known = existing
        var output: [(Int64, LogHash)] = []
        for row in rows {
            let siblings = MerkleTree.storedHashesInput(forRecord: row.index).map { index in
                guard let hash = known[index] else { preconditionFailure("stored hash \(index) was not read") }
                return hash
            }
            let hashes = MerkleTree.storedHashes(
                forRecord: row.index, recordHash: row.recordHash, siblings: siblings)
            let base = MerkleTree.storedHashIndex(level: 0, n: row.index)
            for (offset, hash) in hashes.enumerated() {
                known[base + Int64(offset)] = hash
                output.append((base + Int64(offset), hash))
            }
        }
        return output
    }
}
