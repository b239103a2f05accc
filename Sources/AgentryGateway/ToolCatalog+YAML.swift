import AgentryLedger
import AgentryPolicy
import Yams

extension ToolCatalog {
    /// Reads a tool catalog from YAML (format in docs/tools.md). Unknown keys, missing fields and
    /// malformed values are problems naming their path, so a typo never opens a tool wider.
    public init(yaml text: String) throws(FieldProblem) {
        let root = try YAMLFields.root(of: text, needs: "a list of tools")
        let top = try YAMLFields(root, at: "(file)", allowed: ["tools"])
        guard let list = top.node("tools")?.sequence else {
            throw FieldProblem(path: "tools", reason: "is required: a list of tools (it may be empty: [])")
        }
        var tools: [ToolConfig] = []
        for (index, node) in list.enumerated() {
            let tool = try Self.tool(node, at: "tools[\(index)]")
            guard !tools.contains(where: { $0.name == tool.name }) else {
                throw FieldProblem(path: "tools[\(index)].name", reason: "'\(tool.name)' is listed twice")
            }
            tools.append(tool)
        }
        self.init(tools: tools)
    }

    /// What a tool name may be: what an agent's manifest may request.
    public static let nameRule = "1–60 characters of a–z, 0–9 and '-', starting with a letter and not ending with '-'"
    /// What an operation name may be.
    public static let operationRule = "1–60 characters of a–z, 0–9, '_' and '-', starting with a letter"

