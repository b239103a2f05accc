import AgentryLedger
import AgentryPolicy
import AgentryRegistry
import AgentryStore
import Foundation

/// `POST /api/v1/agents/{name}/versions/{version}/submit`.
struct SubmitBody: ClosedJSONBody {
    static let fields = ["purpose"]
    /// What the agent is for, in the builder's words.
    let purpose: String
}

/// `POST /api/v1/submissions/{id}/comments`.
struct CommentBody: ClosedJSONBody {
    static let fields = ["body"]
    let body: String
}

/// `POST /api/v1/submissions/{id}/decision`.
struct DecisionBody: ClosedJSONBody {
    static let fields = ["decision", "reason", "grants"]
    /// `approve`, `reject` or `request_changes`.
    let decision: String
    /// Why: every decision carries one.
    let reason: String
    /// What an approval grants; everything requested when absent.
    let grants: GrantsBody?
}

/// Grants as the API takes and shows them: dollars as decimal strings.
struct GrantsBody: Codable, Sendable {
    let models: [String]
    let tools: [String: [String]]
    let caps: [String: String]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case models, tools, caps
    }

    /// Any key.
    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Decodes strictly: a field grants are not made of is refused, like in every other body.
    init(from decoder: any Decoder) throws {
        let allowed = CodingKeys.allCases.map(\.rawValue)
        for key in try decoder.container(keyedBy: AnyKey.self).allKeys where !allowed.contains(key.stringValue) {
            throw APIError.unknownField("grants.\(key.stringValue)", allowed: allowed.map { "grants.\($0)" })
        }
        let container = try decoder.container(keyedBy: CodingKeys.self)
        models = try container.decode([String].self, forKey: .models)
        tools = try container.decode([String: [String]].self, forKey: .tools)
        caps = try container.decode([String: String].self, forKey: .caps)
    }

    /// The grants, or a 400 naming the malformed cap.
    func grants() throws -> Grants {
        var amounts: [String: Int64] = [:]
        for (window, text) in caps {
            guard ["run", "day", "month"].contains(window) else {
                throw APIError(
                    .badRequest, "invalid_field", "grants.caps.\(window): the windows are run, day and month")
            }
            guard let amount = Microdollars(parsing: text) else {
                throw APIError(
                    .badRequest, "invalid_field", "grants.caps.\(window): must be a dollar amount like \"0.50\"")
            }
            amounts[window] = amount.value
        }
        guard let run = amounts["run"] else {
            throw APIError(.badRequest, "invalid_field", "grants.caps.run: is required")
        }
        return Grants(models: models, tools: tools, runCap: run, dayCap: amounts["day"], monthCap: amounts["month"])
    }

    init(_ grants: Grants) {
        models = grants.models
        tools = grants.tools
        var caps = ["run": Microdollars(grants.runCap).decimalText]
        if let day = grants.dayCap { caps["day"] = Microdollars(day).decimalText }
        if let month = grants.monthCap { caps["month"] = Microdollars(month).decimalText }
        self.caps = caps
    }
}

/// A submission in the queue.
struct SubmissionSummaryView: Encodable, Sendable {
    let id: String
    let agent: String
    let version: String
    let state: String
    let submittedBy: String
    /// The worst checklist result: pass, warn or fail.
    let checklistResult: String
    let approvalsRequired: Int
    let createdAt: Date

    init(_ submission: StoredSubmission, agent: String) {
        id = submission.id
        self.agent = agent
        version = submission.version
        state = submission.state.rawValue
        submittedBy = submission.submittedBy
        checklistResult = Checklist(items: submission.checklist).result.rawValue
        approvalsRequired = submission.approvalsRequired
        createdAt = submission.createdAt
    }
}

