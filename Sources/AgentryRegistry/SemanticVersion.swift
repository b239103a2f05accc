/// An exact Semantic Versioning 2.0.0 version (`1.4.0`, `2.0.0-rc.1`): what a version of an agent is
/// called. Build metadata (`+…`) is refused, since two versions differing only in it would be equal.
public struct SemanticVersion: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let major: Int
    public let minor: Int
    public let patch: Int
    /// Dot-separated pre-release identifiers; empty for a release.
    public let prerelease: [String]

    /// The longest version text accepted.
    public static let charactersMax = 64

    /// Parses `MAJOR.MINOR.PATCH[-PRERELEASE]` (semver.org §2, §9); nil for anything else.
    public init?(_ text: String) {
        guard (5...Self.charactersMax).contains(text.utf8.count) else { return nil }
        let (core, pre) =
            text.firstIndex(of: "-").map { (text[..<$0], Optional(text[text.index(after: $0)...])) } ?? (text[...], nil)
        let numbers = core.split(separator: ".", omittingEmptySubsequences: false)
        guard numbers.count == 3 else { return nil }
        var parsed: [Int] = []
        for number in numbers {
            guard Self.isNumeric(number), let value = Int(number), value <= 999_999_999 else { return nil }
            parsed.append(value)
        }
        var identifiers: [String] = []
        if let pre {
            for identifier in pre.split(separator: ".", omittingEmptySubsequences: false) {
                guard !identifier.isEmpty,
                    identifier.utf8.allSatisfy({ Self.isIdentifierByte($0) }),
                    !identifier.utf8.allSatisfy({ (0x30...0x39).contains($0) }) || Self.isNumeric(identifier)
                else { return nil }
                identifiers.append(String(identifier))
            }
        }
        (major, minor, patch, prerelease) = (parsed[0], parsed[1], parsed[2], identifiers)
    }

    public var description: String {
        "\(major).\(minor).\(patch)" + (prerelease.isEmpty ? "" : "-" + prerelease.joined(separator: "."))
    }

    /// Precedence of semver.org §11: numbers, then a pre-release below its release, then identifiers.
    public static func < (lhs: SemanticVersion, rhs: SemanticVersion) -> Bool {
        if (lhs.major, lhs.minor, lhs.patch) != (rhs.major, rhs.minor, rhs.patch) {
            return (lhs.major, lhs.minor, lhs.patch) < (rhs.major, rhs.minor, rhs.patch)
        }
        switch (lhs.prerelease.isEmpty, rhs.prerelease.isEmpty) {
        case (true, true), (true, false): return false
        case (false, true): return true
        case (false, false): break
        }
        for (left, right) in zip(lhs.prerelease, rhs.prerelease) where left != right {
            switch (Int(left), Int(right)) {
            case (let a?, let b?): return a < b
            case (.some, nil): return true
            case (nil, .some): return false
            case (nil, nil): return left < right
            }
        }
        return lhs.prerelease.count < rhs.prerelease.count
    }

    /// Digits without a leading zero (semver.org §2).
    private static func isNumeric(_ text: Substring) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { (0x30...0x39).contains($0) } && (text == "0" || !text.hasPrefix("0"))
    }

    private static func isIdentifierByte(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == 0x2D
    }
}
