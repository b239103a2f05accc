import AgentryIdentity
import AgentryRegistry
import Foundation

/// An agent as the Catalog shows and searches it: its published version's identity and
/// governance-relevant fields, and the registry's view of it.
public struct CatalogEntry: Sendable, Equatable {
    public let agentID: String
    public let name: String
    public let title: String
    public let description: String
    public let department: String
    public let tags: [String]
    /// Each skill as `name: description`.
    public let skills: [String]
    public let tools: [String]
    public let models: [String]
    public let ownerID: String
    public let teamID: String?
    public let version: String
    public let kind: String
    public let dataClassification: String
    public var state: StoredAgent.State
    public let publishedAt: Date

    /// The entry of `agent` publishing `manifest`.
    public init(agent: StoredAgent, manifest: AgentManifest, at time: Date) {
        self.init(
            agentID: agent.id, name: agent.name, title: manifest.title, description: manifest.description,
            department: manifest.department, tags: manifest.tags,
            skills: manifest.skills.map { "\($0.name): \($0.description)" }, tools: manifest.tools.map(\.name),
            models: manifest.models, ownerID: agent.ownerID, teamID: agent.teamID,
            version: manifest.version.description, kind: manifest.kind.name,
            dataClassification: manifest.dataClassification.rawValue, state: agent.state, publishedAt: time)
    }

    /// An entry as stored.
    public init(
        agentID: String, name: String, title: String, description: String, department: String, tags: [String],
        skills: [String], tools: [String], models: [String], ownerID: String, teamID: String?, version: String,
        kind: String, dataClassification: String, state: StoredAgent.State, publishedAt: Date
    ) {
        self.agentID = agentID
        self.name = name
        self.title = title
        self.description = description
        self.department = department
        self.tags = tags
        self.skills = skills
        self.tools = tools
        self.models = models
        self.ownerID = ownerID
        self.teamID = teamID
        self.version = version
        self.kind = kind
        self.dataClassification = dataClassification
        self.state = state
        self.publishedAt = publishedAt
    }
}

/// A Catalog search: words, filters and a page.
public struct CatalogQuery: Sendable, Equatable {
    /// Words every result must contain, each as a prefix (`summ` finds `summarizer`).
    public var words: [String]
    /// Only this department (letter case aside).
    public var department: String?
    /// Only agents that use this tool.
    public var tool: String?
    /// Only agents with this tag.
    public var tag: String?
    /// Suspended agents too (admins).
    public var includeSuspended: Bool
    public var limit: Int
    public var offset: Int

    /// The most words a query keeps.
    public static let wordsMax = 10

    /// A query of the words in `text` (as `CatalogText` splits them).
    public init(
        text: String?, department: String? = nil, tool: String? = nil, tag: String? = nil,
        includeSuspended: Bool = false, limit: Int = 20, offset: Int = 0
    ) {
        self.words = CatalogText.words(text ?? "").prefix(Self.wordsMax).map(String.init)
        self.department = department
        self.tool = tool
        self.tag = tag
        self.includeSuspended = includeSuspended
        self.limit = limit
        self.offset = offset
    }
}

/// A page of results, the total that match, and how they fall into departments and tools.
public struct CatalogPage: Sendable, Equatable {
    public let entries: [CatalogEntry]
    public let total: Int
    /// Matching entries per department and per tool, the largest first (at most 20 each).
    public let departments: [FacetCount]
    public let tools: [FacetCount]

    /// A page.
    public init(entries: [CatalogEntry], total: Int, departments: [FacetCount], tools: [FacetCount]) {
        self.entries = entries
        self.total = total
        self.departments = departments
        self.tools = tools
    }
}

/// One facet value and how many results have it.
public struct FacetCount: Sendable, Equatable {
    public let value: String
    public let count: Int

    /// A count.
    public init(value: String, count: Int) {
        self.value = value
        self.count = count
    }
}

/// The entries written after a Catalog revision, read in one snapshot with the revision they bring it to.
public struct CatalogChanges: Sendable, Equatable {
    public let entries: [CatalogEntry]
    public let revision: Int64

    /// Changes up to `revision`.
    public init(entries: [CatalogEntry], revision: Int64) {
        self.entries = entries
        self.revision = revision
    }
}

/// The Catalog's entries and their revisions; `CatalogSearch` searches them in memory. Entries
/// are written by `ReviewStore.decide` (publication) and by `StewardshipStore` (state and owner
/// changes), in their transactions, and every write takes the next revision (a trigger sees to it).
public protocol CatalogStore: Sendable {
    /// The revision of the newest change to any entry (0 before the first).
    func revision() async throws -> Int64
    /// Every entry written after `revision` (all of them for a negative one).
    func changes(after revision: Int64) async throws -> CatalogChanges
    /// The entry of agent `name`.
    func entry(name: String) async throws -> CatalogEntry?
}
