import Foundation

/// The vendors' official Python SDKs, as installed by `scripts/test` (`AGENTRY_TEST_PYTHON`), and
/// the check scripts in `Tests/sdk` that drive them.
public enum VendorSDK {
    /// The Python with the pinned SDKs.
    public static func python() throws -> String {
        guard let path = ProcessInfo.processInfo.environment["AGENTRY_TEST_PYTHON"], !path.isEmpty else {
            throw Failure(
                description: "the SDK tests need AGENTRY_TEST_PYTHON; run scripts/test, which installs the pinned SDKs")
        }
        return path
    }

    /// `Tests/sdk/<name>`.
    public static func script(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Tests/sdk").appendingPathComponent(name).path
    }

    /// Runs `Tests/sdk/<script> <arguments…>` and returns the JSON object it printed, failing with
    /// its stderr on a non-zero exit. The process is watched without blocking, so a server under
    /// test in this process keeps its threads.
    public static func run(_ script: String, _ arguments: [String]) async throws -> [String: Any] {
        let process = try RunningProcess(
            executable: URL(fileURLWithPath: try python()), [self.script(script)] + arguments)
        let outcome = try await process.wait(timeout: .seconds(180))
        guard outcome.status == 0 else {
            throw Failure(description: "\(script) exited \(outcome.status): \(outcome.stderr)")
        }
        guard let seen = try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any] else {
            throw Failure(description: "\(script) printed no JSON object: \(outcome.stdout)")
        }
        return seen
    }

    /// A check that could not run or did not finish.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String

        /// A failure saying `description`.
        public init(description: String) { self.description = description }
    }
}