    /// Whether `name` can name a tool (one segment of `/v1/tools/{tool}/{operation}`, and a
    /// manifest's tool name).
    public static func isName(_ name: String) -> Bool {
        guard (1...60).contains(name.utf8.count), let first = name.utf8.first, (0x61...0x7A).contains(first),
            name.utf8.last != 0x2D
        else { return false }
        return name.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D }
    }

    /// Whether `name` can name an operation.
    public static func isOperationName(_ name: String) -> Bool {
        guard (1...60).contains(name.utf8.count), let first = name.utf8.first, (0x61...0x7A).contains(first) else {
            return false
        }
        return name.utf8.allSatisfy {
            (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5F || $0 == 0x2D
        }
    }

    private static func tool(_ node: Node, at path: String) throws(FieldProblem) -> ToolConfig {
        let fields = try YAMLFields(
            node, at: path,
            allowed: [
                "name", "kind", "base_url", "credential", "auth", "token_url", "client_id", "token_scope", "operations",
                "price", "data_classifications", "sandbox_scopes", "timeout_seconds",
            ])
        let name = try fields.text("name")
        guard isName(name) else { throw FieldProblem(path: fields.path(of: "name"), reason: "must be \(nameRule)") }
        let kind = try fields.word("kind", as: ToolConfig.Kind.self)
        let base = try fields.text("base_url", "an http(s) URL, or builtin")
        let builtinAllowed = kind.hasSimulator
        guard (base == ToolConfig.builtin && builtinAllowed) || base.hasPrefix("http://") || base.hasPrefix("https://"),
            !base.contains("@"), !base.contains("?"), !base.contains("#"), !base.contains("..")
        else {
            throw FieldProblem(
                path: fields.path(of: "base_url"),
                reason: "must be an http(s) URL without credentials, query or fragment"
                    + (builtinAllowed ? ", or builtin" : " (only built-in connectors have a builtin simulator)"))
        }
        var credential: String?
        if fields.has("credential") {
            let text = try fields.text("credential")
            guard ProviderConfig.isCredentialName(text) else {
                throw FieldProblem(
                    path: fields.path(of: "credential"), reason: "must be \(ProviderConfig.credentialNameRule)")
            }
            credential = text
        }
        let auth = try Self.auth(fields, kind: kind, builtin: base == ToolConfig.builtin)
        let oauth = if case .oauth2ClientCredentials = auth { true } else { false }
        // A REST API or an MCP server may be open; every other connector needs the org's credential.
        if credential == nil, base != ToolConfig.builtin, (kind != .rest && kind != .mcp) || oauth {
            throw FieldProblem(
                path: fields.path(of: "credential"),
                reason: "is required: the stored credential Agentry calls it with"
                    + (oauth ? " (the OAuth client secret)" : kind == .webhook ? " (the signing secret)" : ""))
        }
        var operations = ToolConfig.builtinOperations(of: kind)
        if kind == .rest || kind == .mcp {
            guard let list = fields.node("operations")?.sequence, !list.isEmpty else {
                throw FieldProblem(
                    path: fields.path(of: "operations"),
                    reason:
                        "is required: the \(kind == .mcp ? "MCP server's tools it offers" : "REST tool's operations"), at least one"
                )
            }
            operations = []
            for (index, node) in list.enumerated() {
                let at = "\(fields.path(of: "operations"))[\(index)]"
                let operation = try kind == .mcp ? Self.mcpOperation(node, at: at) : Self.operation(node, at: at)
                guard !operations.contains(where: { $0.name == operation.name }) else {
                    throw FieldProblem(
                        path: "\(fields.path(of: "operations"))[\(index)].name",
                        reason: "'\(operation.name)' is listed twice")
                }
                operations.append(operation)
            }
        } else if fields.has("operations") {
            throw FieldProblem(
                path: fields.path(of: "operations"),
                reason: "\(kind.rawValue)'s operations are built in: \(operations.map(\.name).joined(separator: ", "))")
        }
        let price = fields.has("price") ? try fields.dollars("price", per: "per call") : .zero
        guard price <= LedgerRules.amountMax else {
            throw FieldProblem(path: fields.path(of: "price"), reason: "must be at most \(LedgerRules.amountMax)")
        }
        let classifications = try fields.words("data_classifications", as: DataClassification.self)
        guard !classifications.isEmpty else {
            throw FieldProblem(path: fields.path(of: "data_classifications"), reason: "must name at least one")
        }
        let sandbox = fields.has("sandbox_scopes") ? try fields.texts("sandbox_scopes", "a list of scopes") : []
        let known = Set(operations.map(\.scope))
        for (index, scope) in sandbox.enumerated() where !known.contains(scope) {
            throw FieldProblem(
                path: "\(fields.path(of: "sandbox_scopes"))[\(index)]",
                reason: "'\(scope)' is not a scope of \(name)'s operations (\(known.sorted().joined(separator: ", ")))")
        }
        let timeout = fields.has("timeout_seconds") ? try fields.integer("timeout_seconds", of: "seconds") : 30
        guard (1...300).contains(timeout) else {
            throw FieldProblem(path: fields.path(of: "timeout_seconds"), reason: "must be from 1 to 300 seconds")
        }
        return ToolConfig(
            name: name, kind: kind, baseURL: base.hasSuffix("/") ? String(base.dropLast()) : base,
            credential: credential, auth: auth, operations: operations, price: price,
            dataClassifications: classifications, sandboxScopes: sandbox, timeoutSeconds: timeout)
    }

    /// `auth`: `bearer` (the default), `header:<name>` or `oauth2_client_credentials` (with
    /// `token_url`, `client_id` and optionally `token_scope`); a webhook signs instead.
    private static func auth(_ fields: YAMLFields, kind: ToolConfig.Kind, builtin: Bool) throws(FieldProblem)
        -> ToolConfig.Auth
    {
        let oauthFields = ["token_url", "client_id", "token_scope"]
        if kind == .mcp, fields.has("auth"), (try? fields.text("auth")) == "oauth2_client_credentials" {
            throw FieldProblem(path: fields.path(of: "auth"), reason: "an MCP server takes bearer or header:<name>")
        }
        if kind == .webhook {
            for key in ["auth"] + oauthFields where fields.has(key) {
                throw FieldProblem(
                    path: fields.path(of: key),
                    reason: "a webhook signs its body with its credential and takes no \(key)")
            }
            return .signature
        }
        let text =
            fields.has("auth")
            ? try fields.text("auth", "bearer, header:<name> or oauth2_client_credentials") : "bearer"
        if text != "oauth2_client_credentials" {
            for key in oauthFields where fields.has(key) {
                throw FieldProblem(path: fields.path(of: key), reason: "belongs to auth: oauth2_client_credentials")
            }
        }
        if text == "oauth2_client_credentials" {
            let tokenURL = try fields.text("token_url", "the OAuth 2.0 token endpoint (an http(s) URL, or builtin)")
            guard
                // Of the simulators, Salesforce's issues tokens.
                (tokenURL == ToolConfig.builtin && builtin && kind == .salesforce)
                    || ((tokenURL.hasPrefix("https://") || tokenURL.hasPrefix("http://")) && !tokenURL.contains("@")
                        && !tokenURL.contains("#"))
            else {
                throw FieldProblem(
                    path: fields.path(of: "token_url"),
                    reason:
                        "must be an http(s) URL without credentials or fragment (builtin only for a salesforce tool on builtin)"
                )
            }
            let clientID = try fields.text("client_id", "the OAuth 2.0 client id")
            guard (1...256).contains(clientID.utf8.count), clientID.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                throw FieldProblem(path: fields.path(of: "client_id"), reason: "must be 1–256 visible ASCII characters")
            }
            var scope: String?
            if fields.has("token_scope") {
                let text = try fields.text("token_scope", "the scopes asked of the token endpoint")
                guard (1...512).contains(text.utf8.count), text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else {
                    throw FieldProblem(path: fields.path(of: "token_scope"), reason: "must be 1–512 ASCII characters")
                }
                scope = text
            }
            return .oauth2ClientCredentials(tokenURL: tokenURL, clientID: clientID, scope: scope)
        }
        if text == "bearer" { return .bearer }
        let tokenCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
        if text.hasPrefix("header:"), case let header = String(text.dropFirst(7)), (1...64).contains(header.count),
            header.allSatisfy(tokenCharacters.contains),
            !["authorization", "host", "content-length", "content-type", "cookie"].contains(header.lowercased())
        {
            return .header(header)
        }
        throw FieldProblem(
            path: fields.path(of: "auth"),
            reason:
                "must be bearer, oauth2_client_credentials or header:<name> (a header name of letters, digits, '-' and '_', not a reserved one)"
        )
    }

    /// An MCP tool offered as an operation: the upstream tool's name and the scope it needs.
    private static func mcpOperation(_ node: Node, at path: String) throws(FieldProblem) -> ToolOperation {
        let fields = try YAMLFields(node, at: path, allowed: ["name", "scope"])
        let name = try fields.text("name", "the upstream MCP tool's name")
        guard (1...64).contains(name.utf8.count),
            name.utf8.allSatisfy({
                (0x61...0x7A).contains($0) || (0x41...0x5A).contains($0) || (0x30...0x39).contains($0)
                    || [0x5F, 0x2D, 0x2E].contains($0)
            })
        else {
            throw FieldProblem(
                path: fields.path(of: "name"), reason: "must be 1–64 characters of letters, digits, '_', '-' and '.'")
        }
        let scope = try fields.text("scope", "the scope a caller needs")
        guard NamePattern(scope) != nil, !scope.contains("*") else {
            throw FieldProblem(path: fields.path(of: "scope"), reason: "must be a scope name without spaces or *")
        }
        return ToolOperation(name: name, method: .POST, path: "", scope: scope)
    }

    private static func operation(_ node: Node, at path: String) throws(FieldProblem) -> ToolOperation {
        let fields = try YAMLFields(node, at: path, allowed: ["name", "method", "path", "scope"])
        let name = try fields.text("name")
        guard isOperationName(name) else {
            throw FieldProblem(path: fields.path(of: "name"), reason: "must be \(operationRule)")
        }
        let method = try fields.word("method", as: ToolOperation.Method.self)
        let template = try fields.text("path", "a path starting with /, with {parameters} as whole segments")
        let scope = try fields.text("scope", "the scope a caller needs")
        // The rule of the scopes a manifest requests, so every scope here can be requested and granted.
        guard NamePattern(scope) != nil, !scope.contains("*") else {
            throw FieldProblem(path: fields.path(of: "scope"), reason: "must be a scope name without spaces or *")
        }
        let operation = ToolOperation(name: name, method: method, path: template, scope: scope)
        guard Self.isPathTemplate(template, parameters: operation.pathParameters) else {
            throw FieldProblem(
                path: fields.path(of: "path"),
                reason: "must start with /, hold no '.' or '..' segment and no '?', '#' or '%', and put each "
                    + "{parameter} (a–z, 0–9, _) alone in a segment, once")
        }
        return operation
    }

    /// Whether `template` is a safe path: segments of URL path characters or one `{parameter}` each.
    private static func isPathTemplate(_ template: String, parameters: [String]) -> Bool {
        guard template.hasPrefix("/"), template.utf8.count <= 512, Set(parameters).count == parameters.count else {
            return false
        }
        let plain = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~:@!$&*+,;=")
        for segment in template.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            if segment.hasPrefix("{") && segment.hasSuffix("}") {
                let name = segment.dropFirst().dropLast()
                guard !name.isEmpty,
                    name.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" })
                else { return false }
            } else {
                guard segment != "..", segment != ".", segment.allSatisfy(plain.contains) else { return false }
            }
        }
        return true
    }
}
