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

    /// A stored state, or an error naming the column's unexpected value.
    public static func state(_ text: String) throws -> AgentVersionState {
        guard let state = AgentVersionState(rawValue: text) else {
            throw StoreError.unavailable(reason: "agent_versions.state holds '\(text)', unknown to this version")
        }
        return state
    }

    /// A stored agent state.
    public static func agentState(_ text: String) throws -> StoredAgent.State {
        guard let state = StoredAgent.State(rawValue: text) else {
            throw StoreError.unavailable(reason: "agents.state holds '\(text)', unknown to this version")
        }
        return state
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
        guard let state = SubmissionState(rawValue: text) else {
            throw StoreError.unavailable(reason: "submissions.state holds '\(text)', unknown to this version")
        }
        return state
    }

    /// A stored thread entry kind.
    public static func eventKind(_ text: String) throws -> StoredReviewEvent.Kind {
        guard let kind = StoredReviewEvent.Kind(rawValue: text) else {
            throw StoreError.unavailable(reason: "review_events.kind holds '\(text)', unknown to this version")
        }
        return kind
    }
}
