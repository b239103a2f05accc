import CAgentrySpawn
import Foundation
import Synchronization

/// Resource limits and identity for a child process; zero means "no limit of this kind".
public struct ProcessLimits: Sendable {
    /// CPU seconds (RLIMIT_CPU): the kernel kills the process when they are used up.
    public var cpuSeconds = 0
    /// Address space in bytes (RLIMIT_AS).
    public var memoryBytes = 0
    /// Processes and threads of the child's user (RLIMIT_NPROC).
    public var processes = 0
    /// Largest file the child may write, in bytes (RLIMIT_FSIZE).
    public var fileSizeBytes = 0
    /// Open file descriptors (RLIMIT_NOFILE).
    public var openFiles = 0
    /// The user and group the child becomes (only possible when the server runs as root).
    public var user: (uid: UInt32, gid: UInt32)?
    /// Whether the child leads a new session and process group (so the group can be killed whole).
    public var newSession = true
    /// The file-creation mask, when set.
    public var umask: Int32?

    /// No limits, same user, a new session.
    public init() {}
}

/// Which standard stream a piece of output came from.
public enum ProcessStream: Sendable { case stdout, stderr }

/// How a child process ended.
public enum ProcessExit: Sendable, Equatable {
    /// It exited with this status.
    case exited(Int32)
    /// A signal ended it.
    case signalled(Int32)

    /// The exit status, or the signal's number, the way shells and Foundation report it.
    public var status: Int32 {
        switch self {
        case .exited(let code): code
        case .signalled(let signal): signal
        }
    }
}

/// Why a child process could not be started.
public struct ProcessStartError: Error, CustomStringConvertible {
    /// What was being started.
    public let executable: String
    /// The errno of what failed.
    public let code: Int32
    /// A sentence for people.
    public var description: String { "could not start \(executable): \(String(cString: strerror(code)))" }
}

/// A child process started without Foundation's `Process` (whose Linux launch over-reads
/// `/proc/self/fd` entries and crashes busy processes): fork/exec with limits in C, its output read
/// by a thread of its own, its exit awaited without blocking Swift's executors.
public final class ChildProcess: Sendable {
    /// The child's process id (and, with a new session, its process group).
    public let pid: pid_t
    private let limits: ProcessLimits
    private let state: Mutex<State>

    private struct State {
        var stdout: [UInt8] = []
        var stderr: [UInt8] = []
        var written = 0
        var overflowed = false
        var exit: ProcessExit?
        var waiters: [CheckedContinuation<ProcessExit, Never>] = []
    }

    /// Starts `executable` (an absolute path) with `arguments` and exactly `environment`.
    ///
    /// `input` is written to standard input and then closed (nil: standard input is /dev/null).
    /// At most `outputLimit` bytes of stdout and stderr together are accepted: beyond it the child's
    /// process group is killed and `overflowed` becomes true. `onOutput` sees every accepted chunk.
    public init(
        executable: String, arguments: [String], environment: [String: String], directory: String? = nil,
        limits: ProcessLimits = ProcessLimits(), input: [UInt8]? = nil, outputLimit: Int = .max,
        onOutput: (@Sendable (ProcessStream, [UInt8]) -> Void)? = nil
    ) throws {
        Self.ignoreBrokenPipes
        let outPipe = try Self.pipe(executable)
        let errPipe = try Self.pipe(executable)
        let inPipe = try Self.pipe(executable)
        defer {
            close(outPipe.1)
            close(errPipe.1)
            close(inPipe.0)
        }
        var cLimits = agentry_spawn_limits(
            cpu_seconds: limits.cpuSeconds, address_space_bytes: limits.memoryBytes, processes: limits.processes,
            file_size_bytes: limits.fileSizeBytes, open_files: limits.openFiles,
            uid: limits.user.map { Int32(bitPattern: $0.uid) } ?? -1,
            gid: limits.user.map { Int32(bitPattern: $0.gid) } ?? -1, new_session: limits.newSession ? 1 : 0,
            umask_bits: limits.umask ?? -1)
        var error: Int32 = 0
        let argv = [executable] + arguments
        let envp = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let pid = Self.withCStrings(argv) { cArgv in
            Self.withCStrings(envp) { cEnvp in
                agentry_spawn(
                    executable, cArgv, cEnvp, directory, input == nil ? Self.devNull : inPipe.0, outPipe.1, errPipe.1,
                    &cLimits, &error)
            }
        }
        guard pid > 0 else {
            close(outPipe.0)
            close(errPipe.0)
            close(inPipe.1)
            throw ProcessStartError(executable: executable, code: error)
        }
        self.pid = pid
        self.limits = limits
        self.state = Mutex(State())
        let (stdoutFD, stderrFD, stdinFD) = (outPipe.0, errPipe.0, inPipe.1)
        if let input {
            Thread.detachNewThread { Self.write(input, to: stdinFD) }
        } else {
            close(stdinFD)
        }
        Thread.detachNewThread { [self] in monitor(stdoutFD, stderrFD, outputLimit, onOutput) }
    }

    /// Standard output so far (at most the output limit).
    public var stdout: [UInt8] { state.withLock { $0.stdout } }
    /// Standard error so far.
    public var stderr: [UInt8] { state.withLock { $0.stderr } }
    /// Whether the output limit was passed (and the child killed for it).
    public var overflowed: Bool { state.withLock { $0.overflowed } }
    /// How the child ended, or nil while it runs.
    public var exitStatus: ProcessExit? { state.withLock { $0.exit } }

