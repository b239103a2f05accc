import AgentryAudit
import AgentryGateway
import AgentryIdentity
import AgentryLedger
import AgentryPolicy
import AgentryRuntime
import AgentryStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import NIOCore
import Prometheus

/// Everything the application needs, created by the caller (the CLI or a test) and passed in.
public struct ApplicationDependencies: Sendable {
    /// The opened, migrated store.
    public var store: any StoreBackend
    /// The logger requests derive theirs from.
    public var logger: Logger
    /// Where request metrics are collected and read by `/metrics`.
    public var metrics: PrometheusCollectorRegistry
    /// The clock identity operations read.
    public var clock: @Sendable () -> Date
    /// The audit log's appender.
    public var audit: AuditLog
    /// Identity rules over the store, recording every change in the audit log atomically with it.
    public var identity: IdentityService
    /// The spend ledger over the store.
    public var ledger: Ledger
    /// Turns changes into audit entries written with them (through the outbox).
    var changes: AuditChangeRecorder
    /// The audit log's checkpoint signer (also run as a background service).
    public var checkpointer: AuditCheckpointer
    /// The model gateway: every model call, governed.
    public var gateway: Gateway
    /// The catalog in effect when no admin has set one.
    let shippedCatalog: ModelCatalog
    /// Seals and opens stored provider credentials; nil without a master key.
    let vault: CredentialVault?
    /// The stored credentials the gateway reads.
    let storedCredentials: StoredCredentials
    /// IT's Sandbox policy and the users' personal Sandboxes.
    let sandboxes: SandboxService
    /// IT's approval criteria.
    let approvalPolicy: PolicyBook<ApprovalPolicy>
    /// The Catalog searched in memory, kept level with the store.
    let catalogSearch: CatalogSearch
    /// The tool gateway, and the tool catalog admins write that it follows.
    let tools: ToolGateway
    let toolCatalog: PolicyBook<ToolCatalog>
    /// The server's own address once it listens (the built-in simulators are reached there).
    public let listening: ListeningAddress
    /// Runs of agents.
    let runs: RunService

    /// Bundles the dependencies.
    public init(
        store: any StoreBackend, logger: Logger, checkpointer: AuditCheckpointer,
        metrics: PrometheusCollectorRegistry = .init(), clock: @escaping @Sendable () -> Date = { Date() },
        ledgerCalendar: LedgerCalendar = LedgerCalendar(), gateway setup: GatewaySetup = GatewaySetup(),
        vault: CredentialVault? = nil, runtime: RuntimeSetup = RuntimeSetup()
    ) {
        self.store = store
        self.logger = logger
        self.metrics = metrics
        self.clock = clock
        self.audit = AuditLog(store: store.audit, clock: { Int64(clock().timeIntervalSince1970 * 1000) })
        self.changes = AuditChangeRecorder(log: self.audit)
        self.identity = IdentityService(store: store.identity, clock: clock, recorder: changes)
        self.ledger = Ledger(store: store.ledger, calendar: ledgerCalendar, clock: clock)
        self.checkpointer = checkpointer
        self.sandboxes = SandboxService(
            store: store.sandboxes, policies: store.policies, ledger: ledger, recorder: changes,
            defaults: setup.sandboxDefaults)
        do {
            self.approvalPolicy = try PolicyBook(
                .approval, title: "approval policy", changeKind: .approvalPolicyChanged,
                base: ApprovalPolicy.shippedYAML,
                store: store.policies, recorder: changes, clock: clock
            ) { yaml throws(FieldProblem) in try ApprovalPolicy(yaml: yaml) }
        } catch {
            preconditionFailure("the shipped approval policy parses (a test checks it): \(error)")
        }
        self.catalogSearch = CatalogSearch(store: store.catalog)
        let listening = ListeningAddress()
        self.listening = listening
        self.vault = vault
        let stored = StoredCredentials(store: store.gateway, vault: vault)
        self.storedCredentials = stored
        let credentials = LayeredCredentials(first: setup.credentials, then: stored)
        self.shippedCatalog = setup.catalog
        do {
            self.toolCatalog = try PolicyBook(
                .tools, title: "tool catalog", changeKind: .toolCatalogChanged, base: ToolCatalog.shippedYAML,
                store: store.policies, recorder: changes, clock: clock
            ) { yaml throws(FieldProblem) in try ToolCatalog(yaml: yaml) }
        } catch {
            preconditionFailure("the shipped tool catalog parses (a test checks it): \(error)")
        }
        self.tools = ToolGateway(
            catalog: ToolCatalog.shipped, ledger: ledger, audit: audit,
            credentials: LayeredCredentials(
                first: StaticCredentials([ToolGateway.builtinCredential: "sim-builtin"]), then: credentials),
            governed: setup.governed
        ) { kind in (listening.url ?? "http://127.0.0.1:0") + BuiltinSimulators.basePath(forTool: kind) }
        self.gateway = Gateway(catalog: setup.catalog, ledger: ledger, audit: audit, governed: setup.governed) {
            catalog in
            GatewaySetup.providerClients(for: catalog, listening: listening, credentials: credentials)
        }
        self.runs = RunService(
            store: store, identity: identity, ledger: ledger, recorder: changes, sandboxes: sandboxes,
            gateway: gateway, tools: tools, code: CodeAgentRunner(settings: runtime.code),
            concurrency: runtime.concurrency, listening: listening, logger: logger)
    }
}

