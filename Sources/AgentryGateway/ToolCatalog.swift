import AgentryLedger
import AgentryPolicy
import Foundation

/// One thing a tool does: an HTTP method on a path template, and the scope a caller needs for it.
public struct ToolOperation: Sendable, Equatable {
    /// The methods an operation may use.
    public enum Method: String, Sendable, CaseIterable {
        case GET, POST, PUT, PATCH, DELETE

        /// Whether arguments not in the path go in the query string (else in a JSON body).
        var argumentsInQuery: Bool { self == .GET || self == .DELETE }
    }

    public let name: String
    public let method: Method
    /// A path under the tool's base URL; `{name}` takes the argument `name`, one path segment.
    public let path: String
    /// What a grant (or the Sandbox policy) must include for a caller to use it.
    public let scope: String
    /// Query parameters the operation always sends (Drive's `alt=media`), before the caller's.
    public let fixedQuery: [String: String]

    /// An operation.
    public init(name: String, method: Method, path: String, scope: String, fixedQuery: [String: String] = [:]) {
        self.name = name
        self.method = method
        self.path = path
        self.scope = scope
        self.fixedQuery = fixedQuery
    }

    /// The names of the path template's `{parameters}`, in order.
    public var pathParameters: [String] {
        var names: [String] = []
        var rest = path[...]
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            names.append(String(rest[rest.index(after: open)..<close]))
            rest = rest[rest.index(after: close)...]
        }
        return names
    }

    /// The JSON Schema of the operation's arguments: its path parameters required, anything else
    /// allowed (sent as query or body). What MCP clients and declarative agents' models are shown.
    public var argumentSchema: JSONValue {
        let parameters = pathParameters
        var properties: [String: JSONValue] = [:]
        for name in parameters {
            properties[name] = .object(["type": .string("string"), "description": .string("a path segment")])
        }
        return .object([
            "type": .string("object"), "properties": .object(properties),
            "required": .array(parameters.map { .string($0) }), "additionalProperties": .bool(true),
        ])
    }

    /// A sentence describing the operation of `tool` for a model or an MCP client.
    public func summary(of tool: ToolConfig) -> String {
        "\(tool.kind.rawValue) \(tool.name): \(method.rawValue) \(path) (scope \(scope), $\(tool.price.decimalText) a call)"
    }
}

/// A tool agents reach through Agentry: where it is, the org credential Agentry calls it with,
/// its operations, its price, the data it may carry, and what Sandboxes may do with it.
public struct ToolConfig: Sendable, Equatable {
    /// What speaks at the other end: a built-in connector with its operations, or a REST API
    /// whose operations the admin declares.
    public enum Kind: String, Sendable, CaseIterable {
        case slack
        case googleDrive = "google_drive"
        case hubspot
        case salesforce
        /// Outgoing webhooks: a signed POST of the arguments to the tool's URL.
        case webhook
        case rest
        /// An upstream MCP server (Streamable HTTP); each operation is one of its tools.
        case mcp

        /// Whether Agentry has a simulator of the kind (`base_url: builtin`).
        public var hasSimulator: Bool { self != .rest && self != .mcp }
    }

    /// How the credential is sent.
    public enum Auth: Sendable, Equatable {
        /// `Authorization: Bearer <secret>`.
        case bearer
        /// The secret as the value of a named header (e.g. `x-api-key`).
        case header(String)
        /// OAuth 2.0 client credentials: the secret is the client secret, exchanged at `tokenURL`
        /// (`builtin`: the simulator's) for an access token that is kept until it expires.
        case oauth2ClientCredentials(tokenURL: String, clientID: String, scope: String?)
        /// Webhooks: no credential is sent; the body is signed with the secret (HMAC-SHA256).
        case signature
    }

    public let name: String
    public let kind: Kind
    /// `builtin` (the process's own simulator of the kind) or an http(s) URL.
    public let baseURL: String
    /// The stored credential Agentry sends; nil for a tool that needs none.
    public let credential: String?
    public let auth: Auth
    public let operations: [ToolOperation]
    /// What one call costs; zero for a tool that is not priced (its calls are still audited).
    public let price: Microdollars
    /// The classifications of data a call may carry.
    public let dataClassifications: [DataClassification]
    /// The scopes a Sandbox may use; none keeps the tool out of Sandboxes.
    public let sandboxScopes: [String]
    /// How long the tool has to answer a call.
    public let timeoutSeconds: Int64

    /// The base URL that means the process's own simulator.
    public static let builtin = "builtin"

    /// A tool.
    public init(
        name: String, kind: Kind, baseURL: String, credential: String?, auth: Auth = .bearer,
        operations: [ToolOperation], price: Microdollars, dataClassifications: [DataClassification],
        sandboxScopes: [String], timeoutSeconds: Int64 = 30
    ) {
        self.timeoutSeconds = timeoutSeconds
        self.name = name
        self.kind = kind
        self.baseURL = baseURL
        self.credential = credential
        self.auth = auth
        self.operations = operations
        self.price = price
        self.dataClassifications = dataClassifications
        self.sandboxScopes = sandboxScopes
    }

