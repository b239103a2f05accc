import AgentryGateway
import AgentryIdentity
import AgentryLedger
import AgentrySimulators
import Hummingbird
import Logging
import Synchronization

/// What the model gateway is built from: the model catalog (with its providers) and where
/// provider keys come from.
public struct GatewaySetup: Sendable {
    /// The models and providers offered.
    public var catalog: ModelCatalog
    /// Provider keys by credential name.
    public var credentials: any CredentialSource

    /// A setup; the default offers the built-in simulated models and needs no keys.
    public init(catalog: ModelCatalog? = nil, credentials: any CredentialSource = StaticCredentials([:])) {
        // The shipped catalog is checked by a test; failing here would be a build defect.
        self.catalog = catalog ?? (try! ModelCatalog(yaml: DefaultModelCatalog.yaml))
        self.credentials = credentials
    }

    /// Whether any provider is a simulator built into this process.
    var usesBuiltinSimulators: Bool { catalog.providers.values.contains { $0.baseURL == ProviderConfig.builtin } }

    /// One client per provider; `builtin` providers call the simulators mounted on this server,
    /// with a key made for this process.
    func providerClients(listening: ListeningAddress) -> [ProviderClient] {
        let builtinKey = "sim-" + RandomText.base32(byteCount: 16)
        let credentials = LayeredCredentials(
            first: StaticCredentials([BuiltinSimulators.credentialName: builtinKey]), then: self.credentials)
        return catalog.providers.values.sorted { $0.name < $1.name }.map { config in
            guard config.baseURL == ProviderConfig.builtin else {
                return ProviderClient(config: config, credentials: credentials)
            }
            let builtin = ProviderConfig(
                name: config.name, api: config.api, baseURL: config.baseURL,
                credential: BuiltinSimulators.credentialName, connectTimeoutSeconds: config.connectTimeoutSeconds,
                readTimeoutSeconds: config.readTimeoutSeconds)
            let path = BuiltinSimulators.basePath(for: config.api)
            return ProviderClient(config: builtin, credentials: credentials) {
                (listening.url ?? "http://127.0.0.1:0") + path
            }
        }
    }
}

/// Looks a credential up in `first`, then in `then`.
struct LayeredCredentials: CredentialSource {
    let first: any CredentialSource
    let then: any CredentialSource

    func secret(named name: String) async throws -> String? {
        if let secret = try await first.secret(named: name) { return secret }
        return try await then.secret(named: name)
    }
}

/// The server's own base URL, known once it listens (the built-in simulators are called there).
public final class ListeningAddress: Sendable {
    private let value = Mutex<String?>(nil)

    /// Nothing known yet.
    public init() {}

    /// `http://host:port`, once set.
    public var url: String? { value.withLock { $0 } }

    /// Records the address the server listens on.
    public func set(_ url: String) { value.withLock { $0 = url } }
}

/// The provider simulators `agentry serve` mounts under `/_simulators/` when the catalog has
/// `builtin` providers, so the default catalog works offline and without keys.
enum BuiltinSimulators {
    /// The credential name under which the process's simulator key is kept.
    static let credentialName = "builtin-simulator"

    /// Where the simulator of `api` is mounted, as the provider's base URL path.
    static func basePath(for api: ProviderConfig.API) -> String {
        switch api {
        case .openai, .openaiCompatible: "/_simulators/openai/v1"
        case .mistral: "/_simulators/mistral/v1"
        case .anthropic: "/_simulators/anthropic"
        case .gemini: "/_simulators/gemini"
        }
    }

    /// Mounts every simulator on `router`.
    static func register(on router: Router<AgentryRequestContext>) {
        OpenAISimulator().register(on: router.group("_simulators/openai"))
        OpenAISimulator(models: ["sim-mistral-small"]).register(on: router.group("_simulators/mistral"))
        AnthropicSimulator().register(on: router.group("_simulators/anthropic"))
        GeminiSimulator().register(on: router.group("_simulators/gemini"))
    }
}
