import AgentryTesting
import Foundation
import Hummingbird
import HummingbirdTesting

/// Runs a vendor's official SDK (a script in Tests/sdk, with the Python `scripts/test` installs)
/// against a simulator served on a loopback port, and returns what the script printed.
enum SDKCheck {
    /// Serves the routes `register` adds on a free loopback port, runs `Tests/sdk/<script> <base URL>
    /// <model>` (the base URL is `http://127.0.0.1:<port><path>`), and returns the JSON object the
    /// script printed.
    static func run(
        _ script: String, model: String, path: String = "", register: (Router<BasicRequestContext>) -> Void
    ) async throws -> [String: Any] {
        let router = Router()
        register(router)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        let text = try await app.test(.live) { client in
            guard let port = client.port else { throw SDKFailure(description: "the simulator has no port") }
            return try await runPython([self.script(script), "http://127.0.0.1:\(port)\(path)", model])
        }
        guard let seen = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw SDKFailure(description: "the script printed no JSON object: \(text)")
        }
        return seen
    }

    /// The Python with the vendors' SDKs, from `scripts/test` (`AGENTRY_TEST_PYTHON`).
    static func python() throws -> String {
        guard let path = ProcessInfo.processInfo.environment["AGENTRY_TEST_PYTHON"], !path.isEmpty else {
            throw SDKFailure(
                description: "the SDK tests need AGENTRY_TEST_PYTHON; run scripts/test, which installs the pinned SDKs")
        }
        return path
    }

    /// `Tests/sdk/<name>`.
    static func script(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("sdk").appendingPathComponent(name).path
    }

    /// Runs `arguments` with the SDK Python; returns stdout, failing with stderr on a non-zero exit.
    /// The process is watched without blocking, so the server under test keeps its threads.
    static func runPython(_ arguments: [String]) async throws -> String {
        let process = try RunningProcess(executable: URL(fileURLWithPath: try python()), arguments)
        let outcome = try await process.wait(timeout: .seconds(120))
        guard outcome.status == 0 else {
            throw SDKFailure(description: "python exited \(outcome.status): \(outcome.stderr)")
        }
        return outcome.stdout
    }

    /// A check that could not run or did not finish.
    struct SDKFailure: Error, CustomStringConvertible { let description: String }
}