/// The router with every route and middleware; the one place the HTTP side is wired.
public func buildRouter(
    configuration: ServerConfiguration, dependencies: ApplicationDependencies
) -> Router<AgentryRequestContext> {
    buildRoutes(configuration: configuration, dependencies: dependencies).router
}

/// The router and the `(method, path pattern)` list of every route it serves (checked against the OpenAPI spec).
func buildRoutes(
    configuration: ServerConfiguration, dependencies: ApplicationDependencies
) -> (router: Router<AgentryRequestContext>, routes: [(HTTPRequest.Method, String)]) {
    let identity = dependencies.identity
    // HEAD is answered wherever GET is, with the same headers and no body.
    let router = Router(context: AgentryRequestContext.self, options: .autoGenerateHeadEndpoints)
    var routes: [(HTTPRequest.Method, String)] = []
    let catalog = RouteCatalog()
    router.add(middleware: RequestIDMiddleware())
    router.add(middleware: PathParameterMiddleware())
    router.add(middleware: ObservabilityMiddleware(factory: PrometheusMetricsFactory(registry: dependencies.metrics)))
    router.add(
        middleware: ErrorMiddleware(
            routes: catalog, bodyBytesMax: configuration.bodyBytesMax, store: dependencies.store))
    HealthController(store: dependencies.store, metrics: dependencies.metrics, checkpointer: dependencies.checkpointer)
        .register(on: router, catalog: &routes)
    let gatewayRoutes = GatewayController(
        gateway: dependencies.gateway, tools: dependencies.tools, identity: identity, sandboxes: dependencies.sandboxes,
        runs: dependencies.runs, keys: GatewayKeyCache(), bodyBytesMax: max(configuration.bodyBytesMax, 8 << 20))
    gatewayRoutes.register(on: router, catalog: &routes)
    gatewayRoutes.registerTools(on: router, catalog: &routes)
    gatewayRoutes.registerMCP(
        on: router, endpoint: MCPEndpoint(gateway: gatewayRoutes, logger: dependencies.logger), catalog: &routes)
    if configuration.simulators { BuiltinSimulators.register(on: router) }
    let group = router.group("api/v1").add(
        middleware: AuthenticationMiddleware(
            authenticator: Authenticator(
                identity: identity, proxy: configuration.proxyIdentity,
                signIns: SignInRecorder(identity: identity, clock: dependencies.clock))))
    let api = APIRouter(group: group, prefix: "/api/v1")
    let (limit, audit) = (configuration.bodyBytesMax, dependencies.audit)
    UsersController(identity: identity, bodyBytesMax: limit).register(on: api)
    TeamsController(identity: identity, bodyBytesMax: limit).register(on: api)
    TokensController(identity: identity, bodyBytesMax: limit).register(on: api)
    CapsController(
        ledger: dependencies.ledger, identity: identity, recorder: dependencies.changes, bodyBytesMax: limit
    ).register(on: api)
    SpendController(ledger: dependencies.ledger).register(on: api)
    ReservationsController(ledger: dependencies.ledger, bodyBytesMax: limit).register(on: api)
    GatewayAdminController(
        store: dependencies.store.gateway, gateway: dependencies.gateway, shippedCatalog: dependencies.shippedCatalog,
        vault: dependencies.vault, credentials: dependencies.storedCredentials, recorder: dependencies.changes,
        bodyBytesMax: max(limit, 1 << 20)
    ).register(on: api)
    let (toolCatalog, tools) = (dependencies.toolCatalog, dependencies.tools)
    PolicyRoutes(
        book: toolCatalog, path: "tools/catalog", bodyBytesMax: max(limit, 1 << 20), view: ToolCatalogView.init,
        afterChange: { try await ToolCatalogService.apply(toolCatalog, to: tools) },
        // It names credentials and internal URLs; builders see what their key may call at GET /v1/tools.
        readers: [.admin, .reviewer, .auditor]
    ).register(on: api)
    SandboxController(
        sandboxes: dependencies.sandboxes, identity: identity, gateway: dependencies.gateway,
        bodyBytesMax: max(limit, 1 << 20)
    ).register(on: api)
    AgentsController(
        registry: AgentRegistryService(
            store: dependencies.store.registry, recorder: dependencies.changes, clock: dependencies.clock),
        stewardship: dependencies.store.stewardship
    ).register(on: api)
    CatalogController(
        catalog: dependencies.store.catalog, search: dependencies.catalogSearch, registry: dependencies.store.registry,
        reviews: dependencies.store.reviews, stewardship: dependencies.store.stewardship,
        identity: identity, ledger: dependencies.ledger, recorder: dependencies.changes, runs: dependencies.runs,
        bodyBytesMax: limit
    ).register(on: api)
    RunsController(runs: dependencies.runs, bodyBytesMax: limit).register(on: api)
    TransfersController(
        stewardship: dependencies.store.stewardship, registry: dependencies.store.registry, identity: identity,
        recorder: dependencies.changes, clock: dependencies.clock, bodyBytesMax: limit
    ).register(on: api)
    SubmissionsController(
        reviews: ReviewService(
            store: dependencies.store.reviews, registry: dependencies.store.registry, book: dependencies.approvalPolicy,
            recorder: dependencies.changes, ledger: dependencies.ledger, clock: dependencies.clock),
        bodyBytesMax: max(limit, 1 << 20)
    ).register(on: api)
    AuditController(
        store: dependencies.store.audit, log: audit, checkpointer: dependencies.checkpointer, bodyBytesMax: limit
    ).register(on: api)
    catalog.set(routes + api.routes)
    return (router, routes + api.routes)
}

