import AgentryRegistry
import AgentryStore
import Foundation

/// A Catalog entry as the API shows it.
struct CatalogEntryView: Encodable, Sendable {
    let name: String
    let title: String
    let description: String
    let department: String
    let tags: [String]
    let skills: [String]
    let tools: [String]
    let models: [String]
    let ownerId: String
    let teamId: String?
    let version: String
    let kind: String
    let dataClassification: String
    let state: String
    let publishedAt: Date

    init(_ entry: CatalogEntry) {
        name = entry.name
        title = entry.title
        description = entry.description
        department = entry.department
        tags = entry.tags
        skills = entry.skills
        tools = entry.tools
        models = entry.models
        ownerId = entry.ownerID
        teamId = entry.teamID
        version = entry.version
        kind = entry.kind
        dataClassification = entry.dataClassification
        state = entry.state.rawValue
        publishedAt = entry.publishedAt
    }
}

/// One facet value and its count.
struct FacetView: Encodable, Sendable {
    let value: String
    let count: Int

    init(_ facet: FacetCount) {
        value = facet.value
        count = facet.count
    }
}

/// Facets of a search.
struct CatalogFacetsView: Encodable, Sendable {
    let departments: [FacetView]
    let tools: [FacetView]
}

/// A page of search results.
struct CatalogPageView: Encodable, Sendable {
    let items: [CatalogEntryView]
    let total: Int
    /// Pass as `offset` for the next page; null on the last.
    let nextOffset: Int?
    let facets: CatalogFacetsView

    enum CodingKeys: String, CodingKey {
        case items, total, facets
        case nextOffset = "next_offset"
    }

    /// Writes `next_offset` as an explicit null on the last page.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(items, forKey: .items)
        try container.encode(total, forKey: .total)
        try container.encode(nextOffset, forKey: .nextOffset)
        try container.encode(facets, forKey: .facets)
    }
}

/// An agent's owner as the Catalog shows them.
struct CatalogOwnerView: Encodable, Sendable {
    let id: String
    let name: String
    let email: String
}

/// One published agent in full.
struct CatalogDetailView: Encodable, Sendable {
    let entry: CatalogEntryView
    let owner: CatalogOwnerView?
    /// Published and retired versions, oldest first.
    let versions: [[String: String]]
    /// What review granted the published version.
    let grants: GrantsBody?
    /// This day's and month's spend of the agent, against its granted caps.
    let spend: [SandboxWindowView]
    /// Every suspension, resumption and deprecation, oldest first, each with its reason.
    let stateChanges: [AgentStateChangeView]
    /// How much the agent is run in the Catalog.
    let usage: CatalogUsageView

    enum CodingKeys: String, CodingKey {
        case entry, owner, versions, grants, spend, usage
        case stateChanges = "state_changes"
    }
}

/// An agent's Catalog runs: in all, by status, by how many people, and when last.
struct CatalogUsageView: Encodable, Sendable {
    let runs: Int64
    let byStatus: [String: Int64]
    let runners: Int64
    let lastRunAt: Date?

    init(_ usage: RunUsage) {
        runs = usage.runs.values.reduce(0, +)
        byStatus = Dictionary(uniqueKeysWithValues: usage.runs.map { ($0.key.rawValue, $0.value) })
        runners = usage.runners
        lastRunAt = usage.lastRunAt
    }

    enum CodingKeys: String, CodingKey {
        case runs, runners
        case byStatus = "by_status"
        case lastRunAt = "last_run_at"
    }
}

/// An A2A AgentCard (protocol 1.0, as the official `a2a-sdk` reads it): how other agents
/// discover what this one does and where to reach it.
struct AgentCardView: Encodable, Sendable {
    struct Interface: Encodable, Sendable {
        let url: String
        let protocolBinding: String
        let protocolVersion: String
    }

    struct Provider: Encodable, Sendable {
        let organization: String
        let url: String
    }

    struct Capabilities: Encodable, Sendable {
        let streaming: Bool
        let pushNotifications: Bool
    }

    struct Skill: Encodable, Sendable {
        let id: String
        let name: String
        let description: String
        let tags: [String]
        let examples: [String]
    }

    struct HTTPAuth: Encodable, Sendable {
        let scheme: String
        let description: String
    }

    struct SecurityScheme: Encodable, Sendable {
        let httpAuthSecurityScheme: HTTPAuth
    }

    struct Requirement: Encodable, Sendable {
        let schemes: [String: [String: [String]]]
    }

    let name: String
    let description: String
    let supportedInterfaces: [Interface]
    let provider: Provider
    let version: String
    let capabilities: Capabilities
    let securitySchemes: [String: SecurityScheme]
    let securityRequirements: [Requirement]
    let defaultInputModes = ["application/json"]
    let defaultOutputModes = ["application/json"]
    let skills: [Skill]

    init(manifest: AgentManifest, entry: CatalogEntry, base: String) {
        name = manifest.title
        description = manifest.description
        supportedInterfaces = [
            Interface(url: "\(base)/api/v1/agents/\(entry.name)", protocolBinding: "HTTP+JSON", protocolVersion: "1.0")
        ]
        provider = Provider(organization: manifest.department, url: base)
        version = entry.version
        capabilities = Capabilities(streaming: false, pushNotifications: false)
        securitySchemes = [
            "agentry": SecurityScheme(
                httpAuthSecurityScheme: HTTPAuth(
                    scheme: "bearer", description: "An Agentry personal access token or run token"))
        ]
        securityRequirements = [Requirement(schemes: ["agentry": ["list": []]])]
        skills = manifest.skills.map {
            Skill(id: $0.id, name: $0.name, description: $0.description, tags: manifest.tags, examples: $0.examples)
        }
    }

    /// A2A names its fields in camelCase, unlike the rest of the API: kept as the spec says.
    enum CodingKeys: String, CodingKey {
        case name, description, supportedInterfaces, provider, version, capabilities, securitySchemes
        case securityRequirements, defaultInputModes, defaultOutputModes, skills
    }
}
