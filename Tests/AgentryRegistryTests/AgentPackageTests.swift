import AgentryRegistry
import Testing

/// Packages are hostile input: every way a zip can harm the machine that unpacks it is refused
/// with a clear reason, before anything is stored.
@Suite struct AgentPackageTests {
    static func zip(_ entries: [ZipWriter.Entry]) -> [UInt8] {
        var writer = ZipWriter()
        for entry in entries { writer.add(entry) }
        return writer.bytes()
    }

    static func template(_ kind: String = "code") -> [ZipWriter.Entry] {
        AgentTemplate.files(name: "notes-summarizer", kind: kind, owner: nil).map {
            ZipWriter.Entry(path: $0.path, bytes: Array($0.text.utf8))
        }
    }

    static func refusal(_ bytes: [UInt8]) -> PackageError? {
        do {
            _ = try AgentPackage(zip: bytes)
            return nil
        } catch {
            return error
        }
    }

    @Test func aWellFormedPackageIsReadWithItsHashes() throws {
        let bytes = Self.zip(
            Self.template() + [ZipWriter.Entry(path: "lib/util.py", bytes: Array("x = 1\n".utf8), deflate: false)])
        let package = try AgentPackage(zip: bytes)
        #expect(package.manifest.name == "notes-summarizer")
        #expect(package.files.map(\.path) == ["agent.yaml", "lib/util.py", "main.py", "requirements.txt"])
        #expect(package.sha256.count == 64 && package.files.allSatisfy { $0.sha256.count == 64 })
        #expect(package.files.first { $0.path == "lib/util.py" }?.size == 6)
        #expect(try AgentPackage(zip: bytes).sha256 == package.sha256, "the hash is of the bytes")
    }

    @Test(arguments: ["../evil.py", "/etc/cron.d/x", "a/../../b.py", "a//b", "./a", "dir\\..\\x", "c:x"])
    func pathsThatLeaveThePackageAreRefused(path: String) {
        let error = Self.refusal(Self.zip(Self.template() + [ZipWriter.Entry(path: path, bytes: [1])]))
        guard case .unsafeEntry(let name, _)? = error else {
            Issue.record("expected an unsafe entry, got \(String(describing: error))")
            return
        }
        #expect(name == path)
    }

    @Test(arguments: [UInt32(0o120777), 0o020644, 0o060644, 0o010644, 0o140755])
    func linksDevicesFIFOsAndSocketsAreRefused(mode: UInt32) {
        let error = Self.refusal(
            Self.zip(Self.template() + [ZipWriter.Entry(path: "x", bytes: Array("/etc/passwd".utf8), mode: mode)]))
        guard case .unsafeEntry(_, let reason)? = error else {
            Issue.record("expected an unsafe entry, got \(String(describing: error))")
            return
        }
        #expect(reason.contains("symbolic links") || reason.contains("devices"))
    }

    @Test func aZipBombIsRefusedBeforeItIsInflated() {
        let bomb = ZipWriter.Entry(path: "zeros.bin", bytes: [UInt8](repeating: 0, count: 80 << 20))
        let bytes = Self.zip(Self.template() + [bomb])
        #expect(bytes.count < 1 << 20, "the bomb is small packed")
        guard case .tooLarge(let reason)? = Self.refusal(bytes) else {
            Issue.record("a zip bomb was not refused as too large")
            return
        }
        #expect(reason.contains("unpacked"))
    }

    @Test func anEntryThatInflatesBeyondItsDeclaredSizeIsCut() {
        var bytes = Self.zip([ZipWriter.Entry(path: "agent.yaml", bytes: [UInt8](repeating: 0x61, count: 1 << 20))])
        // Declare 10 bytes in the central directory: the inflater must stop at 11, not at a megabyte.
        let central = Int(bytes.uint32(at: bytes.count - 6))
        bytes.replace(at: central + 24, with: 10)
        guard case .tooLarge(let reason)? = Self.refusal(bytes) else {
            Issue.record("a lying size was not refused: \(String(describing: Self.refusal(bytes)))")
            return
        }
        #expect(reason.contains("more than the 10 bytes"))
    }

    @Test func tenThousandEntriesAreRefusedFromTheDirectoryAlone() {
        let many = (0..<10_000).map { ZipWriter.Entry(path: "f\($0)", bytes: [], deflate: false) }
        guard case .tooLarge(let reason)? = Self.refusal(Self.zip(Self.template() + many)) else {
            Issue.record("10,000 entries were not refused")
            return
        }
        #expect(reason.contains("10003 entries"))
    }

