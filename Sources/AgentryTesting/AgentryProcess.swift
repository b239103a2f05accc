import AgentryRuntime
import Foundation

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
    private let child: ChildProcess

    /// Starts `agentry arguments…` with the current environment plus `environment`.
    public convenience init(_ arguments: [String], environment: [String: String] = [:]) throws {
        try self.init(executable: try AgentryProcess.binary(), arguments, environment: environment)
    }

    /// Starts `executable arguments…` (a Python with the vendors' SDKs, say) the same way.
    public init(executable: URL, _ arguments: [String], environment: [String: String] = [:]) throws {
        var limits = ProcessLimits()
        limits.newSession = false
        child = try ChildProcess(
            executable: executable.path, arguments: arguments,
            environment: ProcessInfo.processInfo.environment.merging(environment) { $1 }, limits: limits)
    }

    /// Standard output so far.
    public var stdout: String { String(decoding: child.stdout, as: UTF8.self) }
    /// Standard error so far.
    public var stderr: String { String(decoding: child.stderr, as: UTF8.self) }

    /// Waits until standard output contains `text`; fails after `timeout` or when the process exits first.
    public func waitForOutput(_ text: String, timeout: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + timeout
        while !stdout.contains(text) {
            if let exit = child.exitStatus {
                throw ExpectationFailure("agentry exited (\(exit.status)) before printing '\(text)'; stderr: \(stderr)")
            }
            guard ContinuousClock.now < deadline else {
                throw ExpectationFailure("agentry did not print '\(text)' within \(timeout); stdout: \(stdout)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Sends `signal` (SIGTERM by default) to the process.
    public func signal(_ signal: Int32 = SIGTERM) { child.kill(signal) }

    /// Waits for the process to exit (killing it after `timeout`) and returns what it left behind.
    public func wait(timeout: Duration = .seconds(60)) async throws -> AgentryProcess.Outcome {
        let deadline = ContinuousClock.now + timeout
        while child.exitStatus == nil {
            guard ContinuousClock.now < deadline else {
                child.kill(SIGKILL)
                throw ExpectationFailure("agentry did not exit within \(timeout); stderr: \(stderr)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let exit = await child.exit()
        return AgentryProcess.Outcome(status: exit.status, stdout: stdout, stderr: stderr)
    }

    /// Kills the process if it still runs; for cleanup after a failed test.
    public func stop() {
        if child.exitStatus == nil { child.kill(SIGTERM) }
    }
}
