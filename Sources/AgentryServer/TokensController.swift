import AgentryAudit
import AgentryIdentity
import Foundation
import Hummingbird

/// `/api/v1/tokens`: personal access tokens of the caller (admins may list anyone's and revoke any).
struct TokensController: Sendable {
    let identity: IdentityService
    let bodyBytesMax: Int

    func register(on api: APIRouter) {
        api.on(.get, "tokens", list)
        api.on(.post, "tokens", create)
        api.on(.delete, "tokens/{id}", revoke)
    }

    @Sendable func list(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        let caller = try context.caller()
        let named = request.uri.queryParameters["user_id"].map(String.init)
        let userID = named == nil || named == "me" ? caller.user.id : named!
        if userID != caller.user.id {
            try caller.require([.admin], to: "listing another user's tokens")
            guard try await identity.store.user(id: userID) != nil else { throw IdentityError.userNotFound(userID) }
        }
        let tokens = try await identity.store.tokens(userID: userID)
        return try JSONResponse.make(Page(items: tokens.map(TokenView.init), nextAfter: nil))
    }

    @Sendable func create(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        let caller = try context.caller()
        var request = request
        let body = try await request.decodeJSON(CreateTokenBody.self, limit: bodyBytesMax)
        let lifetime = body.expiresInDays.map { TimeInterval($0) * 86_400 }
        let kind: TokenKind
        switch body.kind {
        case nil, "pat": kind = .pat
        case "sandbox": kind = .sandbox
        case let other?:
            throw IdentityError.invalidField(
                field: "kind", reason: "must be pat (API and CLI) or sandbox (model gateway), not '\(other)'")
        }
        let issued = try await identity.issuePersonalToken(
            userID: caller.user.id, name: body.name, lifetime: lifetime, kind: kind, by: caller.user.id)
        context.logger.info("token.created", metadata: ["token.id": .string(issued.record.id)])
        return try JSONResponse.make(
            CreatedTokenView(token: issued.secret, record: TokenView(issued.record)), status: .created)
    }

    @Sendable func revoke(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        let caller = try context.caller()
        let token = try await identity.revokeToken(id: try context.parameters.require("id"), by: caller.user)
        context.logger.info("token.revoked", metadata: ["token.id": .string(token.id)])
        return try JSONResponse.make(TokenView(token))
    }
}
