import AgentryLedger
import AgentryPolicy

/// Where a model may be called: in builders' Sandboxes, by published Catalog agents, or both.
public enum ModelZone: String, CaseIterable, Sendable {
    case sandbox
    case catalog
}

/// Prices per million tokens. Every model has all three: a model without a price is refused,
/// never free.
public struct TokenPrices: Equatable, Sendable {
    /// Per million input tokens.
    public let input: Microdollars
    /// Per million input tokens served from the provider's prompt cache.
    public let cachedInput: Microdollars
    /// Per million output tokens.
    public let output: Microdollars

    /// Prices per million tokens.
    public init(input: Microdollars, cachedInput: Microdollars, output: Microdollars) {
        self.input = input
        self.cachedInput = cachedInput
        self.output = output
    }
}

/// Tokens one call used, as the provider's usage block reports them.
public struct TokenUsage: Equatable, Sendable {
    /// Input tokens billed at the input price (not counting cached ones).
    public var input: Int64
    /// Input tokens served from the prompt cache.
    public var cachedInput: Int64
    /// Output tokens.
    public var output: Int64

    /// A usage; counts must not be negative.
    public init(input: Int64, cachedInput: Int64 = 0, output: Int64) {
        self.input = input
        self.cachedInput = cachedInput
        self.output = output
    }
}

/// One model the gateway offers: the name builders call it by, where it runs, what it costs and
/// what it may be used for.
public struct CatalogModel: Equatable, Sendable {
    /// The public name builders use (`gpt-4o`, `sim/openai-small`).
    public let name: String
    /// The configured provider that serves it.
    public let provider: String
    /// The provider's own id of the model.
    public let upstreamID: String
    public let prices: TokenPrices
    /// Input plus output tokens one call may hold.
    public let contextWindow: Int64
    /// The most output tokens one call may ask for.
    public let maxOutputTokens: Int64
    /// The classifications of data it may receive.
    public let dataClassifications: Set<DataClassification>
    /// Where it may be called.
    public let zones: Set<ModelZone>

    /// A model; `ModelCatalog` checks its fields.
    public init(
        name: String, provider: String, upstreamID: String, prices: TokenPrices, contextWindow: Int64,
        maxOutputTokens: Int64, dataClassifications: Set<DataClassification>, zones: Set<ModelZone>
    ) {
        self.name = name
        self.provider = provider
        self.upstreamID = upstreamID
        self.prices = prices
        self.contextWindow = contextWindow
        self.maxOutputTokens = maxOutputTokens
        self.dataClassifications = dataClassifications
        self.zones = zones
    }

    /// What `usage` costs, each part rounded up to a whole µ$ (a call is never cheaper than its
    /// tokens); throws `LedgerError.overflow` rather than wrap.
    public func cost(of usage: TokenUsage) throws(LedgerError) -> Microdollars {
        guard usage.input >= 0, usage.cachedInput >= 0, usage.output >= 0 else {
            throw .invalidAmount(reason: "token counts cannot be negative")
        }
        return try Self.price(usage.input, at: prices.input)
            .adding(try Self.price(usage.cachedInput, at: prices.cachedInput))
            .adding(try Self.price(usage.output, at: prices.output))
    }

    /// The most a call can cost before anyone knows its usage: every UTF-8 byte of its input as an
    /// input token (a token is at least one byte) and `maxOutputTokens` of output.
    public func worstCaseCost(inputBytes: Int64, maxOutputTokens: Int64) throws(LedgerError) -> Microdollars {
        try cost(of: TokenUsage(input: inputBytes, output: maxOutputTokens))
    }

    /// `tokens` at `perMillion` µ$ per million tokens, rounded up.
    private static func price(_ tokens: Int64, at perMillion: Microdollars) throws(LedgerError) -> Microdollars {
        let (product, overflow) = tokens.multipliedReportingOverflow(by: perMillion.value)
        guard !overflow else { throw .overflow }
        let (quotient, remainder) = product.quotientAndRemainder(dividingBy: 1_000_000)
        return Microdollars(remainder > 0 ? quotient + 1 : quotient)
    }
}

/// Every model the gateway offers, by public name. Built only from models that pass every check.
public struct ModelCatalog: Equatable, Sendable {
    /// The models, by public name.
    public let models: [String: CatalogModel]
    /// The providers the models name, by name (empty when the catalog lists none).
    public let providers: [String: ProviderConfig]

    /// The model called `name`, if the catalog has it.
    public func model(named name: String) -> CatalogModel? { models[name] }

