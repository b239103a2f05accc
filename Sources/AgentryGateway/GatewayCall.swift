import AgentryLedger
import AgentryPolicy

/// Who is calling through the gateway and what governs the call, resolved from their key.
public struct GatewayCaller: Sendable {
    /// The user the key acts as (the audit actor).
    public let userID: String
    /// The user's team, for attribution.
    public let teamID: String?
    /// Where the call runs: a builder's Sandbox or a Catalog agent.
    public let zone: ModelZone
    /// The classification of the data the call carries.
    public let classification: DataClassification
    /// The scopes whose caps apply.
    public let scopes: [LedgerScope]
    /// The models a Sandbox caller may use beyond the catalog's own rules; nil outside Sandboxes.
    public let sandboxPolicy: SandboxPolicy?
    /// Outside Sandboxes: the tool scopes the agent's version was granted, by tool.
    public let toolScopes: [String: [String]]
    /// The agent, version and run a call is made for, when it is made by an agent's run.
    public let agent: String?
    public let agentVersion: String?
    public let run: String?
    /// The catalog models an agent's run was granted; nil where only the zone and policy decide.
    public let models: [String]?
    /// Told the outcome of each of the caller's calls once it is recorded (`ok`, `cap_exceeded`, …):
    /// how a run learns that a cap refused one of its calls.
    public var onOutcome: (@Sendable (String) -> Void)?

    /// A caller; a Sandbox caller's models and tools are also limited by `sandboxPolicy`, an
    /// agent's tools by `toolScopes`.
    public init(
        userID: String, teamID: String?, zone: ModelZone, classification: DataClassification, scopes: [LedgerScope],
        sandboxPolicy: SandboxPolicy? = nil, toolScopes: [String: [String]] = [:], agent: String? = nil,
        agentVersion: String? = nil, run: String? = nil, models: [String]? = nil
    ) {
        self.userID = userID
        self.teamID = teamID
        self.zone = zone
        self.classification = classification
        self.scopes = scopes
        self.sandboxPolicy = sandboxPolicy
        self.toolScopes = toolScopes
        self.agent = agent
        self.agentVersion = agentVersion
        self.run = run
        self.models = models
    }

    /// Who a call's spend is attributed to.
    public func attribution(model: String?, provider: String) -> SpendAttribution {
        SpendAttribution(
            user: userID, team: teamID, agent: agent, agentVersion: agentVersion, run: run, model: model,
            provider: provider, zone: zone.rawValue)
    }

    /// Whether the catalog and the caller's policy let this caller use `model`.
    public func may(use model: CatalogModel) -> Bool {
        model.zones.contains(zone) && model.dataClassifications.contains(classification)
            && sandboxPolicy?.allowsModel(model.name) != false && models?.contains(model.name) != false
    }
}

/// One inbound chat call as it arrived.
public struct InboundCall: Sendable {
    public let dialect: Dialect
    /// The raw request body.
    public let body: [UInt8]
    /// The model named in the URL (Gemini).
    public let pathModel: String?
    /// Whether the URL asked for a stream (Gemini).
    public let streamPath: Bool
    /// The id of the request, for error bodies and the reservation.
    public let requestID: String

    /// A call.
    public init(dialect: Dialect, body: [UInt8], pathModel: String? = nil, streamPath: Bool = false, requestID: String)
    {
        self.dialect = dialect
        self.body = body
        self.pathModel = pathModel
        self.streamPath = streamPath
        self.requestID = requestID
    }
}

/// What the gateway answers: a whole JSON body, or a stream the server writes out as it comes.
public enum GatewayReply: Sendable {
    case complete(body: [UInt8], headers: [(String, String)])
    case stream(headers: [(String, String)], GatewayStream)
}

/// A streamed reply: `run` writes the caller's bytes and returns once the call is settled and audited.
public struct GatewayStream: Sendable {
    /// Writes the stream through `write`; a failing `write` means the caller went away.
    public let run: @Sendable (_ write: @escaping @Sendable ([UInt8]) async throws -> Void) async -> Void
}

/// What is known about one call as it goes, for its settle and its audit event.
struct CallRecord: Sendable {
    let caller: GatewayCaller
    /// The catalog name of the model, once resolved.
    var model: String?
    let input: [UInt8]
    var reservation: Gateway.Hold?
    var output: [UInt8]?
    var usage: TokenUsage?
    var cost: Microdollars?

    init(caller: GatewayCaller, input: [UInt8]) {
        self.caller = caller
        self.input = input
    }
}

/// Counts a stream as it flows: the provider's usage when it reports it, else an estimate of one
/// token per content delta (providers stream a token or more per delta) and the input bounded by
/// its bytes.
struct StreamMeter: Sendable {
    let inputBound: Int64
    let allowance: Int64
    private var reported: TokenUsage?
    private var reportedInput: Int64?
    private var deltas: Int64 = 0

    init(inputBound: Int64, allowance: Int64) {
        self.inputBound = inputBound
        self.allowance = allowance
    }

    mutating func observe(_ event: ChatStreamEvent) {
        switch event {
        case .start(_, let input): reportedInput = input
        case .text, .toolArguments: deltas += 1
        case .usage(let usage): reported = usage
        case .toolCall, .finish: break
        }
    }

    /// Whether the provider has sent more than the allowance the reservation paid for.
    var overrun: Bool { max(deltas, reported?.output ?? 0) > allowance }

    /// The usage to charge.
    var usage: TokenUsage {
        let output = min(max(deltas, reported?.output ?? 0), allowance)
        if let reported, reported.input + reported.cachedInput > 0 {
            return TokenUsage(input: reported.input, cachedInput: reported.cachedInput, output: output)
        }
        return TokenUsage(input: reportedInput ?? inputBound, output: output)
    }
}

extension TokenUsage {
    /// Input tokens, cached or not.
    var inputTotal: Int64 { input + cachedInput }
}