    /// The operation called `name`.
    public func operation(named name: String) -> ToolOperation? { operations.first { $0.name == name } }

    /// The built-in operations of a connector kind (REST has none: the admin declares them).
    public static func builtinOperations(of kind: Kind) -> [ToolOperation] {
        switch kind {
        case .slack:
            [
                ToolOperation(name: "post_message", method: .POST, path: "/chat.postMessage", scope: "chat:write"),
                ToolOperation(name: "list_channels", method: .GET, path: "/conversations.list", scope: "channels:read"),
                ToolOperation(
                    name: "read_history", method: .GET, path: "/conversations.history", scope: "channels:history"),
            ]
        case .googleDrive:
            [
                ToolOperation(name: "list_files", method: .GET, path: "/drive/v3/files", scope: "drive.readonly"),
                ToolOperation(
                    name: "get_file", method: .GET, path: "/drive/v3/files/{fileId}", scope: "drive.metadata.readonly"),
                ToolOperation(
                    name: "export_file", method: .GET, path: "/drive/v3/files/{fileId}/export", scope: "drive.readonly"),
                ToolOperation(
                    name: "download_file", method: .GET, path: "/drive/v3/files/{fileId}", scope: "drive.readonly",
                    fixedQuery: ["alt": "media"]),
            ]
        case .hubspot:
            [
                ToolOperation(
                    name: "search_objects", method: .POST, path: "/crm/v3/objects/{objectType}/search",
                    scope: "crm.objects.read"),
                ToolOperation(
                    name: "read_object", method: .GET, path: "/crm/v3/objects/{objectType}/{objectId}",
                    scope: "crm.objects.read"),
                ToolOperation(
                    name: "create_note", method: .POST, path: "/crm/v3/objects/notes", scope: "crm.objects.notes.write"),
            ]
        case .salesforce:
            [
                ToolOperation(
                    name: "soql_query", method: .GET, path: "/services/data/v60.0/query", scope: "records.read"),
                ToolOperation(
                    name: "read_record", method: .GET, path: "/services/data/v60.0/sobjects/{sobject}/{recordId}",
                    scope: "records.read"),
                ToolOperation(
                    name: "update_record", method: .PATCH, path: "/services/data/v60.0/sobjects/{sobject}/{recordId}",
                    scope: "records.write"),
            ]
        case .webhook:
            [ToolOperation(name: "send", method: .POST, path: "", scope: "webhook.send")]
        case .rest, .mcp: []
        }
    }
}

/// Every tool the org has connected, as admins declare them in YAML (format in docs/tools.md).
public struct ToolCatalog: Sendable, Equatable {
    public let tools: [ToolConfig]

    /// A catalog of `tools`.
    public init(tools: [ToolConfig]) {
        self.tools = tools
    }

    /// The tool called `name`.
    public func tool(named name: String) -> ToolConfig? { tools.first { $0.name == name } }

    /// The catalog Agentry ships with: a tool on each built-in simulator (Slack, Google Drive,
    /// HubSpot, Salesforce and a webhook receiver), allowed in Sandboxes, so a new installation
    /// can call tools offline.
    public static let shippedYAML = """
        # Tools agents reach through Agentry (docs/tools.md). Each names its kind (slack,
        # google_drive, hubspot, salesforce, webhook, rest or mcp),
        # where it is (builtin: Agentry's own simulator), the stored credential it is called with,
        # its price per call, the data it may carry and the scopes Sandboxes may use.
        tools:
          - name: sim-slack
            kind: slack
            base_url: builtin
            price: "0.0001"
            data_classifications: [public, internal]
            sandbox_scopes: ["chat:write", "channels:read", "channels:history"]
          - name: sim-drive
            kind: google_drive
            base_url: builtin
            price: "0.0001"
            data_classifications: [public, internal]
            sandbox_scopes: [drive.readonly, drive.metadata.readonly]
          - name: sim-hubspot
            kind: hubspot
            base_url: builtin
            price: "0.0001"
            data_classifications: [public, internal]
            sandbox_scopes: [crm.objects.read, crm.objects.notes.write]
          - name: sim-salesforce
            kind: salesforce
            base_url: builtin
            auth: oauth2_client_credentials
            token_url: builtin
            client_id: agentry-sim
            price: "0.0001"
            data_classifications: [public, internal]
            sandbox_scopes: [records.read, records.write]
          - name: sim-webhook
            kind: webhook
            base_url: builtin
            data_classifications: [public, internal]
            sandbox_scopes: [webhook.send]

        """

    /// The shipped catalog.
    public static let shipped: ToolCatalog = {
        do {
            return try ToolCatalog(yaml: shippedYAML)
        } catch {
            preconditionFailure("the shipped tool catalog does not parse: \(error)")
        }
    }()
}