    /// A catalog of `models` served by `providers`, or the first problem, naming the model and
    /// field. When providers are listed, every model's provider must be among them.
    public init(_ models: [CatalogModel], providers: [ProviderConfig] = []) throws(CatalogError) {
        var byProvider: [String: ProviderConfig] = [:]
        for (index, provider) in providers.enumerated() {
            let at = "providers[\(index)]"
            try Self.check(provider, at: at)
            guard byProvider[provider.name] == nil else {
                throw CatalogError(path: "\(at).name", reason: "'\(provider.name)' is listed twice")
            }
            byProvider[provider.name] = provider
        }
        var byName: [String: CatalogModel] = [:]
        for (index, model) in models.enumerated() {
            let at = "models[\(index)]"
            try Self.check(model, at: at)
            guard byName[model.name] == nil else {
                throw CatalogError(path: "\(at).name", reason: "'\(model.name)' is listed twice")
            }
            if !byProvider.isEmpty, byProvider[model.provider] == nil {
                throw CatalogError(
                    path: "\(at).provider",
                    reason:
                        "no provider is named '\(model.provider)'; known: \(byProvider.keys.sorted().joined(separator: ", "))"
                )
            }
            byName[model.name] = model
        }
        self.models = byName
        self.providers = byProvider
    }

    private static func check(_ provider: ProviderConfig, at path: String) throws(CatalogError) {
        guard (1...nameCharactersMax).contains(provider.name.utf8.count),
            provider.name.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
        else {
            throw CatalogError(path: "\(path).name", reason: "must be 1–\(nameCharactersMax) visible ASCII characters")
        }
        let base = provider.baseURL
        guard base == ProviderConfig.builtin || base.hasPrefix("http://") || base.hasPrefix("https://"),
            !base.contains("@"), !base.contains("?"), !base.contains("#")
        else {
            throw CatalogError(
                path: "\(path).base_url",
                reason: "must be an http(s) URL without credentials, query or fragment, or 'builtin'")
        }
        if let credential = provider.credential, !ProviderConfig.isCredentialName(credential) {
            throw CatalogError(path: "\(path).credential", reason: "must be \(ProviderConfig.credentialNameRule)")
        }
        if provider.credential == nil, base != ProviderConfig.builtin, provider.api != .openaiCompatible {
            throw CatalogError(
                path: "\(path).credential", reason: "is required: the name of the vault credential holding its key")
        }
        for (field, seconds) in [
            ("connect_timeout_seconds", provider.connectTimeoutSeconds),
            ("read_timeout_seconds", provider.readTimeoutSeconds),
        ] {
            guard (1...3600).contains(seconds) else {
                throw CatalogError(path: "\(path).\(field)", reason: "must be from 1 to 3600 seconds")
            }
        }
    }

    /// The limits a model's fields must keep.
    static let nameCharactersMax = 128
    static let tokensMax: Int64 = 100_000_000
    static let pricePerMillionMax = Microdollars(10_000 * Microdollars.perDollar)

    private static func check(_ model: CatalogModel, at path: String) throws(CatalogError) {
        for (field, value) in [("name", model.name), ("provider", model.provider), ("upstream", model.upstreamID)] {
            guard (1...nameCharactersMax).contains(value.utf8.count),
                value.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
            else {
                throw CatalogError(
                    path: "\(path).\(field)", reason: "must be 1–\(nameCharactersMax) visible ASCII characters")
            }
        }
        // The public name is recorded in every model.call audit event, which holds identifiers only.
        guard
            model.name.utf8.allSatisfy({
                (0x61...0x7A).contains($0) || (0x41...0x5A).contains($0) || (0x30...0x39).contains($0)
                    || Array("._:@/-".utf8).contains($0)
            })
        else {
            throw CatalogError(path: "\(path).name", reason: "must be letters, digits and . _ : @ / - only")
        }
        for (field, price) in [
            ("input", model.prices.input), ("cached_input", model.prices.cachedInput), ("output", model.prices.output),
        ] {
            guard price >= .zero, price <= pricePerMillionMax else {
                throw CatalogError(
                    path: "\(path).prices.\(field)",
                    reason: "must be from $0 to \(pricePerMillionMax) per million tokens")
            }
        }
        guard (1...tokensMax).contains(model.contextWindow) else {
            throw CatalogError(path: "\(path).context_window", reason: "must be from 1 to \(tokensMax) tokens")
        }
        guard (1...model.contextWindow).contains(model.maxOutputTokens) else {
            throw CatalogError(
                path: "\(path).max_output_tokens",
                reason: "must be from 1 to the context window (\(model.contextWindow))")
        }
        guard !model.dataClassifications.isEmpty else {
            throw CatalogError(path: "\(path).data_classifications", reason: "must name at least one classification")
        }
        guard !model.zones.isEmpty else {
            throw CatalogError(path: "\(path).zones", reason: "must name at least one of sandbox and catalog")
        }
    }
}

/// A catalog that cannot be used, and where: `models[2].prices.output: is required …`.
public typealias CatalogError = FieldProblem
