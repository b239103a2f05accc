import AgentryAudit
import AgentryGateway
import AgentryLedger
import AgentrySimulators
import AgentryTesting
import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

@testable import AgentryServer

/// A provider for gateway tests on a loopback port: the OpenAI simulator, plus routes that are
/// slow, ignore `max_tokens`, answer garbage or never answer, and a record of the keys it was sent.
final class TestUpstream: Sendable {
    /// The org's provider key in these tests; it must reach the provider and nothing else.
    static let secret = "sk-upstream-7f3c9e1d-never-echo"
    private let keys: TextLog
    let port: Int

    private init(port: Int, keys: TextLog) {
        self.port = port
        self.keys = keys
    }

    /// The `Authorization` values the provider received.
    var keysSeen: [String] { keys.values }

    /// Serves the upstream on a free port while `body` runs.
    static func serve(_ body: @escaping @Sendable (TestUpstream) async throws -> Void) async throws {
        let seen = TextLog()
        let router = Router()
        router.middlewares.add(KeyRecorder(keys: seen))
        OpenAISimulator().register(on: router.group("openai"))
        router.post("slow/v1/chat/completions") { _, _ -> Response in
            try await Task.sleep(for: .seconds(3))
            return Self.json(
                #"{"id":"slow","object":"chat.completion","created":0,"model":"x","choices":[{"index":0,"message":{"role":"assistant","content":"done"},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":10,"total_tokens":20}}"#
            )
        }
        router.post("runaway/v1/chat/completions") { _, _ -> Response in
            var events = ""
            for index in 0..<50 {
                events +=
                    #"data: {"id":"run","object":"chat.completion.chunk","created":0,"model":"x","choices":[{"index":0,"delta":{"content":"w\#(index) "},"finish_reason":null}]}"#
                    + "\n\n"
            }
            events += "data: [DONE]\n\n"
            return Response(
                status: .ok, headers: [.contentType: "text/event-stream"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: events)))
        }
        router.post("runaway-claude/v1/messages") { _, _ -> Response in
            func event(_ name: String, _ data: String) -> String { "event: \(name)\ndata: \(data)\n\n" }
            var events = event(
                "message_start",
                #"{"type":"message_start","message":{"id":"msg_run","type":"message","role":"assistant","model":"x","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":0}}}"#
            )
            events += event(
                "content_block_start",
                #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#)
            for index in 0..<50 {
                events += event(
                    "content_block_delta",
                    #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"w\#(index) "}}"#)
            }
            events += event("content_block_stop", #"{"type":"content_block_stop","index":0}"#)
            events += event(
                "message_delta",
                #"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":50}}"#
            )
            events += event("message_stop", #"{"type":"message_stop"}"#)
            return Response(
                status: .ok, headers: [.contentType: "text/event-stream"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: events)))
        }
        router.post("slowstream/v1/chat/completions") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/event-stream"],
                body: ResponseBody { writer in
                    for index in 0..<40 {
                        let chunk =
                            #"data: {"id":"slow","object":"chat.completion.chunk","created":0,"model":"x","choices":[{"index":0,"delta":{"content":"w\#(index) "},"finish_reason":null}]}"#
                            + "\n\n"
                        try await writer.write(ByteBuffer(string: chunk))
                        try await Task.sleep(for: .milliseconds(100))
                    }
                    try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
                    try await writer.finish(nil)
                })
        }
        router.post("broken/v1/chat/completions") { _, _ -> Response in Self.json("<html>oops</html>") }
        // Refuses every call with a message that quotes the key it was sent, as some vendors do.
        for status in [400, 404, 429, 500] {
            router.post("echo\(status)/v1/chat/completions") { request, _ -> Response in
                let key = request.headers[.authorization] ?? "-"
                return Response(
                    status: .init(code: status), headers: [.contentType: "application/json"],
                    body: ResponseBody(
                        byteBuffer: ByteBuffer(
                            string: #"{"error":{"message":"Incorrect API key provided: \#(key)","type":"x"}}"#)))
            }
        }
        router.post("hang/v1/chat/completions") { _, _ -> Response in
            try await Task.sleep(for: .seconds(5))
            return Self.json("{}")
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            try await body(TestUpstream(port: try #require(client.port), keys: seen))
        }
    }

    private static func json(_ text: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// A gateway over this upstream: models priced at $1 per million tokens of every kind.
    var setup: GatewaySetup {
        let base = "http://127.0.0.1:\(port)"
        func model(
            _ name: String, _ provider: String, upstream: String = "sim-gpt-small",
            classes: String = "[public, internal]",
            zones: String = "[sandbox]"
        ) -> String {
            """
              - name: \(name)
                provider: \(provider)
                upstream: \(upstream)
                prices: { input: "1", cached_input: "1", output: "1" }
                context_window: 100000
                max_output_tokens: 1000
                data_classifications: \(classes)
                zones: \(zones)
            """
        }
        func provider(_ name: String, _ path: String, timeout: Int = 10) -> String {
            """
              - name: \(name)
                api: openai
                base_url: \(base)/\(path)/v1
                credential: upstream-key
                read_timeout_seconds: \(timeout)
            """
        }
        let yaml = """
            providers:
            \(provider("up", "openai"))
            \(provider("slow", "slow"))
            \(provider("runaway", "runaway"))
            \(provider("slowstream", "slowstream"))
              - name: runaway-claude
                api: anthropic
                base_url: \(base)/runaway-claude
                credential: upstream-key
            \(provider("broken", "broken"))
            \(provider("hang", "hang", timeout: 1))
            \(provider("impatient", "openai", timeout: 1))
            \(provider("echo400", "echo400"))
            \(provider("echo404", "echo404"))
            \(provider("echo429", "echo429"))
            \(provider("echo500", "echo500"))
              - name: nowhere
                api: openai-compatible
                base_url: http://127.0.0.1:9/v1
            models:
            \(model("test/chat", "up"))
            \(model("test/fail", "up", upstream: "sim-fail-500"))
            \(model("test/catalog-only", "up", zones: "[catalog]"))
            \(model("test/slow", "slow"))
            \(model("test/runaway", "runaway"))
            \(model("test/slowstream", "slowstream"))
            \(model("test/runaway-claude", "runaway-claude"))
            \(model("test/broken", "broken"))
            \(model("test/hang", "hang"))
            \(model("test/slow-simulator", "impatient", upstream: "sim-gpt-small@2500ms"))
            \(model("test/nowhere", "nowhere"))
            \(model("test/echo400", "echo400"))
            \(model("test/echo404", "echo404"))
            \(model("test/echo429", "echo429"))
            \(model("test/echo500", "echo500"))
            """
        var setup = GatewaySetup(
            catalog: try! ModelCatalog(yaml: yaml), credentials: StaticCredentials(["upstream-key": Self.secret]))
        setup.sandboxDefaults = try! SandboxDefaults(
            yaml: "models: [test/*]\nmax_data_classification: restricted\ncaps: {}")
        return setup
    }
}

/// Records the `Authorization` header of every request the test upstream receives.
private struct KeyRecorder: RouterMiddleware {
    typealias Context = BasicRequestContext
    let keys: TextLog

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        if let value = request.headers[.authorization] { keys.append(value) }
        return try await next(request, context)
    }
}

/// Texts collected across tasks: the keys a test upstream received, the bodies a test read.
final class TextLog: Sendable {
    private let storage = Mutex<[String]>([])

    func append(_ text: String) { storage.withLock { $0.append(text) } }

    var values: [String] { storage.withLock { $0 } }
}
