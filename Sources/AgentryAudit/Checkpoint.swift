/// A C2SP tlog-checkpoint body: the log's origin, its size and its root hash, plus optional extension lines.
public struct Checkpoint: Equatable, Sendable {
    /// The log's identity, e.g. `agentry.example.com/audit`; also the signing key's name.
    public let origin: String
    /// Number of records in the tree.
    public let size: Int64
    /// RFC 6962 root of the first `size` records.
    public let root: LogHash
    /// Extension lines (without newlines); Agentry writes none, but parses what others write.
    public let extensions: [String]

    /// Creates a checkpoint body.
    public init(origin: String, size: Int64, root: LogHash, extensions: [String] = []) {
        precondition(size >= 0, "a tree has a non-negative size")
        self.origin = origin
        self.size = size
        self.root = root
        self.extensions = extensions
    }

    /// The note text: `origin\nsize\nbase64(root)\n` then each extension line.
    public var text: String {
        ([origin, String(size), root.base64] + extensions).map { $0 + "\n" }.joined()
    }

    /// Parses a checkpoint body strictly: canonical decimal size, canonical base64 root.
    public init(text: String) throws(NoteError) {
        guard text.hasSuffix("\n") else { throw .malformedNote("a checkpoint ends with a newline") }
        let lines = text.dropLast().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.count >= 3 else { throw .malformedNote("a checkpoint has an origin, a size and a root hash") }
        guard !lines[0].isEmpty else { throw .malformedNote("the checkpoint origin is empty") }
        guard let size = Int64(lines[1]), size >= 0, String(size) == lines[1] else {
            throw .malformedNote("the checkpoint size '\(lines[1])' is not a canonical decimal")
        }
        guard let root = LogHash(base64: lines[2]) else {
            throw .malformedNote("the checkpoint root is not base64 of 32 bytes")
        }
        guard lines.dropFirst(3).allSatisfy({ !$0.isEmpty }) else {
            throw .malformedNote("a checkpoint has no empty lines")
        }
        self.init(origin: lines[0], size: size, root: root, extensions: Array(lines.dropFirst(3)))
    }

    /// Signs this checkpoint with `signer`, whose key name must equal the origin.
    public func signed(by signer: NoteSigner) throws(NoteError) -> String {
        guard signer.name == origin else { throw .malformedKey("the signing key's name must be the log's origin") }
        return try signer.sign(text)
    }

    /// Opens a signed checkpoint: verifies it with `verifier` and parses the body.
    public static func open(_ note: String, verifier: NoteVerifier) throws(NoteError) -> Checkpoint {
        let checkpoint = try Checkpoint(text: SignedNote.open(note, verifiers: [verifier]))
        guard checkpoint.origin == verifier.name else {
            throw .malformedNote("the checkpoint origin is not the key's name")
        }
        return checkpoint
    }
}
