import AgentryIdentity
import Foundation
import Hummingbird

/// The four routes of a policy IT writes, the same for each: read the one in effect (every
/// signed-in user, or the `readers` given), set a new revision and reset to revision 0
/// (admins), list stored revisions (admins and auditors).
struct PolicyRoutes<Policy: Sendable, View: Encodable & Sendable>: Sendable {
    let book: PolicyBook<Policy>
    /// The path under `/api/v1`, e.g. `sandbox/policy`.
    let path: String
    let bodyBytesMax: Int
    /// How the API shows a revision.
    let view: @Sendable (PolicyRevision<Policy>) -> View
    /// What else a change sets in motion (the Sandbox policy carries its caps to every Sandbox).
    var afterChange: @Sendable () async throws -> Void = {}
    /// Who may read the policy in effect; nil for every signed-in user.
    var readers: [Role]? = nil

    func register(on api: APIRouter) {
        api.on(.get, path) { _, context in
            let caller = try context.caller()
            if let readers { try caller.require(readers, to: "reading the \(book.title)") }
            return try JSONResponse.make(view(try await book.refresh()))
        }
        api.on(.put, path) { request, context in
            let caller = try context.caller()
            try caller.require([.admin], to: "changing the \(book.title)")
            var request = request
            let body = try await request.decodeJSON(SetPolicyBody.self, limit: bodyBytesMax)
            return try await change(to: body.yaml, expected: body.expectedRevision, by: caller, context)
        }
        api.on(.delete, path) { _, context in
            let caller = try context.caller()
            try caller.require([.admin], to: "changing the \(book.title)")
            return try await change(to: book.base.yaml, expected: nil, by: caller, context)
        }
        api.on(.get, path + "/revisions", revisions)
    }

    private func change(to yaml: String, expected: Int64?, by caller: Principal, _ context: AgentryRequestContext)
        async throws -> Response
    {
        let revision = try await book.set(yaml: yaml, expected: expected, by: caller.user.id)
        try await afterChange()
        context.logger.info(
            "policy.changed",
            metadata: ["policy.name": .string(book.name.rawValue), "policy.revision": "\(revision.number)"])
        return try JSONResponse.make(view(revision))
    }

    /// Stored revisions, newest first (`after` a revision number, `limit`).
    @Sendable func revisions(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        try context.caller().require([.admin, .auditor], to: "reading the \(book.title)'s history")
        let paging = try Paging(request)
        var before: Int64?
        if let after = paging.after {
            guard let number = Int64(after), number >= 1 else {
                throw APIError.invalidQuery("after", "must be a revision number from a previous page's next_after")
            }
            before = number
        }
        let stored = try await book.store.revisions(book.name, before: before, limit: paging.limit + 1)
        let (items, next) = paging.page(stored) { String($0.revision) }
        return try JSONResponse.make(
            Page(
                items: items.map {
                    PolicyRevisionView(
                        revision: $0.revision, yaml: $0.yaml, createdAt: $0.createdAt, createdBy: $0.createdBy)
                },
                nextAfter: next))
    }
}

/// `PUT` of a policy.
struct SetPolicyBody: ClosedJSONBody {
    static let fields = ["yaml", "expected_revision"]
    /// The policy as YAML.
    let yaml: String
    /// The revision the change was made to; a newer one in the store is a conflict (409).
    let expectedRevision: Int64?

    enum CodingKeys: String, CodingKey {
        case yaml
        case expectedRevision = "expected_revision"
    }
}

/// One stored revision of a policy.
struct PolicyRevisionView: Encodable, Sendable {
    let revision: Int64
    let yaml: String
    let createdAt: Date
    let createdBy: String

    enum CodingKeys: String, CodingKey {
        case revision, yaml
        case createdAt = "created_at"
        case createdBy = "created_by"
    }
}
