import AgentryLedger
import AgentryPolicy
import Foundation

/// `POST /api/v1/sandbox/keys`.
struct CreateSandboxKeyBody: ClosedJSONBody {
    static let fields = ["name", "expires_in_days"]
    /// A label for the key; `sandbox` when absent.
    let name: String?
    let expiresInDays: Int?

    enum CodingKeys: String, CodingKey {
        case name
        case expiresInDays = "expires_in_days"
    }
}

/// The Sandbox policy in effect.
struct SandboxPolicyView: Encodable, Sendable {
    let revision: Int64
    /// `admin` (revisions 1, 2, …); for revision 0 `shipped`, or `installation` when the
    /// installation gave its own base policy.
    let source: String
    let yaml: String
    let createdAt: Date?
    let createdBy: String?
    let models: [String]
    let tools: [String]
    let maxDataClassification: String
    /// Default caps in dollars, as decimal strings; null for no cap.
    let caps: [String: String?]

    init(_ revision: SandboxService.Revision) {
        self.revision = revision.number
        source =
            revision.number > 0 ? "admin" : revision.yaml == SandboxPolicy.shippedYAML ? "shipped" : "installation"
        yaml = revision.yaml
        createdAt = revision.createdAt
        createdBy = revision.createdBy
        models = revision.policy.models.map(\.description)
        tools = revision.policy.tools.map(\.description)
        maxDataClassification = revision.policy.maxDataClassification.rawValue
        caps = Dictionary(
            uniqueKeysWithValues: CapWindow.allCases.map { ($0.rawValue, revision.policy.caps[$0]?.decimalText) })
    }

    enum CodingKeys: String, CodingKey {
        case revision, source, yaml, models, tools, caps
        case createdAt = "created_at"
        case createdBy = "created_by"
        case maxDataClassification = "max_data_classification"
    }

    /// Writes every key, null ones included, so clients can rely on them.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(revision, forKey: .revision)
        try container.encode(source, forKey: .source)
        try container.encode(yaml, forKey: .yaml)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(createdBy, forKey: .createdBy)
        try container.encode(models, forKey: .models)
        try container.encode(tools, forKey: .tools)
        try container.encode(maxDataClassification, forKey: .maxDataClassification)
        try container.encode(caps, forKey: .caps)
    }
}

/// A Sandbox cap window: the cap and this window's spend.
struct SandboxWindowView: Encodable, Sendable {
    let window: String
    /// Dollars as a decimal string; null for no cap.
    let cap: String?
    let settled: String
    let inFlight: String
    /// What is left before the cap refuses calls; null without a cap.
    let remaining: String?

    init(window: CapWindow, cap: Microdollars?, balance: Balance) {
        self.window = window.rawValue
        self.cap = cap?.decimalText
        settled = balance.settled.decimalText
        inFlight = balance.reserved.decimalText
        let used = Microdollars(balance.settled.value &+ balance.reserved.value)
        remaining = cap.map { Microdollars(max(0, $0.value - used.value)).decimalText }
    }

    enum CodingKeys: String, CodingKey {
        case window, cap, settled, remaining
        case inFlight = "in_flight"
    }

    /// Writes `cap` and `remaining` as explicit nulls when there is no cap.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(window, forKey: .window)
        try container.encode(cap, forKey: .cap)
        try container.encode(settled, forKey: .settled)
        try container.encode(inFlight, forKey: .inFlight)
        try container.encode(remaining, forKey: .remaining)
    }
}

/// The caller's own Sandbox.
struct SandboxView: Encodable, Sendable {
    let userId: String
    let createdAt: Date
    /// The Sandbox policy revision in effect.
    let policyRevision: Int64
    /// Catalog models this Sandbox may call, by public name.
    let models: [String]
    let tools: [String]
    let maxDataClassification: String
    /// The cap of each run of a draft agent, in dollars; null for none.
    let runCap: String?
    let caps: [SandboxWindowView]
    /// Its live Sandbox keys (never their secrets).
    let keys: [TokenView]

    enum CodingKeys: String, CodingKey {
        case models, tools, caps, keys
        case userId = "user_id"
        case createdAt = "created_at"
        case policyRevision = "policy_revision"
        case maxDataClassification = "max_data_classification"
        case runCap = "run_cap"
    }

    /// Writes `run_cap` as an explicit null when there is none.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(userId, forKey: .userId)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(policyRevision, forKey: .policyRevision)
        try container.encode(models, forKey: .models)
        try container.encode(tools, forKey: .tools)
        try container.encode(maxDataClassification, forKey: .maxDataClassification)
        try container.encode(runCap, forKey: .runCap)
        try container.encode(caps, forKey: .caps)
        try container.encode(keys, forKey: .keys)
    }
}
