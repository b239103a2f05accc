import AgentryAudit
import AgentryIdentity
import Hummingbird

/// `/api/v1/teams`: every member may read the team list; admins create and change teams.
struct TeamsController: Sendable {
    let identity: IdentityService
    let bodyBytesMax: Int

    func register(on api: APIRouter) {
        api.on(.get, "teams", list)
        api.on(.post, "teams", create)
        api.on(.get, "teams/{id}", show)
        api.on(.patch, "teams/{id}", update)
    }

    @Sendable func list(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        let paging = try Paging(request)
        let teams = try await identity.store.teams(after: paging.after, limit: paging.limit + 1)
        let page = paging.page(teams, id: \.id)
        return try JSONResponse.make(Page(items: page.items.map(TeamView.init), nextAfter: page.nextAfter))
    }

    @Sendable func create(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        try context.caller().require([.admin], to: "creating teams")
        var request = request
        let body = try await request.decodeJSON(CreateTeamBody.self, limit: bodyBytesMax)
        let team = try await identity.createTeam(
            name: body.name, department: body.department, by: try context.caller().user.id)
        context.logger.info("team.created", metadata: ["team.id": .string(team.id)])
        return try JSONResponse.make(TeamView(team), status: .created)
    }

    /// Accepts a team id (`team_…`) or a team name.
    @Sendable func show(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        try JSONResponse.make(TeamView(try await identity.team(reference: try context.parameters.require("id"))))
    }

    @Sendable func update(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        try context.caller().require([.admin], to: "changing teams")
        let team = try await identity.team(reference: try context.parameters.require("id"))
        var request = request
        let body = try await request.decodeJSON(UpdateTeamBody.self, limit: bodyBytesMax)
        let updated = try await identity.updateTeam(
            id: team.id, name: body.name, department: body.department, by: try context.caller().user.id)
        context.logger.info("team.updated", metadata: ["team.id": .string(team.id)])
        return try JSONResponse.make(TeamView(updated))
    }
}
