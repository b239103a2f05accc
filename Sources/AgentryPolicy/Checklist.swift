import AgentryLedger

/// How one criterion judged a submission.
public enum ChecklistResult: String, CaseIterable, Sendable, Comparable, Codable {
    case pass
    /// A human must look (and may still approve).
    case warn
    /// Approval is refused until the builder changes the submission.
    case fail
    /// The rule's `when` did not match this submission.
    case notApplicable = "not_applicable"

    public static func < (lhs: ChecklistResult, rhs: ChecklistResult) -> Bool { lhs.severity < rhs.severity }

    private var severity: Int {
        switch self {
        case .notApplicable: 0
        case .pass: 1
        case .warn: 2
        case .fail: 3
        }
    }
}

/// The criteria applied to one submission: each rule's result with a sentence saying why, and
/// what follows (a second reviewer, approval without one).
public struct Checklist: Equatable, Sendable {
    /// One line of the checklist.
    public struct Item: Equatable, Sendable, Codable {
        /// The rule's id and kind.
        public let rule: String
        public let kind: String
        public let result: ChecklistResult
        /// Why, for a human: what was requested against what the rule allows.
        public let message: String

        /// One judged rule.
        public init(rule: String, kind: String, result: ChecklistResult, message: String) {
            self.rule = rule
            self.kind = kind
            self.result = result
            self.message = message
        }
    }

    public let items: [Item]
    /// Whether the submission needs two approvals.
    public let needsSecondReviewer: Bool
    /// Whether the policy approves it without a reviewer.
    public let autoApprove: Bool

    /// A checklist of `items` (as stored), with what follows from them.
    public init(items: [Item], needsSecondReviewer: Bool = false, autoApprove: Bool = false) {
        self.items = items
        self.needsSecondReviewer = needsSecondReviewer
        self.autoApprove = autoApprove
    }

    /// Whether every item passed or did not apply.
    public static func allPass(_ items: [Item]) -> Bool {
        items.allSatisfy { $0.result == .pass || $0.result == .notApplicable }
    }

    /// The worst result of any item (`pass` for an empty checklist).
    public var result: ChecklistResult { items.map(\.result).max().map { max($0, .pass) } ?? .pass }
}

extension ApprovalPolicy {
    /// Evaluates every rule against `facts`.
    public func evaluate(_ facts: SubmissionFacts) -> Checklist {
        var second = false
        let items = rules.map { rule -> Checklist.Item in
            guard rule.applies(to: facts) else {
                return Checklist.Item(
                    rule: rule.id, kind: rule.check.kind, result: .notApplicable,
                    message: "does not apply to \(facts.dataClassification.rawValue) data in \(facts.department)")
            }
            let (breached, message) = Self.judge(rule.check, facts)
            if case .secondReviewer = rule.check, breached { second = true }
            return Checklist.Item(
                rule: rule.id, kind: rule.check.kind, result: breached ? rule.outcome : .pass, message: message)
        }
        return Checklist(
            items: items, needsSecondReviewer: second,
            autoApprove: autoApprove == .whenAllPass && Checklist.allPass(items) && !second)
    }

    /// Whether `check` is breached by `facts`, and the sentence that says so either way.
    static func judge(_ check: Check, _ facts: SubmissionFacts) -> (Bool, String) {
        switch check {
        case .toolsAllowed(let allowed):
            let outside = facts.tools.keys.sorted().filter { tool in !allowed.contains { $0.matches(tool) } }
            return outside.isEmpty
                ? (false, facts.tools.isEmpty ? "requests no tools" : "every requested tool is allowed")
                : (true, "requests \(Self.list(outside)), not among the allowed tools (\(Self.list(allowed)))")
        case .modelsAllowed(let allowed):
            let outside = facts.models.filter { model in !allowed.contains { $0.matches(model) } }
            return outside.isEmpty
                ? (false, "every requested model is allowed")
                : (true, "requests \(Self.list(outside)), not among the allowed models (\(Self.list(allowed)))")
        case .maxRunCap(let limit):
            return facts.runCap <= limit
                ? (false, "the run cap of \(facts.runCap) is within \(limit)")
                : (true, "the run cap of \(facts.runCap) is above \(limit)")
        case .maxMonthlyProjection(let limit):
            let projected = facts.monthlyProjection
            let how = "\(facts.runsPerMonth) runs a month × \(facts.runCap) = \(projected)"
            return projected <= limit ? (false, "\(how), within \(limit)") : (true, "\(how), above \(limit)")
        case .maxDataClassification(let limit):
            let level = facts.dataClassification.rawValue
            return facts.dataClassification <= limit
                ? (false, "\(level) data is allowed (up to \(limit.rawValue))")
                : (true, "\(level) data is above the \(limit.rawValue) this rule allows")
        case .secondReviewer(let tools):
            let matched = facts.tools.keys.sorted().filter { tool in tools.contains { $0.matches(tool) } }
            return matched.isEmpty
                ? (false, "uses none of the tools that need a second reviewer")
                : (true, "uses \(Self.list(matched)): a second reviewer must approve")
        }
    }

    private static func list(_ names: [some CustomStringConvertible]) -> String {
        names.map(\.description).joined(separator: ", ")
    }
}
