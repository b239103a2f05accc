import AgentryIdentity
import AgentryPolicy
import AgentryRegistry
import AgentryStore
import Foundation
import Hummingbird

/// Submission and review over HTTP: `POST /api/v1/agents/{name}/versions/{version}/submit`, the
/// review queue and each submission's checklist and thread under `/api/v1/submissions`, and the
/// approval criteria under `/api/v1/review/policy`.
struct SubmissionsController: Sendable {
    let reviews: ReviewService
    let bodyBytesMax: Int

    func register(on api: APIRouter) {
        api.on(.post, "agents/{name}/versions/{version}/submit", submit)
        api.on(.get, "submissions", list)
        api.on(.get, "submissions/{id}", show)
        api.on(.post, "submissions/{id}/comments", comment)
        api.on(.post, "submissions/{id}/decision", decide)
        api.on(.post, "submissions/{id}/withdraw", withdraw)
        PolicyRoutes(
            book: reviews.book, path: "review/policy", bodyBytesMax: bodyBytesMax, view: ApprovalPolicyView.init
        ).register(on: api)
    }

    @Sendable func submit(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        let caller = try context.caller()
        var request = request
        let body = try await request.decodeJSON(SubmitBody.self, limit: bodyBytesMax)
        let submission = try await reviews.submit(
            agent: try context.parameters.require("name"), version: try context.parameters.require("version"),
            purpose: body.purpose, by: caller.user)
        return try await view(submission, status: .created)
    }

    /// The queue: reviewers, admins and auditors see every submission (`?state=open` for the
    /// open ones); others see their own.
    @Sendable func list(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        let caller = try context.caller()
        let paging = try Paging(request)
        var state: SubmissionState?
        if let text = request.uri.queryParameters["state"].map(String.init) {
            guard let parsed = SubmissionState(rawValue: text) else {
                throw APIError.invalidQuery(
                    "state", "must be one of \(SubmissionState.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            state = parsed
        }
        let everyone = (ReviewService.reviewers + [.auditor]).contains(where: caller.user.has)
        let found = try await reviews.store.submissions(
            state: state, submittedBy: everyone ? nil : caller.user.id, after: paging.after, limit: paging.limit + 1)
        let (items, next) = paging.page(found, id: \.id)
        var views: [SubmissionSummaryView] = []
        for submission in items {
            let agent = try await reviews.registry.agent(id: submission.agentID)
            views.append(SubmissionSummaryView(submission, agent: agent?.name ?? submission.agentID))
        }
        return try JSONResponse.make(Page(items: views, nextAfter: next))
    }

    @Sendable func show(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        let caller = try context.caller()
        let (submission, _) = try await reviews.visible(try context.parameters.require("id"), to: caller.user)
        return try await view(submission)
    }

    @Sendable func comment(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        let caller = try context.caller()
        var request = request
        let body = try await request.decodeJSON(CommentBody.self, limit: bodyBytesMax)
        let event = try await reviews.comment(
            on: try context.parameters.require("id"), body: body.body, by: caller.user)
        return try JSONResponse.make(ReviewEventView(event), status: .created)
    }

    @Sendable func decide(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        let caller = try context.caller()
        try caller.require(ReviewService.reviewers, to: "deciding submissions")
        var request = request
        let body = try await request.decodeJSON(DecisionBody.self, limit: bodyBytesMax)
        guard let decision = ReviewDecision(rawValue: body.decision) else {
            throw APIError(.badRequest, "invalid_field", "decision: must be approve, reject or request_changes")
        }
        if body.grants != nil, decision != .approve {
            throw APIError(.badRequest, "invalid_field", "grants: only an approval grants anything")
        }
        let submission = try await reviews.decide(
            try context.parameters.require("id"), decision: decision, reason: body.reason,
            grants: try body.grants?.grants(), by: caller.user)
        return try await view(submission)
    }

    @Sendable func withdraw(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        let caller = try context.caller()
        return try await view(try await reviews.withdraw(try context.parameters.require("id"), by: caller.user))
    }

    private func view(_ submission: StoredSubmission, status: HTTPResponse.Status = .ok) async throws -> Response {
        let agent = try await reviews.registry.agent(id: submission.agentID)
        let thread = try await reviews.store.events(submissionID: submission.id)
        var delta: VersionDelta?
        if let base = submission.baseVersion,
            let old = try await reviews.registry.version(agentID: submission.agentID, version: base),
            let new = try await reviews.registry.version(agentID: submission.agentID, version: submission.version)
        {
            delta = VersionDelta(
                from: try AgentManifest(yaml: old.manifest), files: old.files,
                to: try AgentManifest(yaml: new.manifest),
                files: new.files)
        }
        return try JSONResponse.make(
            SubmissionView(
                submission, agent: agent?.name ?? submission.agentID, thread: thread, delta: delta.map(DeltaView.init)),
            status: status)
    }
}
