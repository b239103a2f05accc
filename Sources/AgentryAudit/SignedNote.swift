import Crypto

/// Why a note, key or checkpoint was refused.
public enum NoteError: Error, Equatable, Sendable {
    /// A key string is not in the `name+hash+base64` format, or its hash does not match.
    case malformedKey(String)
    /// The note text is not valid note text (see `SignedNote.validate`).
    case malformedText(String)
    /// The signed note cannot be parsed.
    case malformedNote(String)
    /// A signature from a known key did not verify.
    case invalidSignature(keyName: String)
    /// No signature from a known key is present.
    case unverified
}

/// Signs note texts with an Ed25519 key (C2SP signed-note, signature type 0x01).
public struct NoteSigner: Sendable {
    /// The key name, e.g. `agentry.example.com/audit`.
    public let name: String
    /// The key ID: SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4], big-endian.
    public let keyID: UInt32
    private let key: Curve25519.Signing.PrivateKey

    /// Parses a private key string `PRIVATE+KEY+<name>+<hash>+<base64(0x01 ‖ 32-byte seed)>`.
    public init(privateKey text: String) throws(NoteError) {
        let parts = text.split(separator: "+", maxSplits: 4, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 5, parts[0] == "PRIVATE", parts[1] == "KEY", NoteKeys.isValidName(parts[2]),
            let id = UInt32(parts[3], radix: 16), parts[3].count == 8,
            let raw = Base64Text.decode(parts[4]), raw.count == 33, raw[0] == NoteKeys.ed25519,
            let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw[1...])
        else { throw .malformedKey("not a PRIVATE+KEY+name+hash+key string") }
        guard NoteKeys.keyID(name: parts[2], publicKey: Array(key.publicKey.rawRepresentation)) == id else {
            throw .malformedKey("the key hash does not match the key")
        }
        self.name = parts[2]
        self.keyID = id
        self.key = key
    }

    /// A new random key named `name`, returned with its private key string (to store safely).
    public static func generate(name: String) throws(NoteError) -> (signer: NoteSigner, privateKey: String) {
        guard NoteKeys.isValidName(name) else {
            throw .malformedKey("key names must be non-empty, without spaces or '+'")
        }
        let key = Curve25519.Signing.PrivateKey()
        let id = NoteKeys.keyID(name: name, publicKey: Array(key.publicKey.rawRepresentation))
        let text =
            "PRIVATE+KEY+\(name)+\(NoteKeys.hex8(id))+"
            + Base64Text.encode([NoteKeys.ed25519] + Array(key.rawRepresentation))
        return (try NoteSigner(privateKey: text), text)
    }

    /// The verifier key string auditors keep: `<name>+<hash>+<base64(0x01 ‖ public key)>`.
    public var verifierKey: String {
        "\(name)+\(NoteKeys.hex8(keyID))+"
            + Base64Text.encode([NoteKeys.ed25519] + Array(key.publicKey.rawRepresentation))
    }

    /// The verifier for this key.
    public var verifier: NoteVerifier {
        // The string was just made from a valid key, so parsing cannot fail.
        try! NoteVerifier(verifierKey: verifierKey)
    }

    /// `text` followed by a blank line and this key's signature line.
    public func sign(_ text: String) throws(NoteError) -> String {
        try SignedNote.validate(text: text)
        guard let signature = try? key.signature(for: Array(text.utf8)) else {
            throw .malformedText("the signing library refused the text")
        }
        let blob = NoteKeys.bigEndian(keyID) + Array(signature)
        return text + "\n— \(name) \(Base64Text.encode(blob))\n"
    }
}

/// Verifies C2SP signed-note Ed25519 signatures of one key.
public struct NoteVerifier: Sendable, Equatable {
    /// The key name.
    public let name: String
    /// The key ID.
    public let keyID: UInt32
    /// The 32-byte Ed25519 public key.
    public let publicKey: [UInt8]

    /// Parses a verifier key string `<name>+<hash>+<base64(0x01 ‖ public key)>`.
    public init(verifierKey text: String) throws(NoteError) {
        let parts = text.split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, NoteKeys.isValidName(parts[0]), parts[1].count == 8,
            let id = UInt32(parts[1], radix: 16), let raw = Base64Text.decode(parts[2]), raw.count == 33,
            raw[0] == NoteKeys.ed25519
        else { throw .malformedKey("not a name+hash+key verifier string") }
        guard NoteKeys.keyID(name: parts[0], publicKey: Array(raw[1...])) == id else {
            throw .malformedKey("the key hash does not match the key")
        }
        self.name = parts[0]
        self.keyID = id
        self.publicKey = Array(raw[1...])
    }

