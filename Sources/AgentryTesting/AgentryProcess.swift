import Foundation
import Synchronization

/// Runs the built `agentry` executable as a real process, for tests of the CLI and of `serve`.
public enum AgentryProcess {
    /// What a finished process left behind.
    public struct Outcome: Sendable {
        /// The exit status.
        public let status: Int32
        /// Everything written to standard output.
        public let stdout: String
        /// Everything written to standard error.
        public let stderr: String
    }

    /// The `agentry` binary next to the test bundle (or `AGENTRY_BINARY`); fails clearly when it is missing.
    public static func binary() throws -> URL {
        if let path = ProcessInfo.processInfo.environment["AGENTRY_BINARY"] { return URL(fileURLWithPath: path) }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("agentry")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        throw ExpectationFailure("the agentry executable was not found next to the tests; run 'swift build' first")
    }

    /// Runs `agentry arguments…` to completion (killing it after `timeout`) with `environment` added.
    public static func run(
        _ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(60)
    ) async throws -> Outcome {
        let running = try RunningProcess(arguments, environment: environment)
        return try await running.wait(timeout: timeout)
    }
}

/// A started `agentry` process whose output is collected as it arrives.
public final class RunningProcess: Sendable {
    private let process: Process
    private let output = OutputBuffer()

    /// Starts `agentry arguments…` with the current environment plus `environment`.
    public convenience init(_ arguments: [String], environment: [String: String] = [:]) throws {
        try self.init(executable: try AgentryProcess.binary(), arguments, environment: environment)
    }

    /// Starts `executable arguments…` (a Python with the vendors' SDKs, say) the same way.
    public init(executable: URL, _ arguments: [String], environment: [String: String] = [:]) throws {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let (stdout, stderr) = (Pipe(), Pipe())
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        self.process = process
        stdout.fileHandleForReading.readabilityHandler = { [output] handle in
            output.append(String(decoding: handle.availableData, as: UTF8.self), toError: false)
        }
        stderr.fileHandleForReading.readabilityHandler = { [output] handle in
            output.append(String(decoding: handle.availableData, as: UTF8.self), toError: true)
        }
        try Self.starting.withLock { _ in try process.run() }
    }

    /// Serializes `Process.run()`: Foundation's launch is not safe to call from several threads at
    /// once on Linux (parallel tests starting processes crashed in it, in `memcpy`).
    private static let starting = Mutex(())

    /// Standard output so far.
    public var stdout: String { output.text.stdout }
    /// Standard error so far.
    public var stderr: String { output.text.stderr }

    /// Waits until standard output contains `text`; fails after `timeout` or when the process exits first.
    public func waitForOutput(_ text: String, timeout: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + timeout
        while !stdout.contains(text) {
            guard process.isRunning else {
                throw ExpectationFailure(
                    "agentry exited (\(process.terminationStatus)) before printing '\(text)'; stderr: \(stderr)")
            }
            guard ContinuousClock.now < deadline else {
                throw ExpectationFailure("agentry did not print '\(text)' within \(timeout); stdout: \(stdout)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Sends `signal` (SIGTERM by default) to the process.
    public func signal(_ signal: Int32 = SIGTERM) { kill(process.processIdentifier, signal) }

    /// Waits for the process to exit (killing it after `timeout`) and returns what it left behind.
    public func wait(timeout: Duration = .seconds(60)) async throws -> AgentryProcess.Outcome {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                process.terminate()
                throw ExpectationFailure("agentry did not exit within \(timeout); stderr: \(stderr)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        // Let the readability handlers drain what the pipes still hold.
        try await Task.sleep(for: .milliseconds(100))
        return AgentryProcess.Outcome(status: process.terminationStatus, stdout: stdout, stderr: stderr)
    }

    /// Kills the process if it still runs; for cleanup after a failed test.
    public func stop() {
        if process.isRunning { process.terminate() }
    }
}

/// Output collected from a process's pipes, shared with the pipes' handlers.
private final class OutputBuffer: Sendable {
    private let storage = Mutex<(stdout: String, stderr: String)>(("", ""))

    /// Appends `text` to standard output or standard error.
    func append(_ text: String, toError: Bool) {
        storage.withLock { if toError { $0.stderr += text } else { $0.stdout += text } }
    }

    /// Both streams so far.
    var text: (stdout: String, stderr: String) { storage.withLock { $0 } }
}
