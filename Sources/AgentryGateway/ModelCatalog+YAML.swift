import AgentryLedger
import AgentryPolicy
import Yams

extension ModelCatalog {
    /// Reads a catalog from YAML (format in docs/gateway.md): a mapping with `models`, a list of
    /// models, and optionally `providers`, the providers they name. Unknown keys, missing fields and malformed values are errors naming their
    /// path, so a typo never yields a free or unlimited model.
    public init(yaml text: String) throws(CatalogError) {
        let root = try YAMLFields.root(of: text, needs: "a list of models")
        let top = try YAMLFields(root, at: "(file)", allowed: ["models", "providers"])
        guard let list = top.node("models")?.sequence else {
            throw CatalogError(path: "models", reason: "is required: a list of models")
        }
        var models: [CatalogModel] = []
        for (index, node) in list.enumerated() {
            models.append(try Self.model(node, at: "models[\(index)]"))
        }
        var providers: [ProviderConfig] = []
        if let node = top.node("providers") {
            guard let list = node.sequence else { throw CatalogError(path: "providers", reason: "must be a list") }
            for (index, node) in list.enumerated() {
                providers.append(try Self.provider(node, at: "providers[\(index)]"))
            }
        }
        try self.init(models, providers: providers)
    }

    private static func provider(_ node: Node, at path: String) throws(CatalogError) -> ProviderConfig {
        let fields = try YAMLFields(
            node, at: path,
            allowed: ["name", "api", "base_url", "credential", "connect_timeout_seconds", "read_timeout_seconds"])
        let api = try fields.word("api", as: ProviderConfig.API.self)
        return ProviderConfig(
            name: try fields.text("name"), api: api, baseURL: try fields.text("base_url"),
            credential: fields.node("credential") == nil ? nil : try fields.text("credential"),
            connectTimeoutSeconds: fields.node("connect_timeout_seconds") == nil
                ? 5 : try fields.integer("connect_timeout_seconds", of: "seconds"),
            readTimeoutSeconds: fields.node("read_timeout_seconds") == nil
                ? 120 : try fields.integer("read_timeout_seconds", of: "seconds"))
    }

    private static func model(_ node: Node, at path: String) throws(CatalogError) -> CatalogModel {
        let fields = try YAMLFields(
            node, at: path,
            allowed: [
                "name", "provider", "upstream", "prices", "context_window", "max_output_tokens", "data_classifications",
                "zones",
            ])
        guard let pricesNode = fields.node("prices") else {
            throw CatalogError(path: "\(path).prices", reason: "is required: a model without a price is never free")
        }
        let prices = try YAMLFields(pricesNode, at: "\(path).prices", allowed: ["input", "cached_input", "output"])
        return CatalogModel(
            name: try fields.text("name"), provider: try fields.text("provider"),
            upstreamID: try fields.text("upstream"),
            prices: TokenPrices(
                input: try prices.dollars("input"), cachedInput: try prices.dollars("cached_input"),
                output: try prices.dollars("output")),
            contextWindow: try fields.integer("context_window"),
            maxOutputTokens: try fields.integer("max_output_tokens"),
            dataClassifications: Set(try fields.words("data_classifications", as: DataClassification.self)),
            zones: Set(try fields.words("zones", as: ModelZone.self)))
    }
}
