import AgentryGateway
import AgentryRegistry
import Foundation
import Synchronization

/// The limits a code agent's process runs under (docs/agents.md says what each one contains).
public struct CodeLimits: Sendable, Equatable {
    /// Wall-clock time before the run is killed and reported `timed_out`.
    public var wallSeconds = 300
    public var cpuSeconds = 120
    /// Address space: what `malloc` and `mmap` may reach.
    public var memoryBytes = 1 << 30
    /// Standard output and standard error together; beyond it the run is killed.
    public var outputBytes = 1 << 20
    /// Processes and threads of the run's user (effective when runs get a user of their own).
    public var processes = 64
    /// The largest file the agent may write.
    public var fileSizeBytes = 64 << 20
    public var openFiles = 256

    /// The defaults above.
    public init() {}
}

/// Where and how code agents run.
public struct CodeRuntimeSettings: Sendable, Equatable {
    /// The Python that makes virtualenvs and runs agents without `requirements.txt`.
    public var python: String
    /// The package index `pip` installs requirements from (`--index-url`); nil: pip's default.
    public var packageIndex: String?
    /// Where unpacked packages, their virtualenvs and runs' scratch directories live.
    public var directory: String
    /// When the server runs as root: give each concurrent run a user of its own (`firstUserID` + slot).
    public var separateUsers: Bool
    /// Whether code agents run under bubblewrap.
    public var isolation: CodeIsolation
    public var firstUserID: UInt32
    public var limits: CodeLimits
    /// How long installing a package's requirements may take.
    public var installSeconds: Int

    /// Settings; the directory is created (mode 0711) when first used.
    public init(
        python: String = "/usr/bin/python3", packageIndex: String? = nil,
        directory: String = FileManager.default.temporaryDirectory.appendingPathComponent(
            "agentry-runtime-\(geteuid())"
        ).path, separateUsers: Bool = true, isolation: CodeIsolation = .auto, firstUserID: UInt32 = 61_000,
        limits: CodeLimits = CodeLimits(), installSeconds: Int = 900
    ) {
        self.python = python
        self.packageIndex = packageIndex
        self.directory = directory
        self.separateUsers = separateUsers
        self.isolation = isolation
        self.firstUserID = firstUserID
        self.limits = limits
        self.installSeconds = installSeconds
    }
}

/// A package unpacked once per version (by its SHA-256), with its virtualenv when it has requirements.
public struct PreparedPackage: Sendable, Equatable {
    /// The unpacked files.
    public let files: String
    /// The interpreter that runs the package: its virtualenv's, or the runtime's.
    public let python: String
}

/// Runs code agents: the entrypoint as a child process in a scratch directory of its own, with a
/// clean environment (the run token and the gateway's addresses in the names the vendors' SDKs
/// read), input as JSON on stdin, output as JSON on stdout, under `CodeLimits`.
public final class CodeAgentRunner: Sendable {
    public let settings: CodeRuntimeSettings
    private let preparing = Preparations()

    /// A runner with `settings`.
    public init(settings: CodeRuntimeSettings) {
        self.settings = settings
    }

    /// Whether runs get users of their own (the server runs as root and the setting allows it).
    public var separatesUsers: Bool { settings.separateUsers && geteuid() == 0 }

    /// The bubblewrap to run agents under, if the setting asks for it and it is installed.
    public var bubblewrap: String? { settings.isolation == .none ? nil : Bubblewrap.executable }

    /// The environment a run's process gets: nothing of the server's, only these.
    public static func environment(
        token: String, gatewayURL: String, runID: String, home: String, python: String
    ) -> [String: String] {
        let bin = (python as NSString).deletingLastPathComponent
        return [
            "PATH": "\(bin):/usr/local/bin:/usr/bin:/bin", "HOME": home, "TMPDIR": home, "PWD": home, "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1",
            "OPENAI_BASE_URL": "\(gatewayURL)/v1", "OPENAI_API_KEY": token,
            "ANTHROPIC_BASE_URL": gatewayURL, "ANTHROPIC_API_KEY": token,
            "GOOGLE_GEMINI_BASE_URL": gatewayURL, "GEMINI_API_KEY": token, "GOOGLE_API_KEY": token,
            "CO_API_URL": gatewayURL, "CO_API_KEY": token, "MISTRAL_API_KEY": token,
            "AGENTRY_RUN_ID": runID, "AGENTRY_RUN_TOKEN": token, "AGENTRY_GATEWAY_URL": gatewayURL,
            "AGENTRY_TOOLS_URL": "\(gatewayURL)/v1/tools", "AGENTRY_MCP_URL": "\(gatewayURL)/mcp",
        ]
    }

