import AgentryAudit
import AgentryIdentity
import AgentryRegistry
import AgentryStore
import Foundation
import Hummingbird

/// Ownership transfers: an agent's owner (or an admin) asks to hand it to another user, and a
/// reviewer who is none of the three decides, with a reason; on approval the agent (and with it
/// its drafts and pushes) and its Catalog entry change owner at once. Each step is an audit record whose reason is an
/// erasable payload.
struct TransfersController: Sendable {
    let stewardship: any StewardshipStore
    let registry: any RegistryStore
    let identity: IdentityService
    let recorder: AuditChangeRecorder
    let clock: @Sendable () -> Date
    let bodyBytesMax: Int

    /// Roles that see every transfer (and, but for auditors, decide them).
    static let overseers: [Role] = [.reviewer, .admin, .auditor]

    func register(on api: APIRouter) {
        api.on(.post, "agents/{name}/transfers", request)
        api.on(.get, "transfers", list)
        api.on(.get, "transfers/{id}", show)
        api.on(.post, "transfers/{id}/decision", decide)
        api.on(.post, "transfers/{id}/withdraw", withdraw)
    }

    /// `{"to": email, "reason": …}`: opens a transfer of the path's agent.
    @Sendable func request(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        let caller = try context.caller()
        let name = try context.parameters.require("name")
        guard let agent = try await registry.agent(name: name) else { throw RegistryError.agentNotFound(name) }
        guard agent.ownerID == caller.user.id || caller.user.has(.admin) else {
            // Others learn nothing of an agent with no published version.
            guard agent.publishedVersion != nil else { throw RegistryError.agentNotFound(name) }
            throw RegistryError.notOwner(agent: agent.name)
        }
        guard agent.state != .suspended else { throw RegistryError.suspended(agent.name) }
        var request = request
        let body = try await request.decodeJSON(TransferBody.self, limit: bodyBytesMax)
        let reason = try ReviewService.text(body.reason, field: "reason")
        let email: EmailAddress
        do { email = try EmailAddress(body.to) } catch {
            throw APIError(.badRequest, "invalid_field", "to: \(error)")
        }
        guard let recipient = try await identity.store.user(email: email), recipient.isActive else {
            throw APIError(.badRequest, "invalid_field", "to: no active user has the address \(email)")
        }
        guard recipient.id != agent.ownerID else {
            throw APIError(.badRequest, "invalid_field", "to: \(email) already owns '\(agent.name)'")
        }
        let time = clock()
        let transfer = OwnershipTransfer(
            id: RandomText.identifier(prefix: "trf"), agentID: agent.id, fromOwnerID: agent.ownerID,
            toOwnerID: recipient.id, requestedBy: caller.user.id, reason: reason, state: .open, decidedBy: nil,
            decisionReason: nil, createdAt: time, decidedAt: nil)
        let message = try message(
            .agentTransferRequested, transfer, agent: agent.name, by: caller.user.id,
            outcome: "open", reason: reason, at: time)
        guard try await stewardship.requestTransfer(transfer, recording: [message]) else {
            throw APIError(
                .conflict, "transfer_open",
                "'\(agent.name)' already has an open ownership transfer; decide or withdraw it first")
        }
        try await recorder.deliver([message])
        return try JSONResponse.make(TransferView(transfer, agent: agent.name), status: .created)
    }

