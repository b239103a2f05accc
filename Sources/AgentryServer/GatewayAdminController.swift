import AgentryAudit
import AgentryGateway
import AgentryIdentity
import AgentryStore
import Foundation
import Hummingbird

/// `/api/v1/credentials` and `/api/v1/gateway/catalog`: the provider credentials the gateway
/// injects (sealed by the vault, never shown again once set) and the model catalog, both set by
/// admins; every change is an audit record written with the change.
struct GatewayAdminController: Sendable {
    let store: any GatewayStore
    let gateway: Gateway
    let shippedCatalog: ModelCatalog
    let vault: CredentialVault?
    let credentials: StoredCredentials
    let recorder: AuditChangeRecorder
    let bodyBytesMax: Int

    /// The longest secret accepted (provider keys are far shorter; service-account JSON fits).
    static let secretBytesMax = 16 << 10

    func register(on api: APIRouter) {
        api.on(.get, "credentials", list)
        api.on(.put, "credentials/{name}", set)
        api.on(.delete, "credentials/{name}", remove)
        api.on(.get, "gateway/catalog", catalog)
        api.on(.put, "gateway/catalog", setCatalog)
        api.on(.delete, "gateway/catalog", resetCatalog)
    }

    @Sendable func list(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        try context.caller().require([.admin, .auditor], to: "listing provider credentials")
        return try JSONResponse.make(CredentialList(items: try await store.credentials().map(CredentialView.init)))
    }

    /// Seals and stores a credential; the answer shows its name and key id, never the secret.
    @Sendable func set(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        let caller = try context.caller()
        try caller.require([.admin], to: "setting provider credentials")
        let name = try Self.name(context)
        var request = request
        let body = try await request.decodeJSON(SetCredentialBody.self, limit: bodyBytesMax)
        guard !body.secret.isEmpty, body.secret.utf8.count <= Self.secretBytesMax,
            !body.secret.unicodeScalars.contains(where: {
                $0.properties.generalCategory == .control && $0 != "\n" && $0 != "\t"
            })
        else {
            throw APIError(
                .badRequest, "invalid_field",
                "secret: must be 1 to \(Self.secretBytesMax) bytes without control characters")
        }
        guard let vault else {
            throw APIError(.serviceUnavailable, "vault_not_configured", VaultError.noKey.description)
        }
        let sealed = try vault.seal(body.secret, name: name)
        let time = Date()
        let credential = StoredCredential(
            name: name, sealed: sealed, keyID: vault.keyID, updatedAt: time, updatedBy: caller.user.id)
        let message = try recorder.message(
            for: AuditEvent(
                time: StoredTime.milliseconds(time), kind: .credentialChanged, actor: caller.user.id, subject: name,
                outcome: "set"),
            at: time)
        try await store.setCredential(credential, recording: [message])
        credentials.forget(name)
        try await recorder.deliver([message])
        context.logger.info("credential.set", metadata: ["credential.name": .string(name)])
        return try JSONResponse.make(CredentialView(credential))
    }

    @Sendable func remove(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        let caller = try context.caller()
        try caller.require([.admin], to: "deleting provider credentials")
        let name = try Self.name(context)
        let time = Date()
        let message = try recorder.message(
            for: AuditEvent(
                time: StoredTime.milliseconds(time), kind: .credentialChanged, actor: caller.user.id, subject: name,
                outcome: "deleted"),
            at: time)
        guard try await store.deleteCredential(named: name, recording: [message]) else {
            throw APIError(.notFound, "credential_not_found", "no credential is named '\(name)'")
        }
        credentials.forget(name)
        try await recorder.deliver([message])
        return Response(status: .noContent)
    }

