import AgentryGateway
import AgentryIdentity
import AgentryLedger
import AgentryPolicy
import AgentryRuntime
import AgentrySimulators
import AgentryStore
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization

/// What the model gateway is built from: the model catalog (with its providers) and where
/// provider keys come from.
public struct GatewaySetup: Sendable {
    /// The models and providers offered.
    public var catalog: ModelCatalog
    /// Provider keys by credential name.
    public var credentials: any CredentialSource
    /// Whether calls are reserved, settled and audited: always, but for the benchmark's baseline.
    public var governed = true
    /// The Sandbox policy in effect until an admin sets one (revision 0): the shipped one, or an
    /// installation's own for a catalog whose models the shipped one does not name.
    public var sandboxDefaults = SandboxDefaults.shipped

    /// A setup; the default offers the built-in simulated models and needs no keys.
    public init(catalog: ModelCatalog? = nil, credentials: any CredentialSource = StaticCredentials([:])) {
        // The shipped catalog is checked by a test; failing here would be a build defect.
        self.catalog = catalog ?? (try! ModelCatalog(yaml: DefaultModelCatalog.yaml))
        self.credentials = credentials
    }

    /// One client per provider of `catalog`, with keys from `credentials`; `builtin` providers
    /// call the simulators mounted on this server.
    static func providerClients(
        for catalog: ModelCatalog, listening: ListeningAddress, credentials: any CredentialSource
    ) -> [ProviderClient] {
        let credentials = LayeredCredentials(
            first: StaticCredentials([BuiltinSimulators.credentialName: "sim-builtin"]), then: credentials)
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

/// Provider credentials stored sealed in the database, opened with the vault's master key; an
/// opened secret is kept in memory for a few seconds, so a changed credential reaches every
/// instance within `cacheSeconds`.
final class StoredCredentials: CredentialSource {
    private let store: any GatewayStore
    private let vault: CredentialVault?
    private let cacheSeconds: TimeInterval
    private let cache = Mutex<[String: (secret: String?, until: ContinuousClock.Instant)]>([:])

    init(store: any GatewayStore, vault: CredentialVault?, cacheSeconds: TimeInterval = 5) {
        self.store = store
        self.vault = vault
        self.cacheSeconds = cacheSeconds
    }

    func secret(named name: String) async throws -> String? {
        let now = ContinuousClock.now
        if let cached = cache.withLock({ $0[name] }), cached.until > now { return cached.secret }
        var secret: String?
        if let stored = try await store.credential(named: name) {
            guard let vault else { throw VaultError.noKey }
            secret = try vault.open(stored.sealed, name: name)
        }
        cache.withLock { $0[name] = (secret, now.advanced(by: .seconds(cacheSeconds))) }
        return secret
    }

    /// Forgets `name`, after this instance changed it.
    func forget(_ name: String) { _ = cache.withLock { $0.removeValue(forKey: name) } }
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
        case .cohere: "/_simulators/cohere"
        }
    }

    /// Where the simulator of a tool kind is mounted, as the tool's base URL path.
    static func basePath(forTool kind: ToolConfig.Kind) -> String {
        switch kind {
        case .slack: "/_simulators/slack/api"
        case .googleDrive: "/_simulators/google"
        case .hubspot: "/_simulators/hubspot"
        case .salesforce: "/_simulators/salesforce"
        case .webhook: "/_simulators/webhooks/receive"
        case .rest, .mcp: "/_simulators/none"
        }
    }

    /// Mounts every simulator on `router`.
    static func register(on router: Router<AgentryRequestContext>) {
        SlackSimulator().register(on: router.group("_simulators/slack"))
        GoogleDriveSimulator().register(on: router.group("_simulators/google"))
        HubSpotSimulator().register(on: router.group("_simulators/hubspot"))
        SalesforceSimulator().register(on: router.group("_simulators/salesforce"))
        WebhookReceiver(secret: "sim-builtin").register(on: router.group("_simulators/webhooks"))
        OpenAISimulator().register(on: router.group("_simulators/openai"))
        OpenAISimulator(models: ["sim-mistral-small"]).register(on: router.group("_simulators/mistral"))
        AnthropicSimulator().register(on: router.group("_simulators/anthropic"))
        GeminiSimulator().register(on: router.group("_simulators/gemini"))
        CohereSimulator().register(on: router.group("_simulators/cohere"))
    }
}

/// Keeps every instance on the catalog admins set: reads the stored catalog every few seconds and
/// puts a changed one in effect (the instance that took the change applied it at once).
struct GatewayCatalogService: Service {
    let store: any GatewayStore
    let gateway: Gateway
    let shipped: ModelCatalog
    let logger: Logger
    var interval: Duration = .seconds(5)

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var applied = try? await Self.apply(store: store, gateway: gateway, shipped: shipped, after: nil)
            while !Task.isCancelled {
                do { try await Task.sleep(for: interval) } catch { return }
                do {
                    applied = try await Self.apply(
                        store: store, gateway: gateway, shipped: shipped, after: applied ?? nil)
                } catch {
                    logger.warning("gateway.catalog_refresh_failed", metadata: ["error": .string("\(error)")])
                }
            }
        }
    }

    /// Puts the stored catalog (or the shipped one when none is stored) in effect unless it is the
    /// one applied last (by update time); returns the update time now in effect.
    @discardableResult
    static func apply(store: any GatewayStore, gateway: Gateway, shipped: ModelCatalog, after last: Date?) async throws
        -> Date?
    {
        let stored = try await store.catalog()
        guard stored?.updatedAt != last else { return last }
        gateway.replace(catalog: try stored.map { try ModelCatalog(yaml: $0.yaml) } ?? shipped)
        return stored?.updatedAt
    }
}

/// A Sandbox policy with the YAML it was read from.
public struct SandboxDefaults: Sendable {
    /// The policy.
    public let policy: SandboxPolicy
    /// Its YAML, as shown by `GET /api/v1/sandbox/policy`.
    public let yaml: String

    /// The policy in `yaml`, or the problem that refuses it.
    public init(yaml: String) throws(FieldProblem) {
        self.policy = try SandboxPolicy(yaml: yaml)
        self.yaml = yaml
    }

    private init(policy: SandboxPolicy, yaml: String) {
        self.policy = policy
        self.yaml = yaml
    }

    /// The policy Agentry ships with.
    public static let shipped = SandboxDefaults(policy: .shipped, yaml: SandboxPolicy.shippedYAML)
}

/// How agents run: where and under which limits code agents run, and how many runs at once.
public struct RuntimeSetup: Sendable, Equatable {
    public var code: CodeRuntimeSettings
    public var concurrency: RunConcurrency

    /// The defaults: `/usr/bin/python3`, pip's default index, a directory under the temporary
    /// directory, 16 runs at once (8 per agent, 4 per user), 1000 waiting.
    public init(code: CodeRuntimeSettings = CodeRuntimeSettings(), concurrency: RunConcurrency = RunConcurrency()) {
        self.code = code
        self.concurrency = concurrency
    }
}
