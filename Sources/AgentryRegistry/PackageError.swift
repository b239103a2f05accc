/// Why an agent package (a zip) is refused: each case names what was wrong and, where there is
/// one, the entry.
public enum PackageError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Not a zip this reader accepts (truncated, ZIP64, multi-disk, encrypted, bad headers).
    case malformed(String)
    /// Over a size, count or path limit.
    case tooLarge(String)
    /// An entry that could write outside the package or is not a plain file or directory.
    case unsafeEntry(path: String, reason: String)
    /// The manifest is missing or invalid.
    case manifest(String)

    /// A stable snake_case code for API errors.
    public var code: String {
        switch self {
        case .malformed: "invalid_package"
        case .tooLarge: "package_too_large"
        case .unsafeEntry: "unsafe_package_entry"
        case .manifest: "invalid_manifest"
        }
    }

    public var description: String {
        switch self {
        case .malformed(let reason): "the package is not a valid zip: \(reason)"
        case .tooLarge(let reason): "the package is too large: \(reason)"
        case .unsafeEntry(let path, let reason): "the package entry '\(path)' is refused: \(reason)"
        case .manifest(let reason): reason
        }
    }
}
