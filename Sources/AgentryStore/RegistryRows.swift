import AgentryRegistry
import Foundation

/// How registry values are written to and read from columns, the same in both backends.
public enum RegistryRows {
    /// A version's file list as the JSON text of its `files` column.
    public static func text(of files: [AgentPackage.File]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(files), as: UTF8.self)
    }

    /// The file list stored in a `files` column.
    public static func files(_ text: String) throws -> [AgentPackage.File] {
        try JSONDecoder().decode([AgentPackage.File].self, from: Data(text.utf8))
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
}
