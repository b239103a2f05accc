import AgentryGateway
import AgentryLedger
import AgentryPolicy
import Testing

@Suite("Tool catalog")
struct ToolCatalogTests {
    static let rest = """
        tools:
          - name: tickets
            kind: rest
            base_url: https://tickets.example.com/api/
            credential: tickets-key
            auth: header:x-api-key
            price: "0.25"
            data_classifications: [internal, confidential]
            sandbox_scopes: [tickets.read]
            operations:
              - {name: get_ticket, method: GET, path: "/tickets/{id}", scope: tickets.read}
              - {name: comment, method: POST, path: "/tickets/{id}/comments/{thread}", scope: tickets.write}
        """

    @Test("the shipped catalog parses: the built-in Slack simulator, its operations and scopes")
    func shipped() throws {
        let slack = try #require(ToolCatalog.shipped.tool(named: "sim-slack"))
        #expect(slack.kind == .slack && slack.baseURL == ToolConfig.builtin && slack.credential == nil)
        #expect(slack.operations.map(\.name) == ["post_message", "list_channels", "read_history"])
        #expect(slack.price == Microdollars(100))
        #expect(Set(slack.sandboxScopes) == Set(slack.operations.map(\.scope)))
    }

    @Test("a REST tool is read field by field")
    func restTool() throws {
        let tool = try #require(try ToolCatalog(yaml: Self.rest).tool(named: "tickets"))
        #expect(tool.baseURL == "https://tickets.example.com/api")
        #expect(tool.auth == .header("x-api-key"))
        #expect(tool.price == Microdollars(250_000))
        #expect(tool.dataClassifications == [.internal, .confidential])
        #expect(tool.operation(named: "comment")?.pathParameters == ["id", "thread"])
        #expect(tool.operation(named: "get_ticket")?.method == .GET)
    }

