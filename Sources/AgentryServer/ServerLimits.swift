/// Limits of the HTTP server; each says why it is what it is.
public enum ServerLimits {
    /// Registry API bodies are small JSON documents; 1 MiB leaves room for agent manifests to come.
    public static let bodyBytesDefault = 1 << 20
    /// JSON nesting deeper than this is refused before decoding, so hostile input cannot exhaust the stack.
    public static let jsonDepthMax = 32
    /// A connection that sends nothing for this long, before or inside a request's head or body, or
    /// between requests, is closed: clients that open connections and go quiet (or send their
    /// headers a byte at a time) cannot hold the server's descriptors. A request read whole is never
    /// cut, so long answers and event streams are not affected.
    public static let idleSecondsDefault: Int64 = 30
    /// An incoming `x-request-id` longer than this is replaced, so ids stay loggable.
    public static let requestIDCharactersMax = 128
}
