/// The rules for a file path inside an agent package, shared by the manifest's entrypoint and the
/// zip reader: relative, `/`-separated, no `.` or `..` segments, no empty segments, no backslashes,
/// no control characters, at most 255 bytes. What passes cannot leave the package's directory.
public enum PackagePath {
    /// The longest path accepted.
    public static let bytesMax = 255

    /// Whether `path` names a file inside the package and nothing else.
    public static func isSafe(_ path: String) -> Bool {
        guard (1...bytesMax).contains(path.utf8.count), !path.hasPrefix("/"), !path.contains("\\") else { return false }
        guard !path.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0 == ":" }) else {
            return false
        }
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        return segments.allSatisfy { !$0.isEmpty && $0 != "." && $0 != ".." }
    }
}
