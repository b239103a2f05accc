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
        return try await app.test(.live) { client in
            guard let port = client.port else { throw VendorSDK.Failure(description: "the simulator has no port") }
            return try await VendorSDK.run(script, ["http://127.0.0.1:\(port)\(path)", model])
        }
    }
}
