/// Limits of the HTTP server; each says why it is what it is.
public enum ServerLimits {
    /// Registry API bodies are small JSON documents; 1 MiB leaves room for agent manifests to come.
    public static let bodyBytesDefault = 1 << 20
    /// JSON nesting deeper than this is refused before decoding, so hostile input cannot exhaust the stack.
    public static let jsonDepthMax = 32
    /// An incoming `x-request-id` longer than this is replaced, so ids stay loggable.
    public static let requestIDCharactersMax = 128
}
