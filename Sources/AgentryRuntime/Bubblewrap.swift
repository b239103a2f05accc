import Foundation

/// How code agents are confined beyond their limits and user.
public enum CodeIsolation: String, Sendable, Equatable, CaseIterable {
    /// bubblewrap when it is installed, else none.
    case auto
    /// Always bubblewrap; runs fail when it is missing.
    case bubblewrap
    /// The limits, the run's own user and a clean environment only.
    case none
}

/// The bubblewrap (`bwrap`) command line that confines a code agent: new PID, IPC and UTS
/// namespaces; a file system of its own holding only the system's `/usr` (read-only), a few
/// files of `/etc`, a fresh `/proc`, `/dev` and `/tmp`, the package read-only, and the run's
/// scratch directory; killed with the server. The network is the host's, because the gateway the
/// agent must reach listens on the host's loopback.
public enum Bubblewrap {
    /// Where bubblewrap is looked for.
    static let candidates = ["/usr/bin/bwrap", "/usr/local/bin/bwrap", "/bin/bwrap"]

    /// The installed `bwrap`, if any.
    public static var executable: String? {
        candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// `bwrap`'s arguments to run `command` with the package at `package` and the scratch
    /// directory `scratch`, using the Python at `python`.
    static func arguments(package: String, scratch: String, python: String, command: [String]) -> [String] {
        var arguments = [
            "--die-with-parent", "--new-session", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", "--hostname", "agentry-run",
            "--ro-bind", "/usr", "/usr", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
        ]
        // Debian keeps /bin, /lib and friends as links into /usr.
        for link in ["bin", "sbin", "lib", "lib32", "lib64", "libx32"] {
            let path = "/" + link
            if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: path) {
                arguments += ["--symlink", target, path]
            } else if FileManager.default.fileExists(atPath: path) {
                arguments += ["--ro-bind", path, path]
            }
        }
        for file in ["/etc/hosts", "/etc/resolv.conf", "/etc/nsswitch.conf", "/etc/ssl", "/etc/ca-certificates"] {
            arguments += ["--ro-bind-try", file, file]
        }
        // A Python installed outside /usr brings its own prefix.
        let real = URL(fileURLWithPath: python).resolvingSymlinksInPath().path
        if !real.hasPrefix("/usr/") {
            let prefix = ((real as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent
            arguments += ["--ro-bind-try", prefix, prefix]
        }
        arguments += ["--ro-bind", package, package, "--bind", scratch, scratch, "--chdir", scratch, "--"]
        return arguments + command
    }
}
