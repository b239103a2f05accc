import AgentryRegistry
import Foundation

/// How registry values are written to and read from columns, the same in both backends.
public enum RegistryRows {
    /// A version's file list as the JSON text of its `files` column.
    public static func text(of files: [AgentPackage.File]) throws -> String { try json(files) }

    /// The file list stored in a `files` column.
    public static func files(_ text: String) throws -> [AgentPackage.File] {
        try decode([AgentPackage.File].self, text)
    }

    /// The stored word `text` of `column` as a `Word`, or an error naming the unexpected value
    /// (a database written by a newer Agentry).
    public static func word<Word: RawRepresentable>(_ text: String, of column: String) throws -> Word
    where Word.RawValue == String {
        guard let word = Word(rawValue: text) else {
            throw StoreError.unavailable(reason: "\(column) holds '\(text)', unknown to this version")
        }
        return word
    }

    /// A stored version state.
    public static func state(_ text: String) throws -> AgentVersionState { try word(text, of: "agent_versions.state") }

    /// A stored agent state.
    public static func agentState(_ text: String) throws -> StoredAgent.State { try word(text, of: "agents.state") }

    /// The columns of `ownership_transfers` in the order both stores read them.
    public static let transferColumns = """
        id, agent_id, from_owner_id, to_owner_id, requested_by, reason, state, decided_by, decision_reason,
        created_at, decided_at
        """

    /// A stored ownership transfer state.
    public static func transferState(_ text: String) throws -> OwnershipTransfer.State {
        try word(text, of: "ownership_transfers.state")
    }

    /// Any Codable value as JSON text with sorted keys (checklists, grants).
    public static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// A value stored as JSON text.
    public static func decode<Value: Decodable>(_ type: Value.Type, _ text: String) throws -> Value {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }

    /// A stored submission state.
    public static func submissionState(_ text: String) throws -> SubmissionState {
        try word(text, of: "submissions.state")
    }

    /// A stored thread entry kind.
    public static func eventKind(_ text: String) throws -> StoredReviewEvent.Kind {
        try word(text, of: "review_events.kind")
    }
}
