import AgentryAudit
import AgentryIdentity
import Hummingbird

/// `/api/v1/users`: the caller's own profile, the user directory and user administration.
struct UsersController: Sendable {
    let identity: IdentityService
    let bodyBytesMax: Int

    /// Roles that may read every user.
    static let directoryRoles: [Role] = [.admin, .auditor, .reviewer, .finance]

    func register(on api: APIRouter) {
        // A fixed segment wins over a parameter in the router, so `me` needs its own routes for each method.
        api.on(.get, "users/me", show)
        api.on(.patch, "users/me", update)
        api.on(.get, "users", list)
        api.on(.post, "users", create)
        api.on(.get, "users/{id}", show)
        api.on(.patch, "users/{id}", update)
    }

    @Sendable func list(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        try context.caller().require(Self.directoryRoles, to: "listing users")
        let paging = try Paging(request)
        let users = try await identity.store.users(after: paging.after, limit: paging.limit + 1)
        let page = paging.page(users, id: \.id)
        var views: [UserView] = []
        var teamNames: [String: String] = [:]
        for user in page.items {
            if let teamID = user.teamID, teamNames[teamID] == nil {
                teamNames[teamID] = try await identity.store.team(id: teamID)?.name
            }
            views.append(UserView(user, teamName: user.teamID.flatMap { teamNames[$0] }))
        }
        return try JSONResponse.make(Page(items: views, nextAfter: page.nextAfter))
    }

    @Sendable func create(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        try context.caller().require([.admin], to: "creating users")
        var request = request
        let body = try await request.decodeJSON(CreateUserBody.self, limit: bodyBytesMax)
        let roles = try Set((body.roles ?? []).map { try Role.parse($0, field: "roles") })
        let user = try await identity.createUser(
            email: body.email, displayName: body.displayName, teamReference: body.team, roles: roles,
            by: try context.caller().user.id)
        context.logger.info("user.created", metadata: ["user.created.id": .string(user.id)])
        return try await view(user, status: .created)
    }

    /// The user id a path names; `me` (its own route, or as the id) is the caller.
    private func userID(_ context: AgentryRequestContext, caller: Principal) -> String {
        let id = context.parameters.get("id") ?? "me"
        return id == "me" ? caller.user.id : id
    }

    @Sendable func show(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        let caller = try context.caller()
        let id = userID(context, caller: caller)
        if caller.user.id != id { try caller.require(Self.directoryRoles, to: "reading another user") }
        guard let user = try await identity.store.user(id: id) else { throw IdentityError.userNotFound(id) }
        return try await view(user)
    }

    @Sendable func update(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        let caller = try context.caller()
        let id = userID(context, caller: caller)
        if caller.user.id != id { try caller.require([.admin], to: "changing another user") }
        var request = request
        let body = try await request.decodeJSON(UpdateUserBody.self, limit: bodyBytesMax)
        if body.changesMoreThanName { try caller.require([.admin], to: "changing a team, roles or disabled state") }
        let roles = try body.roles.map { try Set($0.map { try Role.parse($0, field: "roles") }) }
        let change = UserChange(
            displayName: body.displayName, teamReference: body.team, roles: roles, disabled: body.disabled)
        let user = try await identity.updateUser(id: id, change: change, by: caller.user.id)
        context.logger.info("user.updated", metadata: ["user.updated.id": .string(user.id)])
        return try await view(user)
    }

    private func view(_ user: User, status: HTTPResponse.Status = .ok) async throws -> Response {
        let teamName = try await user.teamID.asyncMap { try await identity.store.team(id: $0)?.name } ?? nil
        return try JSONResponse.make(UserView(user, teamName: teamName), status: status)
    }
}

extension Optional {
    /// `map` for an async transform.
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
