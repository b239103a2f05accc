import Crypto

/// Reads stored hashes by their storage index (see `MerkleTree.storedHashIndex`).
///
/// The one method the tree functions need from storage; implementations return hashes in the
/// order of `indexes` and throw when any is missing.
public protocol HashReader: Sendable {
    /// The hashes at `indexes`, in the same order.
    func readHashes(_ indexes: [Int64]) async throws -> [LogHash]
}

/// The RFC 6962 / RFC 9162 §2.1 Merkle tree as small pure functions, laid out for storage the way
/// Go's `sumdb/tlog` stores it: every complete subtree's hash is kept once, at a fixed index, so a
/// root, an inclusion proof or a consistency proof reads O(log n) stored hashes.
public enum MerkleTree {
    /// RFC 6962 §2.1: MTH({d(0)}) = SHA-256(0x00 ‖ d(0)).
    public static func recordHash(_ data: [UInt8]) -> LogHash {
        var hasher = SHA256()
        hasher.update(data: [0x00])
        hasher.update(data: data)
        return LogHash(finishing: hasher)
    }

    /// RFC 6962 §2.1: an interior node is SHA-256(0x01 ‖ left ‖ right).
    public static func nodeHash(_ left: LogHash, _ right: LogHash) -> LogHash {
        var hasher = SHA256()
        hasher.update(data: [0x01])
        left.withBytes { hasher.update(bufferPointer: $0) }
        right.withBytes { hasher.update(bufferPointer: $0) }
        return LogHash(finishing: hasher)
    }

    /// Where the `n`th hash of `level` is stored: level L's hash n is written right after level
    /// L+1's hash 2n+1 completes it, so the index depends only on (level, n).
    public static func storedHashIndex(level: Int, n: Int64) -> Int64 {
        precondition(level >= 0 && n >= 0, "storedHashIndex needs a non-negative level and n")
        var n = n
        for _ in 0..<level { n = 2 * n + 1 }
        var index: Int64 = 0
        while n > 0 {
            index += n
            n >>= 1
        }
        return index + Int64(level)
    }

    /// How many hashes a tree of `size` records stores: every leaf plus every completed subtree.
    public static func storedHashCount(size: Int64) -> Int64 {
        guard size > 0 else { return 0 }
        var count = storedHashIndex(level: 0, n: size - 1) + 1
        var bits = UInt64(size - 1)
        while bits & 1 != 0 {
            count += 1
            bits >>= 1
        }
        return count
    }

    /// The indexes whose hashes `storedHashes(forRecord:)` needs to append record `n` (0-based).
    public static func storedHashesInput(forRecord n: Int64) -> [Int64] {
        let completed = (UInt64(n) + 1).trailingZeroBitCount
        return (0..<completed).reversed().map { level in storedHashIndex(level: level, n: (n >> Int64(level)) - 1) }
    }

    /// The hashes to store when record `n` with hash `recordHash` is appended: the record hash,
    /// then one hash per subtree the record completes. `siblings` are the hashes read at
    /// `storedHashesInput(forRecord: n)`, in that order.
    public static func storedHashes(forRecord n: Int64, recordHash: LogHash, siblings: [LogHash]) -> [LogHash] {
        let completed = (UInt64(n) + 1).trailingZeroBitCount
        precondition(siblings.count == completed, "storedHashes needs one sibling per completed subtree")
        var hashes = [recordHash]
        var hash = recordHash
        for level in 0..<completed {
            hash = nodeHash(siblings[completed - 1 - level], hash)
            hashes.append(hash)
        }
        return hashes
    }

    /// The root of the first `size` records (RFC 6962 §2.1 MTH), read through `reader`.
    public static func treeHash(size: Int64, reader: some HashReader) async throws -> LogHash {
        guard size > 0 else { return .emptyTree }
        var hashes = try await reader.readHashes(subtreeIndexes(lo: 0, hi: size))[...]
        return subtreeHash(lo: 0, hi: size, hashes: &hashes)
    }

    // MARK: - Subtrees

    /// The largest power of two strictly less than `n` (RFC 6962 §2.1's k), and its exponent.
    static func largestPowerOfTwo(below n: Int64) -> (Int64, Int) {
        precondition(n > 1, "a split needs at least two leaves")
        var level = 0
        while Int64(1) << (level + 1) < n { level += 1 }
        return (Int64(1) << level, level)
    }

    /// Stored-hash indexes of the complete subtrees covering [lo, hi), left to right.
    static func subtreeIndexes(lo: Int64, hi: Int64, into need: inout [Int64]) {
        var lo = lo
        while lo < hi {
            let (k, level) = largestPowerOfTwo(below: hi - lo + 1)
            precondition(lo & (k - 1) == 0, "subtrees are aligned")
            need.append(storedHashIndex(level: level, n: lo >> Int64(level)))
            lo += k
        }
    }

    static func subtreeIndexes(lo: Int64, hi: Int64) -> [Int64] {
        var need: [Int64] = []
        subtreeIndexes(lo: lo, hi: hi, into: &need)
        return need
    }

    /// The hash of [lo, hi) from the complete-subtree hashes at the front of `hashes`, which it consumes.
    static func subtreeHash(lo: Int64, hi: Int64, hashes: inout ArraySlice<LogHash>) -> LogHash {
        var count = 0
        var lo = lo
        while lo < hi {
            lo += largestPowerOfTwo(below: hi - lo + 1).0
            count += 1
        }
        precondition(hashes.count >= count, "subtreeHash was given too few hashes")
        let parts = hashes.prefix(count)
        hashes = hashes.dropFirst(count)
        var hash = parts.last!
        for part in parts.dropLast().reversed() { hash = nodeHash(part, hash) }
        return hash
    }
}