    static let bad: [(String, String, String)] = [
        ("tools: 3", "tools", "is required"),
        ("tools: []\nextra: 1", "extra", "unknown field"),
        (rest.replacingOccurrences(of: "name: tickets", with: "name: Tickets!"), "tools[0].name", "must be"),
        (rest.replacingOccurrences(of: "kind: rest", with: "kind: ftp"), "tools[0].kind", "must be one of"),
        (
            rest.replacingOccurrences(of: "https://tickets.example.com/api/", with: "builtin"), "tools[0].base_url",
            "builtin simulator"
        ),
        (
            rest.replacingOccurrences(of: "https://tickets.example.com/api/", with: "https://u:p@x.example"),
            "tools[0].base_url", "without credentials"
        ),
        (
            rest.replacingOccurrences(of: "https://tickets.example.com/api/", with: "ftp://x"), "tools[0].base_url",
            "http(s) URL"
        ),
        (
            rest.replacingOccurrences(of: "credential: tickets-key", with: "credential: Bad Name"),
            "tools[0].credential", "must be"
        ),
        (
            rest.replacingOccurrences(of: "auth: header:x-api-key", with: "auth: header:authorization"),
            "tools[0].auth", "reserved"
        ),
        (
            rest.replacingOccurrences(of: "auth: header:x-api-key", with: "auth: basic"), "tools[0].auth",
            "must be bearer"
        ),
        (rest.replacingOccurrences(of: "price: \"0.25\"", with: "price: 0.25.1"), "tools[0].price", "dollar amount"),
        (
            rest.replacingOccurrences(of: "[internal, confidential]", with: "[]"), "tools[0].data_classifications",
            "at least one"
        ),
        (
            rest.replacingOccurrences(of: "[internal, confidential]", with: "[secret]"),
            "tools[0].data_classifications[0]", "must be one of"
        ),
        (
            rest.replacingOccurrences(of: "sandbox_scopes: [tickets.read]", with: "sandbox_scopes: [tickets.admin]"),
            "tools[0].sandbox_scopes[0]", "not a scope"
        ),
        (
            rest.replacingOccurrences(of: "/tickets/{id}\"", with: "/tickets/../{id}\""), "tools[0].operations[0].path",
            "must start with /"
        ),
        (
            rest.replacingOccurrences(of: "/tickets/{id}\"", with: "tickets/{id}\""), "tools[0].operations[0].path",
            "must start with /"
        ),
        (
            rest.replacingOccurrences(of: "/tickets/{id}\"", with: "/tickets/{id}?x=1\""),
            "tools[0].operations[0].path", "must start with /"
        ),
        (
            rest.replacingOccurrences(of: "/tickets/{id}\"", with: "/tickets/x{id}\""), "tools[0].operations[0].path",
            "alone in a segment"
        ),
        (
            rest.replacingOccurrences(of: "/tickets/{id}\"", with: "/tickets/{id}/{id}\""),
            "tools[0].operations[0].path", "once"
        ),
        (
            rest.replacingOccurrences(of: "/tickets/{id}\"", with: "/tickets/%2e%2e\""), "tools[0].operations[0].path",
            "'%'"
        ),
        (
            rest.replacingOccurrences(of: "method: GET", with: "method: TRACE"), "tools[0].operations[0].method",
            "must be one of"
        ),
        (
            rest.replacingOccurrences(of: "name: comment", with: "name: get_ticket"), "tools[0].operations[1].name",
            "listed twice"
        ),
        (
            rest.replacingOccurrences(of: "scope: tickets.write", with: "scope: \"\""), "tools[0].operations[1].scope",
            "without spaces"
        ),
        (
            rest.replacingOccurrences(of: "scope: tickets.write", with: "scope: \"tickets write\""),
            "tools[0].operations[1].scope", "without spaces"
        ),
        (rest.replacingOccurrences(of: "name: tickets", with: "name: my_tickets"), "tools[0].name", "must be"),
        (
            rest.replacingOccurrences(of: "- {name: get_ticket", with: "- {nme: get_ticket"),
            "tools[0].operations[0].nme", "unknown field"
        ),
        (
            "tools:\n  - {name: s, kind: slack, base_url: 'https://slack.com/api', data_classifications: [public]}",
            "tools[0].credential", "is required"
        ),
        (
            "tools:\n  - {name: s, kind: slack, base_url: builtin, data_classifications: [public], operations: []}",
            "tools[0].operations", "built in"
        ),
        (
            "tools:\n  - {name: r, kind: rest, base_url: 'https://x.example', data_classifications: [public]}",
            "tools[0].operations", "at least one"
        ),
        (
            "tools:\n  - {name: s, kind: slack, base_url: builtin, data_classifications: [public]}\n  - {name: s, kind: slack, base_url: builtin, data_classifications: [public]}",
            "tools[1].name", "listed twice"
        ),
        (
            "tools:\n  - {name: m, kind: mcp, base_url: 'https://m.example/mcp', data_classifications: [public]}",
            "tools[0].operations", "at least one"
        ),
        (
            "tools:\n  - {name: m, kind: mcp, base_url: builtin, data_classifications: [public], operations: [{name: t, scope: s}]}",
            "tools[0].base_url", "builtin simulator"
        ),
        (
            "tools:\n  - {name: m, kind: mcp, base_url: 'https://m.example/mcp', data_classifications: [public], operations: [{name: t, scope: s, method: GET}]}",
            "tools[0].operations[0].method", "unknown field"
        ),
        (
            "tools:\n  - {name: m, kind: mcp, base_url: 'https://m.example/mcp', data_classifications: [public], operations: [{name: 't t', scope: s}]}",
            "tools[0].operations[0].name", "letters, digits"
        ),
        (
            "tools:\n  - {name: m, kind: mcp, base_url: 'https://m.example/mcp', credential: k, auth: oauth2_client_credentials, data_classifications: [public], operations: [{name: t, scope: s}]}",
            "tools[0].auth", "bearer or header"
        ),
        (
            "tools:\n  - {name: w, kind: webhook, base_url: 'https://h.example', credential: k, auth: bearer, data_classifications: [public]}",
            "tools[0].auth", "signs its body"
        ),
        (
            "tools:\n  - {name: s, kind: salesforce, base_url: 'https://x.my.salesforce.com', credential: k, auth: oauth2_client_credentials, data_classifications: [public]}",
            "tools[0].token_url", "is required"
        ),
        (
            "tools:\n  - {name: s, kind: salesforce, base_url: 'https://x.my.salesforce.com', credential: k, token_url: 'https://t', data_classifications: [public]}",
            "tools[0].token_url", "oauth2_client_credentials"
        ),
    ]

    @Test("every malformed field is refused with its path", arguments: bad)
    func refused(_ yaml: String, _ path: String, _ reason: String) {
        do {
            _ = try ToolCatalog(yaml: yaml)
            Issue.record("accepted: \(yaml)")
        } catch {
            #expect(error.path == path, "\(error)")
            #expect(error.reason.contains(reason), "\(error)")
        }
    }
}
