import AgentryGateway
import AgentryLedger
import Testing

/// The model catalog: the shipped one loads, prices compute exactly, and every malformed entry is
/// refused with the path of the field, never read as a free or unlimited model.
@Suite("Model catalog")
struct ModelCatalogTests {
    static let model = """
        models:
          - name: gpt-test
            provider: openai
            upstream: gpt-test-2026
            prices: { input: "2.50", cached_input: "1.25", output: "10" }
            context_window: 128000
            max_output_tokens: 16384
            data_classifications: [public, internal]
            zones: [sandbox]
        """

    @Test func theShippedCatalogLoads() throws {
        let catalog = try ModelCatalog(yaml: DefaultModelCatalog.yaml)
        #expect(catalog.models.count == 6)
        let openai = try #require(catalog.model(named: "sim/openai-small"))
        #expect(openai.prices.output == Microdollars(600_000))
        #expect(openai.zones == [.sandbox, .catalog])
        #expect(catalog.models.values.allSatisfy { $0.name.hasPrefix("sim/") && $0.prices.input > .zero })
        // Only the embedding model has no output to price.
        #expect(catalog.models.values.filter { $0.prices.output == .zero }.map(\.name) == ["sim/openai-embed"])
        #expect(catalog.providers.count == 5)
        #expect(catalog.providers.values.allSatisfy { $0.baseURL == ProviderConfig.builtin })
        #expect(Set(catalog.models.values.map(\.provider)).isSubset(of: Set(catalog.providers.keys)))
    }