    /// Transfers newest first (`?state=`, paged): all of them for reviewers, admins and
    /// auditors; for anyone else those they asked for, give or receive.
    @Sendable func list(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        let caller = try context.caller()
        let paging = try Paging(request)
        var state: OwnershipTransfer.State?
        if let text = request.uri.queryParameters["state"].map(String.init) {
            guard let parsed = OwnershipTransfer.State(rawValue: text) else {
                throw APIError.invalidQuery(
                    "state",
                    "must be one of \(OwnershipTransfer.State.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            state = parsed
        }
        let everyone = Self.overseers.contains(where: caller.user.has)
        let found = try await stewardship.transfers(
            state: state, involving: everyone ? nil : caller.user.id, after: paging.after, limit: paging.limit + 1)
        let (items, next) = paging.page(found, id: \.id)
        var views: [TransferView] = []
        for transfer in items {
            let agent = try await registry.agent(id: transfer.agentID)
            views.append(TransferView(transfer, agent: agent?.name ?? transfer.agentID))
        }
        return try JSONResponse.make(Page(items: views, nextAfter: next))
    }

    @Sendable func show(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        let caller = try context.caller()
        let (transfer, agent) = try await visible(context, to: caller.user)
        return try JSONResponse.make(TransferView(transfer, agent: agent.name))
    }

    /// `{"decision": "approve"|"reject", "reason": …}` by a reviewer or admin who is neither
    /// owner, nor the recipient, nor the requester.
    @Sendable func decide(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        let caller = try context.caller()
        try caller.require(ReviewService.reviewers, to: "deciding ownership transfers")
        let (transfer, agent) = try await visible(context, to: caller.user)
        guard ![transfer.fromOwnerID, transfer.toOwnerID, transfer.requestedBy].contains(caller.user.id) else {
            throw APIError(
                .forbidden, "own_transfer", "a reviewer cannot decide a transfer they asked for, give or receive")
        }
        try Self.requireOpen(transfer)
        guard agent.state != .suspended else { throw RegistryError.suspended(agent.name) }
        var request = request
        let body = try await request.decodeJSON(TransferDecisionBody.self, limit: bodyBytesMax)
        let reason = try ReviewService.text(body.reason, field: "reason")
        let state: OwnershipTransfer.State
        switch body.decision {
        case "approve": state = .approved
        case "reject": state = .rejected
        default: throw APIError(.badRequest, "invalid_field", "decision: must be approve or reject")
        }
        var team: String?
        if state == .approved {
            guard let recipient = try await identity.store.user(id: transfer.toOwnerID), recipient.isActive else {
                throw APIError(
                    .conflict, "recipient_inactive", "the recipient's account is disabled; reject the transfer instead")
            }
            team = recipient.teamID
        }
        let time = clock()
        let message = try message(
            .agentTransferDecided, transfer, agent: agent.name, by: caller.user.id,
            outcome: state.rawValue, reason: reason, at: time)
        guard
            try await stewardship.decideTransfer(
                id: transfer.id, TransferDecision(state: state, by: caller.user.id, reason: reason, teamID: team),
                at: time, recording: [message])
        else { throw try await conflict(transfer.id) }
        try await recorder.deliver([message])
        context.logger.info(
            "agent.transfer_decided",
            metadata: ["agent.name": .string(agent.name), "transfer.state": .string(state.rawValue)])
        return try JSONResponse.make(TransferView(try await reload(transfer.id), agent: agent.name))
    }

    /// The requester or the agent's owner takes an open transfer back.
    @Sendable func withdraw(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        let caller = try context.caller()
        let (transfer, agent) = try await visible(context, to: caller.user)
        guard [transfer.requestedBy, agent.ownerID].contains(caller.user.id) else {
            throw APIError(
                .forbidden, "not_requester", "only who asked for the transfer or the agent's owner may withdraw it")
        }
        try Self.requireOpen(transfer)
        let reason = "withdrawn by \(caller.user.id == transfer.requestedBy ? "its requester" : "the agent's owner")"
        let time = clock()
        let message = try message(
            .agentTransferWithdrawn, transfer, agent: agent.name, by: caller.user.id,
            outcome: "withdrawn", reason: reason, at: time)
        guard
            try await stewardship.decideTransfer(
                id: transfer.id, TransferDecision(state: .withdrawn, by: caller.user.id, reason: reason, teamID: nil),
                at: time, recording: [message])
        else { throw try await conflict(transfer.id) }
        try await recorder.deliver([message])
        return try JSONResponse.make(TransferView(try await reload(transfer.id), agent: agent.name))
    }

    /// The path's transfer and its agent, if `user` may see it; others are told it does not exist.
    private func visible(_ context: AgentryRequestContext, to user: User) async throws -> (
        OwnershipTransfer, StoredAgent
    ) {
        let id = try context.parameters.require("id")
        guard let transfer = try await stewardship.transfer(id: id),
            let agent = try await registry.agent(id: transfer.agentID),
            Self.overseers.contains(where: user.has)
                || [transfer.fromOwnerID, transfer.toOwnerID, transfer.requestedBy].contains(user.id)
        else { throw APIError(.notFound, "transfer_not_found", "no ownership transfer \(id)") }
        return (transfer, agent)
    }

    private static func requireOpen(_ transfer: OwnershipTransfer) throws {
        guard transfer.state == .open else {
            throw APIError(
                .conflict, "transfer_decided", "the transfer \(transfer.id) is already \(transfer.state.rawValue)")
        }
    }

    /// Why a decision did not take: another closed the transfer first, or the owner changed since it was asked.
    private func conflict(_ id: String) async throws -> APIError {
        let now = try await reload(id)
        guard now.state == .open else {
            return APIError(.conflict, "transfer_decided", "the transfer \(id) is already \(now.state.rawValue)")
        }
        return APIError(
            .conflict, "owner_changed",
            "the agent changed owner since the transfer was asked for; reject it and ask again")
    }

    private func reload(_ id: String) async throws -> OwnershipTransfer {
        guard let transfer = try await stewardship.transfer(id: id) else {
            throw APIError(.notFound, "transfer_not_found", "no ownership transfer \(id)")
        }
        return transfer
    }

    private func message(
        _ kind: AuditEventKind, _ transfer: OwnershipTransfer, agent: String, by actor: String, outcome: String,
        reason: String, at time: Date
    ) throws -> ChangeMessage {
        try recorder.message(
            for: AuditEvent(
                time: StoredTime.milliseconds(time), kind: kind, actor: actor, subject: transfer.id, agent: agent,
                outcome: outcome),
            payloads: [AuditPayload(name: "reason", bytes: Array(reason.utf8))], at: time)
    }
}

/// `{"to": email, "reason": …}` of a transfer request.
struct TransferBody: ClosedJSONBody {
    static let fields = ["to", "reason"]
    let to: String
    let reason: String
}

/// `{"decision": "approve"|"reject", "reason": …}`.
struct TransferDecisionBody: ClosedJSONBody {
    static let fields = ["decision", "reason"]
    let decision: String
    let reason: String
}

/// An ownership transfer as the API shows it.
struct TransferView: Encodable, Sendable {
    let id: String
    let agent: String
    let fromOwnerId: String
    let toOwnerId: String
    let requestedBy: String
    let reason: String
    let state: String
    let decidedBy: String?
    let decisionReason: String?
    let createdAt: Date
    let decidedAt: Date?

    init(_ transfer: OwnershipTransfer, agent: String) {
        id = transfer.id
        self.agent = agent
        fromOwnerId = transfer.fromOwnerID
        toOwnerId = transfer.toOwnerID
        requestedBy = transfer.requestedBy
        reason = transfer.reason
        state = transfer.state.rawValue
        decidedBy = transfer.decidedBy
        decisionReason = transfer.decisionReason
        createdAt = transfer.createdAt
        decidedAt = transfer.decidedAt
    }

    enum CodingKeys: String, CodingKey {
        case id, agent, reason, state
        case fromOwnerId = "from_owner_id"
        case toOwnerId = "to_owner_id"
        case requestedBy = "requested_by"
        case decidedBy = "decided_by"
        case decisionReason = "decision_reason"
        case createdAt = "created_at"
        case decidedAt = "decided_at"
    }

    /// Writes the decision's fields as explicit nulls while open.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(agent, forKey: .agent)
        try container.encode(fromOwnerId, forKey: .fromOwnerId)
        try container.encode(toOwnerId, forKey: .toOwnerId)
        try container.encode(requestedBy, forKey: .requestedBy)
        try container.encode(reason, forKey: .reason)
        try container.encode(state, forKey: .state)
        try container.encode(decidedBy, forKey: .decidedBy)
        try container.encode(decisionReason, forKey: .decisionReason)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(decidedAt, forKey: .decidedAt)
    }
}