    /// Waits for the child to end.
    public func exit() async -> ProcessExit {
        await withCheckedContinuation { continuation in
            let done: ProcessExit? = state.withLock { state in
                if let exit = state.exit { return exit }
                state.waiters.append(continuation)
                return nil
            }
            if let done { continuation.resume(returning: done) }
        }
    }

    /// Sends `signal` to the child's process group (or the child alone without a new session), and,
    /// for SIGKILL of a child running as another user, to every process of that user.
    public func kill(_ signal: Int32 = SIGKILL) {
        let running = state.withLock { $0.exit == nil }
        if running { _ = Glibc.kill(limits.newSession ? -pid : pid, signal) }
        if signal == SIGKILL, let user = limits.user, user.uid != 0 {
            _ = agentry_kill_user(Int32(bitPattern: user.uid))
        }
    }

    /// Kills every process of user `uid` (not root): what a run left behind, even in other sessions.
    public static func killUser(_ uid: UInt32) {
        guard uid != 0 else { return }
        _ = agentry_kill_user(Int32(bitPattern: uid))
    }

    /// Reads both pipes until they close (or, once the child has ended, until they stay quiet),
    /// then reaps the child and wakes its waiters. Runs on a thread of its own.
    private func monitor(
        _ stdoutFD: Int32, _ stderrFD: Int32, _ outputLimit: Int,
        _ onOutput: (@Sendable (ProcessStream, [UInt8]) -> Void)?
    ) {
        var open: [(fd: Int32, stream: ProcessStream)] = [(stdoutFD, .stdout), (stderrFD, .stderr)]
        var buffer = [UInt8](repeating: 0, count: 65536)
        var reaped: ProcessExit?
        var quietSinceExit = 0
        while !open.isEmpty {
            var fds = open.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&fds, nfds_t(fds.count), 100)
            if ready < 0 && errno != EINTR { break }
            var closed: [Int32] = []
            for (index, entry) in fds.enumerated() where entry.revents != 0 {
                let count = buffer.withUnsafeMutableBytes { read(entry.fd, $0.baseAddress, $0.count) }
                if count <= 0 {
                    if count < 0 && (errno == EINTR || errno == EAGAIN) { continue }
                    closed.append(entry.fd)
                    continue
                }
                accept(Array(buffer[0..<count]), from: open[index].stream, outputLimit, onOutput)
            }
            for fd in closed { close(fd) }
            open.removeAll { closed.contains($0.fd) }
            if reaped == nil { reaped = Self.reap(pid, blocking: false) }
            if reaped != nil && ready == 0 {
                // A grandchild may hold the pipes open; a second of quiet after the child ended is enough.
                quietSinceExit += 1
                if quietSinceExit >= 10 { break }
            }
        }
        for entry in open { close(entry.fd) }
        let exit = reaped ?? Self.reap(pid, blocking: true) ?? .exited(-1)
        let waiters = state.withLock { state in
            state.exit = exit
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: exit) }
    }

    /// Keeps a chunk of output within the limit, killing the child once the limit is passed.
    private func accept(
        _ chunk: [UInt8], from stream: ProcessStream, _ outputLimit: Int,
        _ onOutput: (@Sendable (ProcessStream, [UInt8]) -> Void)?
    ) {
        let (kept, passedLimit): ([UInt8], Bool) = state.withLock { state in
            guard !state.overflowed else { return ([], false) }
            let room = outputLimit - state.written
            let part = chunk.count <= room ? chunk : Array(chunk.prefix(max(room, 0)))
            state.written += part.count
            if stream == .stdout { state.stdout += part } else { state.stderr += part }
            if chunk.count > room { state.overflowed = true }
            return (part, chunk.count > room)
        }
        if !kept.isEmpty { onOutput?(stream, kept) }
        if passedLimit { kill(SIGKILL) }
    }

    /// waitpid for this child; nil while it still runs (non-blocking) or when it cannot be reaped.
    private static func reap(_ pid: pid_t, blocking: Bool) -> ProcessExit? {
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, blocking ? 0 : WNOHANG)
            if result == 0 { return nil }
            if result < 0 {
                if errno == EINTR { continue }
                return nil
            }
            break
        }
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .signalled(signal)
    }

    /// Writes all of `bytes` to `fd` (stopping if the reader is gone), then closes it.
    private static func write(_ bytes: [UInt8], to fd: Int32) {
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            offset += count
        }
        close(fd)
    }

    /// A pipe whose ends close on exec.
    private static func pipe(_ executable: String) throws -> (Int32, Int32) {
        var fds: [Int32] = [0, 0]
        let error = agentry_pipe(&fds)
        guard error == 0 else { throw ProcessStartError(executable: executable, code: error) }
        return (fds[0], fds[1])
    }

    /// /dev/null, opened once, for children that get no input.
    private static let devNull: Int32 = open("/dev/null", O_RDONLY | O_CLOEXEC)

    /// A write to a pipe whose reader died must fail with EPIPE, not kill the server.
    private static let ignoreBrokenPipes: Void = { _ = signal(SIGPIPE, SIG_IGN) }()

    /// Calls `body` with a NULL-terminated C array of `strings`.
    private static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R)
        -> R
    {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        pointers.append(nil)
        defer { for pointer in pointers { free(pointer) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