    @Test func providersAreReadStrictly() throws {
        let model = """
            models:
              - name: m
                provider: p
                upstream: u
                prices: { input: "1", cached_input: "1", output: "1" }
                context_window: 100
                max_output_tokens: 10
                data_classifications: [public]
                zones: [sandbox]
            """
        let good = try ModelCatalog(
            yaml: "providers:\n  - { name: p, api: anthropic, base_url: 'https://api.example.com', credential: k, "
                + "read_timeout_seconds: 30 }\n" + model)
        let provider = try #require(good.providers["p"])
        #expect(provider.api == .anthropic && provider.credential == "k" && provider.readTimeoutSeconds == 30)
        #expect(provider.connectTimeoutSeconds == 5)
        for (providers, path) in [
            ("  - { name: p, api: cohere-ish, base_url: 'https://x', credential: k }", "providers[0].api"),
            ("  - { name: p, api: openai, base_url: 'https://x' }", "providers[0].credential"),
            ("  - { name: p, api: openai, base_url: 'ftp://x', credential: k }", "providers[0].base_url"),
            ("  - { name: p, api: openai, base_url: 'https://user:pw@x', credential: k }", "providers[0].base_url"),
            (
                "  - { name: p, api: openai, base_url: 'https://x', credential: k, read_timeout_seconds: 0 }",
                "providers[0].read_timeout_seconds"
            ),
            ("  - { name: p, api: openai, base_url: 'https://x', credential: k, colour: red }", "providers[0].colour"),
            ("  - { name: p, api: openai, base_url: 'https://x', credential: OpenAI-Prod }", "providers[0].credential"),
            ("  - { name: q, api: openai-compatible, base_url: 'http://127.0.0.1:8000/v1' }", "models[0].provider"),
        ] {
            let error = #expect(throws: CatalogError.self) {
                try ModelCatalog(yaml: "providers:\n\(providers)\n" + model)
            }
            #expect(error?.path == path, "\(providers): \(String(describing: error))")
        }
    }

    @Test func aModelIsReadFieldByField() throws {
        let model = try #require(try ModelCatalog(yaml: Self.model).model(named: "gpt-test"))
        #expect(
            model
                == CatalogModel(
                    name: "gpt-test", provider: "openai", upstreamID: "gpt-test-2026",
                    prices: TokenPrices(
                        input: Microdollars(2_500_000), cachedInput: Microdollars(1_250_000),
                        output: Microdollars(10_000_000)),
                    contextWindow: 128_000, maxOutputTokens: 16_384, dataClassifications: [.public, .internal],
                    zones: [.sandbox]))
    }

    @Test func costsAreExactAndRoundUp() throws {
        let model = try #require(try ModelCatalog(yaml: Self.model).model(named: "gpt-test"))
        // 1,000 input at $2.50/M = $0.0025; 200 cached at $1.25/M = $0.00025; 500 output at $10/M = $0.005.
        #expect(try model.cost(of: TokenUsage(input: 1_000, cachedInput: 200, output: 500)) == Microdollars(7_750))
        // One input token costs 2.5 µ$: charged 3, never rounded down to less than it cost.
        #expect(try model.cost(of: TokenUsage(input: 1, output: 0)) == Microdollars(3))
        #expect(try model.cost(of: TokenUsage(input: 0, output: 0)) == .zero)
        // Worst case: every byte a token, and the whole output allowance.
        #expect(try model.worstCaseCost(inputBytes: 4_000, maxOutputTokens: 1_000) == Microdollars(20_000))
        #expect(throws: LedgerError.overflow) { try model.cost(of: TokenUsage(input: .max, output: 0)) }
        #expect(throws: LedgerError.self) { try model.cost(of: TokenUsage(input: -1, output: 0)) }
    }

    @Test(arguments: [
        ("", "(file): is empty"),
        ("models: [", "(file): not valid YAML"),
        ("models: 3", "models: is required"),
        ("catalog: []", "catalog: unknown field"),
        ("models:\n  - name: x", "models[0].prices: is required: a model without a price is never free"),
    ])
    func malformedFilesAreRefused(_ yaml: String, _ message: String) {
        let error = #expect(throws: CatalogError.self) { try ModelCatalog(yaml: yaml) }
        #expect(error?.description.hasPrefix(message) == true, "\(String(describing: error))")
    }

    @Test(arguments: [
        (
            "prices: { input: \"2.50\", cached_input: \"1.25\", output: \"10\" }",
            "prices: { input: \"2.50\", output: \"10\" }",
            "models[0].prices.cached_input: is required"
        ),
        ("output: \"10\"", "output: \"-10\"", "models[0].prices.output: must be a dollar amount"),
        ("output: \"10\"", "output: \"1e3\"", "models[0].prices.output: must be a dollar amount"),
        ("output: \"10\"", "output: \"10001\"", "models[0].prices.output: must be from $0"),
        ("output: \"10\"", "output: \"10\", bonus: \"1\"", "models[0].prices.bonus: unknown field"),
        ("context_window: 128000", "context_window: 0", "models[0].context_window: must be from 1"),
        ("context_window: 128000", "context_window: lots", "models[0].context_window: must be a whole number"),
        (
            "max_output_tokens: 16384", "max_output_tokens: 200000",
            "models[0].max_output_tokens: must be from 1 to the context window"
        ),
        ("zones: [sandbox]", "zones: [sandbox, moon]", "models[0].zones[1]: must be one of sandbox, catalog"),
        ("zones: [sandbox]", "zones: []", "models[0].zones: must name at least one"),
        (
            "data_classifications: [public, internal]", "data_classifications: [secret]",
            "models[0].data_classifications[0]: must be one of public, internal, confidential, restricted"
        ),
        ("name: gpt-test", "name: \"gpt test\"", "models[0].name: must be 1–128 visible ASCII characters"),
        ("upstream: gpt-test-2026", "upstream: [a]", "models[0].upstream: must be a name"),
        ("zones: [sandbox]", "zones: [sandbox]\n    free: true", "models[0].free: unknown field"),
    ])
    func malformedModelsAreRefused(_ field: String, _ replacement: String, _ message: String) throws {
        let yaml = Self.model.replacingOccurrences(of: field, with: replacement)
        #expect(yaml != Self.model, "the test did not change the model")
        let error = #expect(throws: CatalogError.self) { try ModelCatalog(yaml: yaml) }
        #expect(error?.description.hasPrefix(message) == true, "\(String(describing: error))")
    }

    @Test func aNameListedTwiceIsRefused() {
        let twice = Self.model + "\n" + Self.model.split(separator: "\n").dropFirst().joined(separator: "\n")
        let error = #expect(throws: CatalogError.self) { try ModelCatalog(yaml: twice) }
        #expect(error?.description == "models[1].name: 'gpt-test' is listed twice")
    }
}