    /// The verifier key string: `<name>+<hash>+<base64(0x01 ‖ public key)>`.
    public var verifierKey: String {
        "\(name)+\(NoteKeys.hex8(keyID))+" + Base64Text.encode([NoteKeys.ed25519] + publicKey)
    }

    /// Whether `signature` is this key's Ed25519 signature of `text`.
    func verifies(_ signature: ArraySlice<UInt8>, of text: String) -> Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey) else { return false }
        return key.isValidSignature(Array(signature), for: Array(text.utf8))
    }
}

/// Parsing and opening C2SP signed notes.
public enum SignedNote {
    /// Verifiers must accept at least 16 signatures; more than this is refused as abuse.
    public static let signaturesMax = 100

    /// Checks note text: valid UTF-8 (guaranteed by String), ends in a newline, no control characters but newline.
    public static func validate(text: String) throws(NoteError) {
        guard text.hasSuffix("\n") else { throw .malformedText("note text must end with a newline") }
        guard !text.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\n" }) else {
            throw .malformedText("note text must not contain control characters other than newline")
        }
    }

    /// The text of `note` when at least one signature is from a `verifiers` key and every such
    /// signature verifies; signatures from unknown keys are ignored.
    public static func open(_ note: String, verifiers: [NoteVerifier]) throws(NoteError) -> String {
        let (text, signatures) = try split(note)
        var verified = false
        for (name, blob) in signatures {
            guard blob.count >= 4 else { throw .malformedNote("a signature is shorter than its key ID") }
            let id = blob.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            guard let verifier = verifiers.first(where: { $0.name == name && $0.keyID == id }) else { continue }
            guard verifier.verifies(blob.dropFirst(4), of: text) else { throw .invalidSignature(keyName: name) }
            verified = true
        }
        guard verified else { throw .unverified }
        return text
    }

    /// Splits a note into its text and its `(key name, signature blob)` lines.
    static func split(_ note: String) throws(NoteError) -> (String, [(String, [UInt8])]) {
        guard !note.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\n" }), note.hasSuffix("\n") else {
            throw .malformedNote("a note has no control characters but newlines and ends with a newline")
        }
        let bytes = Array(note.utf8)
        // The text ends at the last blank line (C2SP signed-note: "the last empty line in the note").
        guard let blank = bytes.indices.dropLast().last(where: { bytes[$0] == 0x0A && bytes[$0 + 1] == 0x0A }) else {
            throw .malformedNote("no blank line separates the text from the signatures")
        }
        let text = String(decoding: bytes[...blank], as: UTF8.self)
        let rest = String(decoding: bytes[(blank + 2)...], as: UTF8.self)
        let lines = rest.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        guard !lines.isEmpty, lines.count <= signaturesMax else {
            throw .malformedNote("expected 1 to \(signaturesMax) signature lines")
        }
        var signatures: [(String, [UInt8])] = []
        for line in lines {
            guard line.hasPrefix("— ") else { throw .malformedNote("a signature line must start with '— '") }
            let fields = line.dropFirst(2).split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count == 2, NoteKeys.isValidName(String(fields[0])),
                let blob = Base64Text.decode(String(fields[1]))
            else {
                throw .malformedNote("a signature line must be '— <name> <base64>'")
            }
            signatures.append((String(fields[0]), blob))
        }
        return (text, signatures)
    }
}

/// Key names, IDs and encodings shared by signer and verifier.
enum NoteKeys {
    /// Signature type byte of Ed25519 in C2SP signed-note.
    static let ed25519: UInt8 = 0x01

    /// Non-empty, no Unicode spaces, no '+'.
    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && !name.unicodeScalars.contains { $0.properties.isWhitespace || $0 == "+" || $0.value < 0x20 }
    }

    /// SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4] as a big-endian integer.
    static func keyID(name: String, publicKey: [UInt8]) -> UInt32 {
        let digest = Array(SHA256.hash(data: Array(name.utf8) + [0x0A, ed25519] + publicKey))
        return digest.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    static func hex8(_ value: UInt32) -> String { HexText.encode(bigEndian(value)) }
}