/// A submission with its checklist, grants and thread.
struct SubmissionView: Encodable, Sendable {
    let id: String
    let agent: String
    let version: String
    let state: String
    let purpose: String
    let submittedBy: String
    let checklist: [Checklist.Item]
    let checklistResult: String
    let policyRevision: Int64
    let approvalsRequired: Int
    /// Distinct reviewers who approved so far.
    let approvedBy: [String]
    let grants: GrantsBody?
    let createdAt: Date
    let decidedAt: Date?
    let thread: [ReviewEventView]
    /// For an update: the version it was compared with.
    let baseVersion: String?
    /// For an update: what changed since the published version.
    let delta: DeltaView?

    init(_ submission: StoredSubmission, agent: String, thread: [StoredReviewEvent], delta: DeltaView?) {
        id = submission.id
        self.agent = agent
        version = submission.version
        state = submission.state.rawValue
        purpose = submission.purpose
        submittedBy = submission.submittedBy
        checklist = submission.checklist
        checklistResult = Checklist(items: submission.checklist).result.rawValue
        policyRevision = submission.policyRevision
        approvalsRequired = submission.approvalsRequired
        var seen: [String] = []
        for event in thread where event.kind == .approve && !seen.contains(event.authorID) {
            seen.append(event.authorID)
        }
        approvedBy = seen
        grants = submission.grants.map(GrantsBody.init)
        createdAt = submission.createdAt
        decidedAt = submission.decidedAt
        self.thread = thread.map(ReviewEventView.init)
        baseVersion = submission.baseVersion
        self.delta = delta
    }
}

/// One entry of a submission's thread.
struct ReviewEventView: Encodable, Sendable {
    let sequence: Int64
    let authorId: String
    let kind: String
    let body: String
    /// What an approval granted.
    let grants: GrantsBody?
    let createdAt: Date

    init(_ event: StoredReviewEvent) {
        sequence = event.sequence
        authorId = event.authorID
        kind = event.kind.rawValue
        body = event.body
        grants = event.grants.map(GrantsBody.init)
        createdAt = event.createdAt
    }
}

/// The approval criteria in effect.
struct ApprovalPolicyView: Encodable, Sendable {
    let revision: Int64
    let source: String
    let yaml: String
    let createdAt: Date?
    let createdBy: String?
    let autoApprove: String
    let autoApproveUpdates: String
    /// Each rule's id and kind.
    let rules: [[String: String]]

    init(_ revision: PolicyRevision<ApprovalPolicy>) {
        self.revision = revision.number
        source =
            revision.number > 0 ? "admin" : revision.yaml == ApprovalPolicy.shippedYAML ? "shipped" : "installation"
        yaml = revision.yaml
        createdAt = revision.createdAt
        createdBy = revision.createdBy
        autoApprove = revision.policy.autoApprove.rawValue
        autoApproveUpdates = revision.policy.autoApproveUpdates.rawValue
        rules = revision.policy.rules.map { ["id": $0.id, "kind": $0.check.kind] }
    }
}

/// What changed in an update, as the reviewer reads it.
struct DeltaView: Encodable, Sendable {
    let from: String
    let to: String
    let modelsAdded: [String]
    let modelsRemoved: [String]
    let toolsAdded: [String]
    let toolsRemoved: [String]
    let changes: [[String: String]]
    let promptDiff: [String]
    let filesAdded: [String]
    let filesRemoved: [String]
    let filesChanged: [String]
    let raisesRisk: Bool
    let risks: [String]

    init(_ delta: VersionDelta) {
        from = delta.from
        to = delta.to
        modelsAdded = delta.modelsAdded
        modelsRemoved = delta.modelsRemoved
        toolsAdded = delta.toolsAdded
        toolsRemoved = delta.toolsRemoved
        changes = delta.changes.map { ["field": $0.field, "before": $0.before, "after": $0.after] }
        promptDiff = delta.promptDiff
        filesAdded = delta.filesAdded
        filesRemoved = delta.filesRemoved
        filesChanged = delta.filesChanged
        raisesRisk = delta.raisesRisk
        risks = delta.risks
    }
}
