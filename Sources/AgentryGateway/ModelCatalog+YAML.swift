import AgentryLedger
import Yams

extension ModelCatalog {
    /// Reads a catalog from YAML (format in docs/gateway.md): a mapping with `models`, a list of
    /// models, and optionally `providers`, the providers they name. Unknown keys, missing fields and malformed values are errors naming their
    /// path, so a typo never yields a free or unlimited model.
    public init(yaml text: String) throws(CatalogError) {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw CatalogError(path: "(file)", reason: "not valid YAML: \(error)")
        }
        guard let root else { throw CatalogError(path: "(file)", reason: "is empty; it needs a list of models") }
        let top = try Fields(root, at: "(file)", allowed: ["models", "providers"])
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
        let fields = try Fields(
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
        let fields = try Fields(
            node, at: path,
            allowed: [
                "name", "provider", "upstream", "prices", "context_window", "max_output_tokens", "data_classifications",
                "zones",
            ])
        guard let pricesNode = fields.node("prices") else {
            throw CatalogError(path: "\(path).prices", reason: "is required: a model without a price is never free")
        }
        let prices = try Fields(pricesNode, at: "\(path).prices", allowed: ["input", "cached_input", "output"])
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

/// The keys of one YAML mapping, checked against the allowed ones, with typed readers that name
/// the path of what they refuse.
private struct Fields {
    let path: String
    let values: [String: Node]

    init(_ node: Node, at path: String, allowed: [String]) throws(CatalogError) {
        guard let mapping = node.mapping else { throw CatalogError(path: path, reason: "must be a mapping") }
        var values: [String: Node] = [:]
        for (key, value) in mapping {
            guard let name = key.string else { throw CatalogError(path: path, reason: "keys must be strings") }
            guard allowed.contains(name) else {
                throw CatalogError(
                    path: "\(path).\(name)", reason: "unknown field; known: \(allowed.joined(separator: ", "))")
            }
            values[name] = value
        }
        self.path = path
        self.values = values
    }

    func node(_ key: String) -> Node? { values[key] }

    private func scalar(_ key: String, _ what: String) throws(CatalogError) -> String {
        guard let node = values[key] else { throw CatalogError(path: "\(path).\(key)", reason: "is required: \(what)") }
        guard let text = node.scalar?.string else {
            throw CatalogError(path: "\(path).\(key)", reason: "must be \(what)")
        }
        return text
    }

    func text(_ key: String) throws(CatalogError) -> String { try scalar(key, "a name") }

    func dollars(_ key: String) throws(CatalogError) -> Microdollars {
        let text = try scalar(key, "a dollar amount per million tokens, like \"0.15\"")
        guard let amount = Microdollars(parsing: text) else {
            throw CatalogError(
                path: "\(path).\(key)",
                reason: "must be a dollar amount per million tokens, like \"0.15\", not '\(text)'")
        }
        return amount
    }

    func integer(_ key: String, of unit: String = "tokens") throws(CatalogError) -> Int64 {
        let text = try scalar(key, "a whole number of \(unit)")
        guard let value = Int64(text) else {
            throw CatalogError(path: "\(path).\(key)", reason: "must be a whole number of \(unit), not '\(text)'")
        }
        return value
    }

    func word<Word: RawRepresentable & CaseIterable>(_ key: String, as _: Word.Type) throws(CatalogError) -> Word
    where Word.RawValue == String {
        let known = Word.allCases.map(\.rawValue).joined(separator: ", ")
        let text = try scalar(key, "one of \(known)")
        guard let word = Word(rawValue: text) else {
            throw CatalogError(path: "\(path).\(key)", reason: "must be one of \(known), not '\(text)'")
        }
        return word
    }

    func words<Word: RawRepresentable & CaseIterable>(_ key: String, as _: Word.Type) throws(CatalogError) -> [Word]
    where Word.RawValue == String {
        let known = Word.allCases.map(\.rawValue).joined(separator: ", ")
        guard let node = values[key] else {
            throw CatalogError(path: "\(path).\(key)", reason: "is required: a list of \(known)")
        }
        guard let items = node.sequence else {
            throw CatalogError(path: "\(path).\(key)", reason: "must be a list of \(known)")
        }
        var words: [Word] = []
        for (index, item) in items.enumerated() {
            guard let text = item.scalar?.string, let word = Word(rawValue: text) else {
                throw CatalogError(path: "\(path).\(key)[\(index)]", reason: "must be one of \(known)")
            }
            words.append(word)
        }
        return words
    }
}
