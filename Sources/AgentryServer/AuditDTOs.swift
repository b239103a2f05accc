import AgentryAudit
import Foundation

/// A record as the audit API shows it: the exact leaf text and its decoded event.
struct AuditRecordView: Encodable, Sendable {
    let index: Int64
    /// The canonical leaf, exactly the bytes the tree hashes (UTF-8 text).
    let leaf: String
    let event: EventView

    struct EventView: Encodable, Sendable {
        /// ISO 8601 with milliseconds, formatted from the leaf's integer milliseconds (no float rounding).
        let time: String
        let kind: String
        let actor: String
        let subject: String?
        let agent: String?
        let agentVersion: String?
        let run: String?
        let outcome: String?
        let model: String?
        let tool: String?
        let inputTokens: Int64?
        let outputTokens: Int64?
        let costMicrodollars: Int64?
        let erases: String?
        let payloads: [PayloadView]
    }

    /// `2026-11-27T16:39:49.123Z` for milliseconds since 1970.
    static func iso8601(milliseconds: Int64) -> String {
        let seconds = Date(timeIntervalSince1970: Double(milliseconds / 1000))
        let text = seconds.formatted(.iso8601)
        let fraction = String(milliseconds % 1000)
        return String(text.dropLast()) + "." + String(repeating: "0", count: 3 - fraction.count) + fraction + "Z"
    }

    struct PayloadView: Encodable, Sendable {
        let name: String
        let commitment: String
    }

    init(_ record: AuditRecord) throws {
        let event = try record.event()
        index = record.index
        leaf = String(decoding: record.leaf, as: UTF8.self)
        self.event = EventView(
            time: Self.iso8601(milliseconds: event.time), kind: event.kind.rawValue, actor: event.actor,
            subject: event.subject, agent: event.agent, agentVersion: event.agentVersion, run: event.run,
            outcome: event.outcome, model: event.model, tool: event.tool, inputTokens: event.inputTokens,
            outputTokens: event.outputTokens, costMicrodollars: event.costMicrodollars, erases: event.erases?.hex,
            payloads: event.payloads.map { PayloadView(name: $0.name, commitment: $0.hash.hex) })
    }
}

/// The newest signed checkpoint.
struct CheckpointView: Encodable, Sendable {
    let size: Int64
    let root: String
    /// The C2SP signed note, verifiable with the log's verifier key.
    let note: String
    let verifierKey: String
}

/// A record with everything needed to check it offline against a signed checkpoint.
struct ReceiptView: Encodable, Sendable {
    let record: AuditRecordView
    /// RFC 6962 audit path, leaf side first, base64.
    let inclusionProof: [String]
    let checkpoint: CheckpointView
}

/// A consistency proof between two tree sizes.
struct ConsistencyView: Encodable, Sendable {
    let from: Int64
    let to: Int64
    let proof: [String]
}

/// A stored payload.
struct PayloadContentView: Encodable, Sendable {
    let commitment: String
    let recordIndex: Int64
    let name: String
    /// Base64 of the payload bytes.
    let content: String
    /// Hex of the salt, so anyone can recompute the commitment.
    let salt: String
}

/// A page of records and where the next page starts.
struct AuditPage: Encodable, Sendable {
    let items: [AuditRecordView]
    let nextFrom: Int64?

    enum CodingKeys: String, CodingKey {
        case items
        case nextFrom = "next_from"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(items, forKey: .items)
        try container.encode(nextFrom, forKey: .nextFrom)
    }
}

/// `POST /api/v1/audit/records/{index}/payloads/{name}/erase`.
struct EraseBody: ClosedJSONBody {
    static let fields = ["reason"]
    let reason: String
}