/// The Hummingbird application serving `configuration` with `dependencies`.
public func buildApplication(
    configuration: ServerConfiguration, dependencies: ApplicationDependencies,
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) -> some ApplicationProtocol {
    Application(
        router: buildRouter(configuration: configuration, dependencies: dependencies),
        server: .http1(configuration: .init(idleTimeout: .seconds(configuration.idleTimeoutSeconds))),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
        services: [
            dependencies.checkpointer,
            AuditMaintenanceService(
                store: dependencies.store.audit, log: dependencies.audit, logger: dependencies.logger,
                clock: { Int64(dependencies.clock().timeIntervalSince1970 * 1000) }),
            LedgerExpiryService(ledger: dependencies.ledger, logger: dependencies.logger),
            GatewayCatalogService(
                store: dependencies.store.gateway, gateway: dependencies.gateway, shipped: dependencies.shippedCatalog,
                logger: dependencies.logger),
            SandboxPolicyService(sandboxes: dependencies.sandboxes, logger: dependencies.logger),
            ToolCatalogService(book: dependencies.toolCatalog, tools: dependencies.tools, logger: dependencies.logger),
        ],
        onServerRunning: { channel in
            if let port = channel.localAddress?.port {
                // The built-in simulators are called on this server: on loopback when it binds every address.
                let host = ["0.0.0.0", "::", ""].contains(configuration.host) ? "127.0.0.1" : configuration.host
                dependencies.listening.set("http://\(host.contains(":") ? "[\(host)]" : host):\(port)")
            }
            await onServerRunning(channel)
        },
        logger: dependencies.logger)
}
