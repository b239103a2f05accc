import AgentryAudit
import Testing

@Suite("Merkle tree")
struct MerkleTreeTests {
    /// transparency-dev/merkle testonly: RFC 6962 leaf inputs and the roots of trees of size 0…8.
    static let knownLeaves = [
        "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f",
    ]
    static let knownRoots = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]

    @Test func publishedRootsOfSizes0To8Match() async throws {
        let store = MemoryHashes()
        #expect(try await MerkleTree.treeHash(size: 0, reader: store).hex == Self.knownRoots[0])
        for (index, leaf) in Self.knownLeaves.enumerated() {
            store.append(recordHash: MerkleTree.recordHash(HexText.decode(leaf)!))
            #expect(
                try await MerkleTree.treeHash(size: Int64(index + 1), reader: store).hex == Self.knownRoots[index + 1])
        }
    }

    @Test func storedHashIndexesMatchTheLayout() {
        // Level 0 hashes and the subtree hashes they complete interleave: 0 1 [2] 3 4 [5] [6] 7 …
        #expect((0..<4).map { MerkleTree.storedHashIndex(level: 0, n: $0) } == [0, 1, 3, 4])
        #expect(MerkleTree.storedHashIndex(level: 1, n: 0) == 2)
        #expect(MerkleTree.storedHashIndex(level: 1, n: 1) == 5)
        #expect(MerkleTree.storedHashIndex(level: 2, n: 0) == 6)
        #expect((0...8).map { MerkleTree.storedHashCount(size: $0) } == [0, 1, 3, 4, 7, 8, 10, 11, 15])
    }

    @Test func everySizeUpTo256AgreesWithTheReference() async throws {
        let store = MemoryHashes()
        var leaves: [LogHash] = []
        for size in 1...256 {
            let leaf = MerkleTree.recordHash(leafData(size - 1))
            leaves.append(leaf)
            store.append(recordHash: leaf)
            #expect(Int64(store.hashes.count) == MerkleTree.storedHashCount(size: Int64(size)))
            let reference = ReferenceTree(leaves: leaves)
            let root = try await MerkleTree.treeHash(size: Int64(size), reader: store)
            #expect(root == reference.hash(0, size), "root of size \(size)")
            for index in 0..<size {
                let proof = try await MerkleTree.proveInclusion(size: Int64(size), index: Int64(index), reader: store)
                #expect(proof == reference.path(index, 0, size), "inclusion \(index) of \(size)")
                try MerkleTree.checkInclusion(
                    proof: proof, size: Int64(size), root: root, index: Int64(index), recordHash: leaves[index])
            }
            for oldSize in 1...size {
                let proof = try await MerkleTree.proveConsistency(
                    size: Int64(size), oldSize: Int64(oldSize), reader: store)
                #expect(proof == reference.consistency(oldSize, size), "consistency \(oldSize) → \(size)")
                try MerkleTree.checkConsistency(
                    proof: proof, size: Int64(size), root: root, oldSize: Int64(oldSize),
                    oldRoot: reference.hash(0, oldSize))
            }
        }
    }

    @Test func sampledSizesUpTo10000AgreeWithTheReference() async throws {
        let store = MemoryHashes()
        var leaves: [LogHash] = []
        var generator = SplitMix(seed: 6962)
        for size in 1...10_000 {
            let leaf = MerkleTree.recordHash(leafData(size - 1))
            leaves.append(leaf)
            store.append(recordHash: leaf)
            guard [257, 1000, 1023, 1024, 1025, 4097, 9999, 10_000].contains(size) else { continue }
            let reference = ReferenceTree(leaves: leaves)
            let root = try await MerkleTree.treeHash(size: Int64(size), reader: store)
            #expect(root == reference.hash(0, size))
            for _ in 0..<40 {
                let index = Int(generator.next() % UInt64(size))
                let proof = try await MerkleTree.proveInclusion(size: Int64(size), index: Int64(index), reader: store)
                #expect(proof == reference.path(index, 0, size))
                let oldSize = 1 + Int(generator.next() % UInt64(size))
                let consistency = try await MerkleTree.proveConsistency(
                    size: Int64(size), oldSize: Int64(oldSize), reader: store)
                #expect(consistency == reference.consistency(oldSize, size))
            }
        }
    }

    @Test func corruptedInclusionProofsAreRejected() async throws {
        let (store, leaves) = Self.tree(size: 77)
        let root = try await MerkleTree.treeHash(size: 77, reader: store)
        for index in [0, 31, 63, 64, 76] {
            let proof = try await MerkleTree.proveInclusion(size: 77, index: Int64(index), reader: store)
            for position in proof.indices {
                for bit in [0, 7, 255] {
                    var bad = proof
                    var bytes = bad[position].bytes
                    bytes[bit % 32] ^= UInt8(1 << (bit % 8))
                    bad[position] = LogHash(bytes)
                    #expect(throws: ProofError.mismatch) {
                        try MerkleTree.checkInclusion(
                            proof: bad, size: 77, root: root, index: Int64(index), recordHash: leaves[index])
                    }
                }
            }
            let leaf = leaves[index]
            #expect(throws: ProofError.self) {
                try MerkleTree.checkInclusion(
                    proof: proof, size: 77, root: root, index: Int64(index ^ 1), recordHash: leaf)
            }
            #expect(throws: ProofError.self) {
                try MerkleTree.checkInclusion(
                    proof: proof, size: 154, root: root, index: Int64(index), recordHash: leaf)
            }
            #expect(throws: ProofError.self) {
                try MerkleTree.checkInclusion(
                    proof: Array(proof.dropLast()), size: 77, root: root, index: Int64(index), recordHash: leaf)
            }
            #expect(throws: ProofError.self) {
                try MerkleTree.checkInclusion(
                    proof: proof + [root], size: 77, root: root, index: Int64(index), recordHash: leaf)
            }
            #expect(throws: ProofError.self) {
                try MerkleTree.checkInclusion(proof: proof, size: 77, root: root, index: 77, recordHash: leaf)
            }
            #expect(throws: ProofError.self) {
                try MerkleTree.checkInclusion(proof: proof, size: 77, root: root, index: -1, recordHash: leaf)
            }
        }
        await #expect(throws: ProofError.self) {
            try await MerkleTree.proveInclusion(size: 77, index: 77, reader: store)
        }
        await #expect(throws: ProofError.self) { try await MerkleTree.proveInclusion(size: 0, index: 0, reader: store) }
    }

    @Test func corruptedConsistencyProofsAreRejected() async throws {
        let (store, leaves) = Self.tree(size: 100)
        let root = try await MerkleTree.treeHash(size: 100, reader: store)
        for oldSize in [1, 7, 32, 64, 99] {
            let oldRoot = ReferenceTree(leaves: Array(leaves.prefix(oldSize))).hash(0, oldSize)
            let proof = try await MerkleTree.proveConsistency(size: 100, oldSize: Int64(oldSize), reader: store)
            for position in proof.indices {
                var bad = proof
                var bytes = bad[position].bytes
                bytes[5] ^= 0x10
                bad[position] = LogHash(bytes)
                #expect(throws: ProofError.mismatch) {
                    try MerkleTree.checkConsistency(
                        proof: bad, size: 100, root: root, oldSize: Int64(oldSize), oldRoot: oldRoot)
                }
            }
            #expect(throws: ProofError.self) {
                try MerkleTree.checkConsistency(
                    proof: proof, size: 100, root: root, oldSize: Int64(oldSize + 1), oldRoot: oldRoot)
            }
            #expect(throws: ProofError.self) {
                try MerkleTree.checkConsistency(
                    proof: proof, size: 200, root: root, oldSize: Int64(oldSize), oldRoot: oldRoot)
            }
            #expect(throws: ProofError.self) {
                try MerkleTree.checkConsistency(
                    proof: Array(proof.dropFirst()), size: 100, root: root, oldSize: Int64(oldSize), oldRoot: oldRoot)
            }
            #expect(throws: ProofError.self) {
                try MerkleTree.checkConsistency(
                    proof: proof + [oldRoot], size: 100, root: root, oldSize: Int64(oldSize), oldRoot: oldRoot)
            }
            #expect(throws: ProofError.self) {
                try MerkleTree.checkConsistency(
                    proof: proof, size: 100, root: oldRoot, oldSize: Int64(oldSize), oldRoot: root)
            }
        }
        #expect(throws: ProofError.self) {
            try MerkleTree.checkConsistency(proof: [], size: 10, root: root, oldSize: 0, oldRoot: .emptyTree)
        }
        await #expect(throws: ProofError.self) {
            try await MerkleTree.proveConsistency(size: 100, oldSize: 101, reader: store)
        }
    }

    static func tree(size: Int) -> (MemoryHashes, [LogHash]) {
        let store = MemoryHashes()
        let leaves = (0..<size).map { MerkleTree.recordHash(leafData($0)) }
        leaves.forEach(store.append)
        return (store, leaves)
    }
}

/// A small deterministic generator, so sampled tests are repeatable.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