    /// The catalog in effect: the shipped one, or the one an admin set.
    @Sendable func catalog(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        try context.caller().require([.admin, .auditor, .finance], to: "reading the model catalog")
        let stored = try await store.catalog()
        return try JSONResponse.make(
            CatalogView(
                source: stored == nil ? "shipped" : "admin", yaml: stored?.yaml ?? DefaultModelCatalog.yaml,
                updatedAt: stored?.updatedAt, updatedBy: stored?.updatedBy,
                models: gateway.catalog.models.keys.sorted(), providers: gateway.catalog.providers.keys.sorted()))
    }

    /// Replaces the catalog with the YAML in `{"yaml": …}`, checked field by field first.
    @Sendable func setCatalog(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        let caller = try context.caller()
        try caller.require([.admin], to: "changing the model catalog")
        var request = request
        let body = try await request.decodeJSON(SetCatalogBody.self, limit: bodyBytesMax)
        let catalog: ModelCatalog
        do {
            catalog = try ModelCatalog(yaml: body.yaml)
        } catch {
            throw APIError(.badRequest, "invalid_catalog", "yaml: \(error.description)")
        }
        guard !catalog.providers.isEmpty else {
            throw APIError(
                .badRequest, "invalid_catalog", "yaml: providers: list the providers the models name (or 'builtin')")
        }
        let time = Date()
        let message = try recorder.message(
            for: AuditEvent(
                time: StoredTime.milliseconds(time), kind: .catalogChanged, actor: caller.user.id, outcome: "set"),
            at: time)
        try await store.setCatalog(
            StoredCatalog(yaml: body.yaml, updatedAt: time, updatedBy: caller.user.id), recording: [message])
        gateway.replace(catalog: catalog)
        try await recorder.deliver([message])
        return try await self.catalog(request, context: context)
    }

    /// Goes back to the shipped catalog.
    @Sendable func resetCatalog(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        let caller = try context.caller()
        try caller.require([.admin], to: "changing the model catalog")
        let time = Date()
        let message = try recorder.message(
            for: AuditEvent(
                time: StoredTime.milliseconds(time), kind: .catalogChanged, actor: caller.user.id, outcome: "reset"),
            at: time)
        try await store.setCatalog(nil, recording: [message])
        gateway.replace(catalog: shippedCatalog)
        try await recorder.deliver([message])
        return try await catalog(request, context: context)
    }

    private static func name(_ context: AgentryRequestContext) throws -> String {
        let name = try context.parameters.require("name")
        guard ProviderConfig.isCredentialName(name) else {
            throw APIError(.badRequest, "invalid_field", "name: must be \(ProviderConfig.credentialNameRule)")
        }
        guard name != BuiltinSimulators.credentialName else {
            throw APIError(.badRequest, "invalid_field", "name: '\(name)' is reserved for the built-in simulators")
        }
        return name
    }
}

/// `PUT /api/v1/credentials/{name}`.
struct SetCredentialBody: ClosedJSONBody {
    static let fields = ["secret"]
    /// The provider's key; sealed at once and never shown again.
    let secret: String
}

/// `PUT /api/v1/gateway/catalog`.
struct SetCatalogBody: ClosedJSONBody {
    static let fields = ["yaml"]
    /// The catalog in the YAML format of docs/gateway.md.
    let yaml: String
}

/// A credential as the API shows it: never the secret.
struct CredentialView: Encodable, Sendable {
    let name: String
    let keyID: String
    let updatedAt: Date
    let updatedBy: String

    init(_ credential: StoredCredential) {
        name = credential.name
        keyID = credential.keyID
        updatedAt = credential.updatedAt
        updatedBy = credential.updatedBy
    }
}

/// Every credential.
struct CredentialList: Encodable, Sendable {
    let items: [CredentialView]
}

/// The catalog in effect.
struct CatalogView: Encodable, Sendable {
    /// `shipped` or `admin`.
    let source: String
    let yaml: String
    let updatedAt: Date?
    let updatedBy: String?
    /// The public model names and provider names it holds.
    let models: [String]
    let providers: [String]
}
