import AgentryAudit
import Foundation
import Testing

@Suite("Signed notes and checkpoints")
struct SignedNoteTests {
    /// The example of Go's golang.org/x/mod/sumdb/note, also used by the C2SP signed-note implementations.
    static let goldenSigner = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
    static let goldenVerifier = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    static let goldenText =
        "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
    static let goldenNote =
        goldenText
        + "\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"

    @Test func theGoldenNoteVerifiesAndSigningReproducesIt() throws {
        let verifier = try NoteVerifier(verifierKey: Self.goldenVerifier)
        #expect(try SignedNote.open(Self.goldenNote, verifiers: [verifier]) == Self.goldenText)
        let signer = try NoteSigner(privateKey: Self.goldenSigner)
        #expect(signer.verifierKey == Self.goldenVerifier)
        #expect(try signer.sign(Self.goldenText) == Self.goldenNote)
    }

    @Test func tamperedNotesAndForeignKeysAreRejected() throws {
        let verifier = try NoteVerifier(verifierKey: Self.goldenVerifier)
        let changed = Self.goldenNote.replacingFirst("cryptography", with: "cryptographY")
        #expect(throws: NoteError.invalidSignature(keyName: "PeterNeumann")) {
            try SignedNote.open(changed, verifiers: [verifier])
        }
        let other = try NoteSigner.generate(name: "PeterNeumann").signer
        let forged = try other.sign(Self.goldenText)
        #expect(throws: NoteError.unverified) { try SignedNote.open(forged, verifiers: [verifier]) }
        #expect(throws: NoteError.unverified) { try SignedNote.open(Self.goldenNote, verifiers: [other.verifier]) }
        for malformed in [
            Self.goldenText, Self.goldenNote.replacingFirst("— ", with: "- "), Self.goldenNote + "trailing",
            Self.goldenNote.replacingFirst("\n\n", with: "\n"), Self.goldenNote.replacingFirst("x08go", with: "x08g!"),
            Self.goldenNote.replacingFirst("problem,", with: "problem,\u{7}"),
        ] {
            #expect(throws: NoteError.self) { try SignedNote.open(malformed, verifiers: [verifier]) }
        }
    }

    @Test func unknownSignaturesAreIgnoredWhenAKnownOneVerifies() throws {
        let verifier = try NoteVerifier(verifierKey: Self.goldenVerifier)
        let extra = Self.goldenNote + "— someone.else/key AAAAAAAA\n"
        #expect(try SignedNote.open(extra, verifiers: [verifier]) == Self.goldenText)
    }

    @Test func generatedKeysRoundTrip() throws {
        let (signer, privateKey) = try NoteSigner.generate(name: "agentry.example.com/audit")
        let reloaded = try NoteSigner(privateKey: privateKey)
        #expect(reloaded.verifierKey == signer.verifierKey)
        let note = try signer.sign("hello\n")
        #expect(try SignedNote.open(note, verifiers: [NoteVerifier(verifierKey: signer.verifierKey)]) == "hello\n")
        #expect(throws: NoteError.self) { try signer.sign("no newline") }
        #expect(throws: NoteError.self) { try signer.sign("tab\there\n") }
        #expect(throws: NoteError.self) { try NoteSigner.generate(name: "has space") }
        #expect(throws: NoteError.self) { try NoteSigner.generate(name: "has+plus") }
    }

    @Test(arguments: [
        "", "PeterNeumann+c74f20a3", "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T", "Peter Neumann+c74f20a3+ARpc",
        "PeterNeumann+c74f20a3+AhpcQcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWW",
    ])
    func malformedVerifierKeysAreRefused(_ text: String) {
        #expect(throws: NoteError.self) { try NoteVerifier(verifierKey: text) }
    }

    @Test func checkpointsRoundTripAndParseStrictly() throws {
        let (signer, _) = try NoteSigner.generate(name: "agentry.example.com/audit")
        let root = MerkleTree.recordHash(Array("x".utf8))
        let checkpoint = Checkpoint(origin: "agentry.example.com/audit", size: 42, root: root)
        #expect(checkpoint.text == "agentry.example.com/audit\n42\n\(root.base64)\n")
        let note = try checkpoint.signed(by: signer)
        #expect(try Checkpoint.open(note, verifier: signer.verifier) == checkpoint)
        for body in [
            "origin\n042\n\(root.base64)\n", "origin\n+42\n\(root.base64)\n", "origin\n42\n\(root.hex)\n",
            "\n42\n\(root.base64)\n",
            "origin\n42\n", "origin\n42\n\(root.base64)", "origin\n-1\n\(root.base64)\n",
            "origin\n42\n\(root.base64)\n\n",
            "origin\n99999999999999999999\n\(root.base64)\n",
        ] {
            #expect(throws: NoteError.self) { try Checkpoint(text: body) }
        }
        let wrongOrigin = Checkpoint(origin: "elsewhere", size: 1, root: root)
        #expect(throws: NoteError.self) { try wrongOrigin.signed(by: signer) }
    }

    @Test func base64AndHexAreStrict() {
        #expect(Base64Text.encode(Array("fo".utf8)) == "Zm8=")
        #expect(Base64Text.decode("Zm8=") == Array("fo".utf8))
        #expect(Base64Text.decode("Zm9=") == nil, "non-zero padding bits")
        #expect(Base64Text.decode("Zm8") == nil)
        #expect(Base64Text.decode("Z=m8") == nil)
        for length in 0..<10 {
            let bytes = (0..<length).map { UInt8($0 * 37 & 0xFF) }
            #expect(Base64Text.decode(Base64Text.encode(bytes)) == bytes)
            #expect(HexText.decode(HexText.encode(bytes)) == bytes)
        }
        #expect(HexText.decode("0g") == nil)
        #expect(HexText.decode("abc") == nil)
    }

    @Test func logHashesParseExactly64HexDigits() {
        let bytes = (0..<32).map { UInt8($0 * 41 & 0xFF) }
        let hex = HexText.encode(bytes)
        #expect(LogHash(hex: hex) == LogHash(bytes))
        #expect(LogHash(hex: hex.uppercased()) == LogHash(bytes))
        #expect(LogHash(hex: String(hex.dropLast())) == nil)
        #expect(LogHash(hex: hex + "0") == nil)
        for position in [0, 15, 16, 31, 32, 47, 48, 63] {
            for bad in ["g", " ", "é", "\u{0}"] {
                var characters = Array(hex)
                characters[position] = Character(bad)
                #expect(LogHash(hex: String(characters)) == nil, "\(bad) at \(position)")
            }
        }
        let bridged = NSString(string: hex) as String
        #expect(LogHash(hex: bridged) == LogHash(bytes))
    }
}

extension String {
    /// This string with the first occurrence of `target` replaced.
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = range(of: target) else { return self }
        return replacingCharacters(in: range, with: replacement)
    }
}
