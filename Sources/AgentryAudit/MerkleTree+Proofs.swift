/// Why a proof did not check out.
public enum ProofError: Error, Equatable, Sendable {
    /// The sizes or index are out of range for a proof (e.g. index ≥ tree size).
    case invalidInput(String)
    /// The proof does not lead to the expected root.
    case mismatch
}

extension MerkleTree {
    // MARK: Inclusion (RFC 6962 §2.1.1, RFC 9162 §2.1.3)

    /// The audit path proving record `index` is in the tree of `size` records, leaf side first.
    public static func proveInclusion(size: Int64, index: Int64, reader: some HashReader) async throws -> [LogHash] {
        guard index >= 0, size > 0, index < size else {
            throw ProofError.invalidInput("record \(index) is not in a tree of size \(size)")
        }
        var need: [Int64] = []
        inclusionIndexes(lo: 0, hi: size, n: index, into: &need)
        guard !need.isEmpty else { return [] }
        var hashes = try await reader.readHashes(need)[...]
        return inclusionProof(lo: 0, hi: size, n: index, hashes: &hashes)
    }

    /// Checks that `proof` shows `recordHash` at `index` in the tree of `size` records with `root`.
    public static func checkInclusion(
        proof: [LogHash], size: Int64, root: LogHash, index: Int64, recordHash: LogHash
    ) throws(ProofError) {
        guard index >= 0, size > 0, index < size else {
            throw .invalidInput("record \(index) is not in a tree of size \(size)")
        }
        guard try runInclusion(proof[...], lo: 0, hi: size, n: index, leaf: recordHash) == root else {
            throw .mismatch
        }
    }

    static func inclusionIndexes(lo: Int64, hi: Int64, n: Int64, into need: inout [Int64]) {
        precondition(lo <= n && n < hi)
        guard lo + 1 < hi else { return }
        let (k, _) = largestPowerOfTwo(below: hi - lo)
        if n < lo + k {
            inclusionIndexes(lo: lo, hi: lo + k, n: n, into: &need)
            subtreeIndexes(lo: lo + k, hi: hi, into: &need)
        } else {
            subtreeIndexes(lo: lo, hi: lo + k, into: &need)
            inclusionIndexes(lo: lo + k, hi: hi, n: n, into: &need)
        }
    }

    static func inclusionProof(lo: Int64, hi: Int64, n: Int64, hashes: inout ArraySlice<LogHash>) -> [LogHash] {
        guard lo + 1 < hi else { return [] }
        let (k, _) = largestPowerOfTwo(below: hi - lo)
        var proof: [LogHash]
        let sibling: LogHash
        if n < lo + k {
            proof = inclusionProof(lo: lo, hi: lo + k, n: n, hashes: &hashes)
            sibling = subtreeHash(lo: lo + k, hi: hi, hashes: &hashes)
        } else {
            sibling = subtreeHash(lo: lo, hi: lo + k, hashes: &hashes)
            proof = inclusionProof(lo: lo + k, hi: hi, n: n, hashes: &hashes)
        }
        proof.append(sibling)
        return proof
    }

    private static func runInclusion(
        _ proof: ArraySlice<LogHash>, lo: Int64, hi: Int64, n: Int64, leaf: LogHash
    ) throws(ProofError) -> LogHash {
        if lo + 1 == hi {
            guard proof.isEmpty else { throw .mismatch }
            return leaf
        }
        guard let sibling = proof.last else { throw .mismatch }
        let (k, _) = largestPowerOfTwo(below: hi - lo)
        if n < lo + k {
            return nodeHash(try runInclusion(proof.dropLast(), lo: lo, hi: lo + k, n: n, leaf: leaf), sibling)
        }
        return nodeHash(sibling, try runInclusion(proof.dropLast(), lo: lo + k, hi: hi, n: n, leaf: leaf))
    }

    // MARK: Consistency (RFC 6962 §2.1.2, RFC 9162 §2.1.4)

