/// The catalog `agentry serve` offers until an admin replaces it: one simulated model per
/// provider, served by the built-in simulators, so everything works offline and without
/// keys. Their prices are made up (never zero, but for the embedding model's output, which it has none of), so caps and spend behave as with real models.
public enum DefaultModelCatalog {
    /// The catalog's YAML, in the format of docs/gateway.md.
    public static let yaml = """
        # Agentry's default model catalog: simulated models served by the simulators built into
        # `agentry serve` ("builtin"), so everything works offline and without keys.
        providers:
          - name: simulator-openai
            api: openai
            base_url: builtin
          - name: simulator-anthropic
            api: anthropic
            base_url: builtin
          - name: simulator-gemini
            api: gemini
            base_url: builtin
          - name: simulator-mistral
            api: mistral
            base_url: builtin
          - name: simulator-cohere
            api: cohere
            base_url: builtin
        models:
          - name: sim/openai-small
            provider: simulator-openai
            upstream: sim-gpt-small
            prices: { input: "0.15", cached_input: "0.075", output: "0.60" }
            context_window: 128000
            max_output_tokens: 16384
            data_classifications: [public, internal, confidential]
            zones: [sandbox, catalog]
          - name: sim/openai-embed
            provider: simulator-openai
            upstream: sim-embed
            prices: { input: "0.02", cached_input: "0.02", output: "0" }
            context_window: 8192
            max_output_tokens: 1
            data_classifications: [public, internal, confidential]
            zones: [sandbox, catalog]
          - name: sim/anthropic-small
            provider: simulator-anthropic
            upstream: sim-claude-small
            prices: { input: "0.80", cached_input: "0.08", output: "4.00" }
            context_window: 200000
            max_output_tokens: 8192
            data_classifications: [public, internal, confidential]
            zones: [sandbox, catalog]
          - name: sim/gemini-small
            provider: simulator-gemini
            upstream: sim-gemini-flash
            prices: { input: "0.10", cached_input: "0.025", output: "0.40" }
            context_window: 1000000
            max_output_tokens: 8192
            data_classifications: [public, internal]
            zones: [sandbox, catalog]
          - name: sim/cohere-small
            provider: simulator-cohere
            upstream: sim-command-r
            prices: { input: "0.15", cached_input: "0.15", output: "0.60" }
            context_window: 128000
            max_output_tokens: 4096
            data_classifications: [public, internal]
            zones: [sandbox]
          - name: sim/mistral-small
            provider: simulator-mistral
            upstream: sim-mistral-small
            prices: { input: "0.10", cached_input: "0.10", output: "0.30" }
            context_window: 32000
            max_output_tokens: 8192
            data_classifications: [public, internal]
            zones: [sandbox]
        """
}