    @Test func overlappingEntriesAreRefused() {
        // b.bin's central entry points at a copy of its local header nested inside a.bin's data:
        // the names agree, so only the overlap check stands between this and double counting.
        let payload = Array("hello".utf8)
        let nested = Array(
            Self.zip([ZipWriter.Entry(path: "b.bin", bytes: payload, deflate: false)]).prefix(30 + 5 + 5))
        var bytes = Self.zip(
            Self.template() + [
                ZipWriter.Entry(path: "a.bin", bytes: nested, deflate: false),
                ZipWriter.Entry(path: "b.bin", bytes: payload, deflate: false),
            ])
        var headers: [(name: String, at: Int)] = []
        var position = Int(bytes.uint32(at: bytes.count - 6))
        while bytes.uint32(at: position) == 0x0201_4B50 {
            let length = Int(bytes[position + 28]) | Int(bytes[position + 29]) << 8
            headers.append(
                (String(decoding: bytes[(position + 46)..<(position + 46 + length)], as: UTF8.self), position))
            position += 46 + length
        }
        let a = headers.first { $0.name == "a.bin" }!.at
        let b = headers.first { $0.name == "b.bin" }!.at
        bytes.replace(at: b + 42, with: bytes.uint32(at: a + 42) + 30 + 5)
        guard case .malformed(let reason)? = Self.refusal(bytes) else {
            Issue.record("overlapping entries were not refused: \(String(describing: Self.refusal(bytes)))")
            return
        }
        #expect(reason.contains("overlap"), "\(reason)")
    }

    @Test(arguments: [("Main.py", "main.py"), ("lib", "lib/util.py"), ("LIB", "lib/util.py")])
    func pathsThatCollideOnDiskAreRefused(first: String, second: String) {
        let bytes = Self.zip(
            Self.template("declarative") + [
                ZipWriter.Entry(path: first, bytes: [1]), ZipWriter.Entry(path: second, bytes: [2]),
            ])
        guard case .unsafeEntry? = Self.refusal(bytes) else {
            Issue.record("\(first) and \(second) were both accepted")
            return
        }
    }

    @Test func aLocalHeaderNamingAnotherEntryIsRefused() {
        var bytes = Self.zip([ZipWriter.Entry(path: "agent.yaml", bytes: Array("x".utf8), deflate: false)])
        bytes[30] = UInt8(ascii: "A")  // the local header now says "Agent.yaml"
        guard case .malformed(let reason)? = Self.refusal(bytes) else {
            Issue.record("a mismatched local header was accepted")
            return
        }
        #expect(reason.contains("names another entry"))
    }

    @Test func otherDamageIsAClearRefusal() {
        let good = Self.zip(Self.template("declarative"))
        var corrupted = Self.zip([ZipWriter.Entry(path: "agent.yaml", bytes: Array("abc".utf8), deflate: false)])
        corrupted[30 + "agent.yaml".utf8.count] ^= 0xFF
        var encrypted = good
        encrypted[Int(good.uint32(at: good.count - 6)) + 8] |= 1
        let cases: [([UInt8], String)] = [
            ([], "invalid_package"), (Array("PK not a zip at all".utf8), "invalid_package"),
            (Array(good.prefix(good.count - 30)), "invalid_package"), (corrupted, "invalid_package"),
            (encrypted, "unsafe_package_entry"),
            (Self.zip(Self.template() + [Self.template()[1]]), "unsafe_package_entry"),
            (Self.zip([ZipWriter.Entry(path: "main.py", bytes: [])]), "invalid_manifest"),
            (Self.zip([ZipWriter.Entry(path: "agent.yaml", bytes: Array("name: x".utf8))]), "invalid_manifest"),
            (Self.zip([ZipWriter.Entry(path: "agent.yaml", bytes: [0xFF, 0xFE])]), "invalid_manifest"),
            (Self.zip(Self.template().filter { $0.path != "main.py" }), "invalid_manifest"),
            ([UInt8](repeating: 0, count: (20 << 20) + 1), "package_too_large"),
        ]
        for (bytes, code) in cases {
            #expect(Self.refusal(bytes)?.code == code, "\(String(describing: Self.refusal(bytes)))")
        }
        #expect(Self.refusal(good) == nil)
    }
}

extension Array where Element == UInt8 {
    /// The little-endian 32-bit number at `index`.
    func uint32(at index: Int) -> UInt32 {
        UInt32(self[index]) | UInt32(self[index + 1]) << 8 | UInt32(self[index + 2]) << 16 | UInt32(self[index + 3])
            << 24
    }

    /// Writes `value` little-endian at `index`.
    mutating func replace(at index: Int, with value: UInt32) {
        for byte in 0..<4 { self[index + byte] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(byte))) }
    }
}
