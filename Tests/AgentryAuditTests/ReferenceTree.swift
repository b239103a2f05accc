import AgentryAudit

/// A naive RFC 6962 tree written straight from the RFC's recursive definitions, to check the
/// stored-hash implementation against. Subtree hashes are memoised so every-size tests stay fast.
final class ReferenceTree {
    let leaves: [LogHash]
    private var memo: [Int64: LogHash] = [:]

    init(leaves: [LogHash]) { self.leaves = leaves }

    /// RFC 6962 §2.1 MTH(D[lo:hi]).
    func hash(_ lo: Int, _ hi: Int) -> LogHash {
        if hi - lo == 0 { return .emptyTree }
        if hi - lo == 1 { return leaves[lo] }
        let key = Int64(lo) << 32 | Int64(hi)
        if let known = memo[key] { return known }
        let k = split(hi - lo)
        let value = MerkleTree.nodeHash(hash(lo, lo + k), hash(lo + k, hi))
        memo[key] = value
        return value
    }

    /// RFC 6962 §2.1.1 PATH(m, D[lo:hi]).
    func path(_ m: Int, _ lo: Int, _ hi: Int) -> [LogHash] {
        if hi - lo <= 1 { return [] }
        let k = split(hi - lo)
        if m < k { return path(m, lo, lo + k) + [hash(lo + k, hi)] }
        return path(m - k, lo + k, hi) + [hash(lo, lo + k)]
    }

    /// RFC 6962 §2.1.2 PROOF(m, D[0:n]) = SUBPROOF(m, D[0:n], true).
    func consistency(_ m: Int, _ n: Int) -> [LogHash] { subproof(m, 0, n, true) }

    private func subproof(_ m: Int, _ lo: Int, _ hi: Int, _ complete: Bool) -> [LogHash] {
        let n = hi - lo
        if m == n { return complete ? [] : [hash(lo, hi)] }
        let k = split(n)
        if m <= k { return subproof(m, lo, lo + k, complete) + [hash(lo + k, hi)] }
        return subproof(m - k, lo + k, hi, false) + [hash(lo, lo + k)]
    }

    /// The largest power of two strictly less than n.
    private func split(_ n: Int) -> Int {
        var k = 1
        while k << 1 < n { k <<= 1 }
        return k
    }
}

/// An in-memory store of the tree's stored hashes, appended the way the real stores append.
final class MemoryHashes: HashReader, @unchecked Sendable {
    private(set) var hashes: [LogHash] = []
    private(set) var size: Int64 = 0

    func append(recordHash: LogHash) {
        let input = MerkleTree.storedHashesInput(forRecord: size)
        let siblings = input.map { hashes[Int($0)] }
        let added = MerkleTree.storedHashes(forRecord: size, recordHash: recordHash, siblings: siblings)
        precondition(Int64(hashes.count) == MerkleTree.storedHashIndex(level: 0, n: size))
        hashes += added
        size += 1
    }

    func readHashes(_ indexes: [Int64]) async throws -> [LogHash] {
        try indexes.map { index in
            guard index >= 0, index < hashes.count else { throw ProofError.invalidInput("no stored hash \(index)") }
            return hashes[Int(index)]
        }
    }
}

/// Test leaf data: record i is the bytes of "record i".
func leafData(_ index: Int) -> [UInt8] { Array("record \(index)".utf8) }
