import Foundation

/// Small files that must not be half-written or too readable: signing keys, credentials, checkpoints.
///
/// One place opens with the right flags and permissions, writes every byte, and flushes to disk
/// before returning, so callers differ only in how they open the file.
public enum DurableFile {
    /// How the file is opened.
    public enum Mode: Sendable {
        /// A new file; an existing one is never overwritten.
        case create
        /// A new file, or an existing one truncated (and given `permissions` again).
        case replace
        /// Bytes added at the end, creating the file if needed.
        case append
    }

    /// Writes `bytes` to `path` and fsyncs; the error says what failed, with the system's reason.
    public static func write(_ bytes: [UInt8], to path: String, mode: Mode, permissions: mode_t)
        throws(DurableFileError)
    {
        let flags: Int32 =
            switch mode {
            case .create: O_WRONLY | O_CREAT | O_EXCL
            case .replace: O_WRONLY | O_CREAT | O_TRUNC
            case .append: O_WRONLY | O_CREAT | O_APPEND
            }
        let descriptor = open(path, flags, permissions)
        guard descriptor >= 0 else { throw DurableFileError(action: mode == .create ? "create" : "open", path: path) }
        defer { close(descriptor) }
        // O_TRUNC keeps an existing file's mode; set it so a replaced secret is never left readable.
        if mode == .replace { fchmod(descriptor, permissions) }
        let written = bytes.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(descriptor) == 0 else {
            throw DurableFileError(action: "write", path: path)
        }
    }
}

/// A file that could not be opened or written, with the system's reason.
public struct DurableFileError: Error, CustomStringConvertible {
    /// `cannot create /path: File exists`.
    public let description: String

    init(action: String, path: String) {
        description = "cannot \(action) \(path): \(String(cString: strerror(errno)))"
    }
}