    /// The proof that the tree of `oldSize` records is a prefix of the tree of `size` records.
    public static func proveConsistency(size: Int64, oldSize: Int64, reader: some HashReader) async throws -> [LogHash]
    {
        guard oldSize >= 1, oldSize <= size else {
            throw ProofError.invalidInput("cannot prove size \(oldSize) consistent with size \(size)")
        }
        var need: [Int64] = []
        consistencyIndexes(lo: 0, hi: size, n: oldSize, into: &need)
        guard !need.isEmpty else { return [] }
        var hashes = try await reader.readHashes(need)[...]
        return consistencyProof(lo: 0, hi: size, n: oldSize, hashes: &hashes)
    }

    /// Checks that `proof` shows the tree (`oldSize`, `oldRoot`) is a prefix of (`size`, `root`).
    public static func checkConsistency(
        proof: [LogHash], size: Int64, root: LogHash, oldSize: Int64, oldRoot: LogHash
    ) throws(ProofError) {
        guard oldSize >= 1, oldSize <= size else {
            throw .invalidInput("cannot check size \(oldSize) against size \(size)")
        }
        let (old, new) = try runConsistency(proof[...], lo: 0, hi: size, n: oldSize, old: oldRoot)
        guard old == oldRoot, new == root else { throw .mismatch }
    }

    static func consistencyIndexes(lo: Int64, hi: Int64, n: Int64, into need: inout [Int64]) {
        precondition(lo < n && n <= hi)
        if n == hi {
            if lo != 0 { subtreeIndexes(lo: lo, hi: hi, into: &need) }
            return
        }
        let (k, _) = largestPowerOfTwo(below: hi - lo)
        if n <= lo + k {
            consistencyIndexes(lo: lo, hi: lo + k, n: n, into: &need)
            subtreeIndexes(lo: lo + k, hi: hi, into: &need)
        } else {
            subtreeIndexes(lo: lo, hi: lo + k, into: &need)
            consistencyIndexes(lo: lo + k, hi: hi, n: n, into: &need)
        }
    }

    static func consistencyProof(lo: Int64, hi: Int64, n: Int64, hashes: inout ArraySlice<LogHash>) -> [LogHash] {
        if n == hi {
            return lo == 0 ? [] : [subtreeHash(lo: lo, hi: hi, hashes: &hashes)]
        }
        let (k, _) = largestPowerOfTwo(below: hi - lo)
        var proof: [LogHash]
        let sibling: LogHash
        if n <= lo + k {
            proof = consistencyProof(lo: lo, hi: lo + k, n: n, hashes: &hashes)
            sibling = subtreeHash(lo: lo + k, hi: hi, hashes: &hashes)
        } else {
            sibling = subtreeHash(lo: lo, hi: lo + k, hashes: &hashes)
            proof = consistencyProof(lo: lo + k, hi: hi, n: n, hashes: &hashes)
        }
        proof.append(sibling)
        return proof
    }

    /// Returns (old subtree hash, new subtree hash) for [lo, hi) as the proof implies them.
    private static func runConsistency(
        _ proof: ArraySlice<LogHash>, lo: Int64, hi: Int64, n: Int64, old: LogHash
    ) throws(ProofError) -> (LogHash, LogHash) {
        if n == hi {
            if lo == 0 {
                guard proof.isEmpty else { throw .mismatch }
                return (old, old)
            }
            guard proof.count == 1, let only = proof.first else { throw .mismatch }
            return (only, only)
        }
        guard let sibling = proof.last else { throw .mismatch }
        let (k, _) = largestPowerOfTwo(below: hi - lo)
        if n <= lo + k {
            let (oldHash, newHash) = try runConsistency(proof.dropLast(), lo: lo, hi: lo + k, n: n, old: old)
            return (oldHash, nodeHash(newHash, sibling))
        }
        let (oldHash, newHash) = try runConsistency(proof.dropLast(), lo: lo + k, hi: hi, n: n, old: old)
        return (nodeHash(sibling, oldHash), nodeHash(sibling, newHash))
    }
}