    /// Unpacks `zip` (once per `sha256`) and installs its `requirements.txt` into a virtualenv.
    public func prepare(sha256: String, zip: [UInt8]) async throws(RunFailure) -> PreparedPackage {
        do {
            return try await preparing.once(sha256) { try await self.unpack(sha256: sha256, zip: zip) }
        } catch let failure as RunFailure {
            throw failure
        } catch {
            throw RunFailure(.failed, "the package could not be prepared: \(error)")
        }
    }

    /// Runs `entrypoint` of `package` for run `runID` in place `slot`, giving it `input` and
    /// `environment`; returns its JSON output. `log` sees its standard error as it comes.
    public func run(
        _ package: PreparedPackage, entrypoint: String, runID: String, slot: Int, input: [UInt8],
        environment: [String: String], log: @escaping @Sendable ([UInt8]) -> Void
    ) async throws(RunFailure) -> JSONValue {
        let limits = settings.limits
        let user: (uid: UInt32, gid: UInt32)? =
            separatesUsers ? (settings.firstUserID + UInt32(slot), settings.firstUserID + UInt32(slot)) : nil
        let scratch = (settings.directory as NSString).appendingPathComponent("runs/\(runID)")
        defer {
            if let user { ChildProcess.killUser(user.uid) }
            try? FileManager.default.removeItem(atPath: scratch)
        }
        do {
            // Run users may pass through the runs directory (0711) but see only their own scratch (0700).
            let runs = (scratch as NSString).deletingLastPathComponent
            try FileManager.default.createDirectory(
                atPath: runs, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
            _ = chmod(runs, 0o711)
            try FileManager.default.createDirectory(
                atPath: scratch, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            if let user { guard chown(scratch, user.uid, user.gid) == 0 else { throw POSIXError(.EPERM) } }
        } catch {
            throw RunFailure(.failed, "the run's scratch directory could not be made: \(error)")
        }
        var processLimits = ProcessLimits()
        processLimits.cpuSeconds = limits.cpuSeconds
        processLimits.memoryBytes = limits.memoryBytes
        processLimits.fileSizeBytes = limits.fileSizeBytes
        processLimits.openFiles = limits.openFiles
        processLimits.processes = user == nil ? 0 : limits.processes
        processLimits.user = user
        processLimits.umask = 0o077
        var command = [package.python, "-s", (package.files as NSString).appendingPathComponent(entrypoint)]
        if let bwrap = bubblewrap {
            let root = (package.files as NSString).deletingLastPathComponent
            command =
                [bwrap]
                + Bubblewrap.arguments(package: root, scratch: scratch, python: package.python, command: command)
        } else if settings.isolation == .bubblewrap {
            throw RunFailure(.failed, "runs.isolation is bubblewrap, but bwrap is not installed")
        }
        let child: ChildProcess
        do {
            child = try ChildProcess(
                executable: command[0], arguments: Array(command.dropFirst()),
                environment: environment, directory: scratch, limits: processLimits, input: input,
                outputLimit: limits.outputBytes
            ) { stream, bytes in if stream == .stderr { log(bytes) } }
        } catch {
            throw RunFailure(.failed, "the agent could not be started: \(error)")
        }
        let timedOut = Flag()
        let timer = Task {
            try await Task.sleep(for: .seconds(limits.wallSeconds))
            timedOut.set()
            child.kill()
        }
        var exit = await withTaskCancellationHandler {
            await child.exit()
        } onCancel: {
            child.kill()
        }
        timer.cancel()
        // bubblewrap reports its child's death by signal n as the exit status 128 + n.
        if command.count > 3, command[0] == bubblewrap, case .exited(let code) = exit, (129..<192).contains(code) {
            exit = .signalled(code - 128)
        }
        if Task.isCancelled { throw RunFailure(.cancelled, "the run was cancelled") }
        if timedOut.isSet { throw RunFailure(.timedOut, "the agent ran longer than \(limits.wallSeconds) s") }
        if child.overflowed {
            throw RunFailure(.failed, "the agent wrote more than \(limits.outputBytes) bytes of output and was stopped")
        }
        switch exit {
        case .exited(0):
            guard let output = JSONValue.parse(child.stdout) else {
                throw RunFailure(.failed, "the agent's standard output is not JSON")
            }
            return output
        case .exited(let code):
            throw RunFailure(.failed, "the agent exited with status \(code)\(Self.lastLine(child.stderr))")
        case .signalled(SIGXCPU):
            throw RunFailure(.failed, "the agent used its \(limits.cpuSeconds) s of CPU time and was stopped")
        case .signalled(let signal):
            throw RunFailure(.failed, "the agent was ended by signal \(signal)\(Self.lastLine(child.stderr))")
        }
    }

    /// `": <last line of stderr>"`, at most 300 characters; empty when there is none.
    private static func lastLine(_ stderr: [UInt8]) -> String {
        let text = String(decoding: stderr.suffix(4096), as: UTF8.self)
        guard let line = text.split(separator: "\n").last else { return "" }
        return ": " + String(line.prefix(300))
    }

    /// Unpacks the package into `packages/<sha256>` and makes its virtualenv; a `ready` file
    /// marks a finished preparation, so a crash halfway is redone.
    private func unpack(sha256: String, zip: [UInt8]) async throws -> PreparedPackage {
        let manager = FileManager.default
        try manager.createDirectory(
            atPath: settings.directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
        _ = chmod(settings.directory, 0o711)
        let root = (settings.directory as NSString).appendingPathComponent("packages/\(sha256)")
        let files = (root as NSString).appendingPathComponent("files")
        let venv = (root as NSString).appendingPathComponent("venv")
        let ready = (root as NSString).appendingPathComponent("ready")
        let requirements = (files as NSString).appendingPathComponent("requirements.txt")
        let python = (venv as NSString).appendingPathComponent("bin/python")
        if manager.fileExists(atPath: ready) {
            return PreparedPackage(files: files, python: Self.hasRequirements(requirements) ? python : settings.python)
        }
        try? manager.removeItem(atPath: root)
        for directory in [(settings.directory as NSString).appendingPathComponent("packages"), root, files] {
            try manager.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        }
        for file in try ZipReader.files(
            of: zip, entriesMax: RegistryLimits.packageEntriesMax, unpackedBytesMax: RegistryLimits.unpackedBytesMax)
        {
            let path = (files as NSString).appendingPathComponent(file.path)
            try manager.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o755])
            guard manager.createFile(atPath: path, contents: Data(file.bytes), attributes: [.posixPermissions: 0o644])
            else { throw RunFailure(.failed, "the package's file \(file.path) could not be written") }
        }
        var interpreter = settings.python
        if Self.hasRequirements(requirements) {
            try await install(requirements, into: venv)
            interpreter = python
        }
        _ = manager.createFile(atPath: ready, contents: Data())
        return PreparedPackage(files: files, python: interpreter)
    }

    /// Whether `path` names a requirements file with at least one requirement.
    private static func hasRequirements(_ path: String) -> Bool {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return false }
        return text.split(separator: "\n").contains {
            let line = $0.trimmingCharacters(in: .whitespaces)
            return !line.isEmpty && !line.hasPrefix("#")
        }
    }

    /// Makes a virtualenv at `venv` and installs `requirements` into it from the package index.
    private func install(_ requirements: String, into venv: String) async throws {
        var environment = ProcessInfo.processInfo.environment
        environment["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
        let steps: [(String, [String])] = [
            (settings.python, ["-m", "venv", venv]),
            (
                (venv as NSString).appendingPathComponent("bin/python"),
                ["-m", "pip", "install", "--no-input", "--quiet", "-r", requirements]
                    + (settings.packageIndex.map { ["--index-url", $0] } ?? [])
            ),
        ]
        for (executable, arguments) in steps {
            let child = try ChildProcess(
                executable: executable, arguments: arguments, environment: environment, outputLimit: 1 << 20)
            let timer = Task {
                try await Task.sleep(for: .seconds(settings.installSeconds))
                child.kill()
            }
            let exit = await child.exit()
            timer.cancel()
            guard exit == .exited(0) else {
                throw RunFailure(
                    .failed,
                    "installing requirements.txt failed (\(arguments.prefix(3).joined(separator: " ")))"
                        + Self.lastLine(child.stderr + child.stdout))
            }
        }
    }
}

/// One preparation per package at a time; later callers wait for the first.
private actor Preparations {
    private var running: [String: Task<PreparedPackage, any Error>] = [:]

    /// The result of `work` for `key`, run once while it is in flight.
    func once(_ key: String, _ work: @escaping @Sendable () async throws -> PreparedPackage) async throws
        -> PreparedPackage
    {
        if let task = running[key] { return try await task.value }
        let task = Task { try await work() }
        running[key] = task
        defer { running[key] = nil }
        return try await task.value
    }
}

/// A flag one task sets and another reads.
private final class Flag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
