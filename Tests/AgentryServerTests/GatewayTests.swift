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

/// The model gateway end to end: the vendors' SDKs, caps under concurrency, metered streams,
/// the audit trail, and every kind of bad input, over real HTTP on loopback.
@Suite("Model gateway", .serialized)
struct GatewayTests {
    /// The vendors' own SDKs reach every simulated model, in their own dialect and across dialects;
    /// every call is audited with its tokens and cost, and the costs add up to the ledger's spend.
    @Test func officialSDKsWorkThroughTheGateway() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            let (user, _) = try await fixture.member("builder@example.com")
            let key = try await fixture.sandboxKey(for: user.id)
            try await fixture.application(configuration: ServerFixture.configuration).test(.live) { client in
                let port = try #require(client.port)
                let seen = try await VendorSDK.run("gateway_check.py", ["http://127.0.0.1:\(port)", key])
                let reply = "Simulated reply to:"
                let openai = try #require(seen["openai"] as? [String: Any])
                #expect((openai["chat"] as? [String: Any])?["content"] as? String == "\(reply) hello there")
                #expect((openai["stream"] as? [String: Any])?["completion_tokens"] as? Int == 5)
                #expect((openai["tool"] as? [String: Any])?["name"] as? String == "lookup")
                #expect((openai["to_anthropic"] as? [String: Any])?["content"] as? String == "\(reply) hello claude")
                #expect((openai["to_anthropic_tool"] as? [String: Any])?["name"] as? String == "lookup")
                #expect(openai["to_gemini_stream"] as? String == "\(reply) stream gemini")
                #expect((openai["embeddings"] as? [String: Any])?["count"] as? Int == 2)
                #expect((openai["models"] as? [String])?.contains("sim/anthropic-small") == true)
                let openaiErrors = try #require(openai["errors"] as? [String: Any])
                #expect((openaiErrors["unknown_model"] as? [String: Any])?["status"] as? Int == 404)
                #expect((openaiErrors["max_tokens_too_high"] as? [String: Any])?["status"] as? Int == 400)
                #expect((openaiErrors["wrong_key"] as? [String: Any])?["status"] as? Int == 401)
                #expect(openai["retrieved"] as? String == "sim/openai-small")
                #expect((openaiErrors["retrieve_unknown"] as? [String: Any])?["status"] as? Int == 404)
                let anthropic = try #require(seen["anthropic"] as? [String: Any])
                #expect((anthropic["message"] as? [String: Any])?["text"] as? String == "\(reply) hello there")
                #expect((anthropic["stream"] as? [String: Any])?["text"] as? String == "\(reply) stream please")
                #expect((anthropic["stream"] as? [String: Any])?["output_tokens"] as? Int == 5)
                #expect((anthropic["tool"] as? [String: Any])?["stop_reason"] as? String == "tool_use")
                #expect((anthropic["to_openai"] as? [String: Any])?["text"] as? String == "\(reply) hello gpt")
                #expect(
                    (anthropic["to_gemini_stream"] as? [String: Any])?["text"] as? String == "\(reply) stream to gemini"
                )
                let anthropicErrors = try #require(anthropic["errors"] as? [String: Any])
                #expect((anthropicErrors["unknown_model"] as? [String: Any])?["status"] as? Int == 404)
                #expect((anthropicErrors["wrong_key"] as? [String: Any])?["status"] as? Int == 401)
                #expect(anthropic["retrieved"] as? String == "sim/anthropic-small")
                #expect((anthropicErrors["retrieve_unknown"] as? [String: Any])?["status"] as? Int == 404)
                // Tokens are counted by Anthropic-format providers ("count these four words" + 3).
                #expect(anthropic["count_tokens"] as? Int == 7)
                #expect((anthropicErrors["count_elsewhere"] as? [String: Any])?["status"] as? Int == 400)
                let gemini = try #require(seen["gemini"] as? [String: Any])
                #expect((gemini["content"] as? [String: Any])?["text"] as? String == "\(reply) hello there")
                #expect(gemini["stream"] as? String == "\(reply) stream please")
                #expect((gemini["to_anthropic"] as? [String: Any])?["text"] as? String == "\(reply) hello claude")
                #expect(gemini["to_openai_stream"] as? String == "\(reply) stream to gpt")
                #expect((gemini["unknown_model"] as? [String: Any])?["status"] as? Int == 404)
                let mistral = try #require(seen["mistral"] as? [String: Any])
                #expect((mistral["chat"] as? [String: Any])?["content"] as? String == "\(reply) hello there")
                #expect(mistral["stream"] as? String == "\(reply) stream please")
                let cohere = try #require(seen["cohere"] as? [String: Any])
                #expect((cohere["chat"] as? [String: Any])?["text"] as? String == "\(reply) hello there")
                #expect(cohere["stream"] as? String == "\(reply) stream please")
                #expect(cohere["to_anthropic"] as? String == "\(reply) hello claude")
                #expect(cohere["to_openai_stream"] as? String == "\(reply) stream to gpt")
            }
            // 22 calls answered, 4 refused after the key was checked (unknown models, a too-high max_tokens).
            let calls = try await Self.modelCalls(fixture, atLeast: 26)
            let answered = calls.filter { $0.outcome == "ok" }
            #expect(answered.count == 22, "outcomes: \(calls.map { $0.outcome ?? "-" })")
            #expect(calls.filter { $0.outcome == "model_not_found" }.count == 3)
            #expect(calls.filter { $0.outcome == "invalid_request" }.count == 1)
            for call in answered {
                #expect(call.actor == user.id)
                #expect((call.inputTokens ?? 0) > 0 && (call.costMicrodollars ?? 0) > 0, "\(call)")
                #expect(call.payloads.map(\.name) == ["input", "output"])
            }
            let spend = try await fixture.store.ledger.spend(
                SpendQuery(window: .day, scope: try LedgerScope(.user, id: user.id)))
            #expect(spend.map(\.1.settled.value).reduce(0, +) == answered.compactMap(\.costMicrodollars).reduce(0, +))
            #expect(spend.allSatisfy { $0.1.reserved == .zero })
            let report = try await AuditVerifier.verify(store: fixture.store.audit, verifier: fixture.verifier)
            #expect(report.size >= 26)
        }
    }

    /// On a spent cap every vendor's SDK raises its own exception, with the cap's message, once:
    /// no SDK retries it (each is left at its default retry settings).
    @Test func aSpentCapIsEachSDKsOwnErrorAndNotRetried() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            let (user, _) = try await fixture.member("spender@example.com")
            let key = try await fixture.sandboxKey(for: user.id)
            try await fixture.store.ledger.setCaps(
                [
                    CapChange(
                        key: CapKey(scope: try LedgerScope(.user, id: user.id), window: .month), limit: Microdollars(1))
                ],
                at: Date(), recording: [])
            try await fixture.application().test(.live) { client in
                let port = try #require(client.port)
                let seen = try await VendorSDK.run("gateway_cap_check.py", ["http://127.0.0.1:\(port)", key])
                for (sdk, status, type) in [
                    ("openai", 429, "RateLimitError"), ("anthropic", 429, "RateLimitError"),
                    ("gemini", 429, "ClientError"), ("cohere", 402, "ApiError"), ("mistral", 429, "SDKError"),
                ] {
                    let error = seen[sdk] as? [String: Any]
                    #expect(error?["status"] as? Int == status, "\(sdk): \(String(describing: seen[sdk]))")
                    #expect(
                        (error?["class"] as? String)?.contains(type) == true, "\(sdk): \(String(describing: seen[sdk]))"
                    )
                    #expect(
                        (error?["message"] as? String)?.contains(
                            "monthly cap of user:\(user.id) exceeded: $0.000001 cap") == true,
                        "\(sdk): \(String(describing: seen[sdk]))")
                }
            }
            // One refusal per SDK: none retried.
            let refused = try await Self.modelCalls(fixture, atLeast: 5).filter { $0.outcome == "cap_exceeded" }
            #expect(refused.count == 5)
        }
    }

    /// 200 concurrent calls on a key whose cap admits 7: exactly 7 are answered, the rest get
    /// OpenAI's 429 with the cap's message and no retry; the ledger has no drift and spend ≤ cap.
    @Test(arguments: TestBackend.allCases)
    func aCapAdmitsExactlyTheCallsItPaysFor(backend: TestBackend) async throws {
        try await ServerFixture.with(backend) { fixture in
            let (user, _) = try await fixture.member("racer@example.com")
            let key = try await fixture.sandboxKey(for: user.id)
            try await TestUpstream.serve { upstream in
                let body = #"{"model":"test/slow","max_tokens":100,"messages":[{"role":"user","content":"go"}]}"#
                // Prices are $1 per million tokens: 1 µ$ per token, so the worst case is bytes + 100.
                let worst = Int64(body.utf8.count) + 100
                let cap = Microdollars(worst * 7)
                try await fixture.store.ledger.setCaps(
                    [CapChange(key: CapKey(scope: try LedgerScope(.user, id: user.id), window: .day), limit: cap)],
                    at: Date(), recording: [])
                try await fixture.application(gateway: upstream.setup).test(.live) { client in
                    let port = try #require(client.port)
                    let replies = try await Self.concurrently(200, ports: [port], key: key, body: body)
                    let answered = replies.filter { $0.status == 200 }
                    let refused = replies.filter { $0.status == 429 }
                    #expect(answered.count == 7)
                    #expect(refused.count == 193)
                    for reply in refused.prefix(3) {
                        let error = try #require(reply.json["error"] as? [String: Any])
                        #expect(error["code"] as? String == "cap_exceeded")
                        #expect(
                            (error["message"] as? String)?.contains("daily cap of user:\(user.id) exceeded") == true)
                        #expect(reply.shouldRetry == "false")
                    }
                    #expect(answered.allSatisfy { $0.headers["agentry-cost-usd"] == "0.00002" })
                }
            }
            // Each answered call is audited with the provider's tokens and their price: 10 + 10 at 1 µ$.
            let calls = try await Self.modelCalls(fixture, atLeast: 200)
            let audited = calls.filter { $0.outcome == "ok" }
            #expect(audited.count == 7)
            #expect(audited.allSatisfy { $0.inputTokens == 10 && $0.outputTokens == 10 && $0.costMicrodollars == 20 })
            #expect(calls.filter { $0.outcome == "cap_exceeded" }.count == 193)
            #expect(try await Ledger(store: fixture.store.ledger, clock: { Date() }).drift().isEmpty)
            let spend = try await fixture.store.ledger.spend(
                SpendQuery(window: .day, scope: try LedgerScope(.user, id: user.id)))
            let settled = spend.map(\.1.settled.value).reduce(0, +)
            #expect(settled == 7 * 20)
        }
    }

    /// Without the caller's max_tokens, the allowance is what the tightest cap still pays for: the
    /// call is answered, cut to that many tokens, instead of refused.
    @Test func aMissingMaxTokensIsFittedToTheBudgetLeft() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            let (user, _) = try await fixture.member("frugal@example.com")
            let key = try await fixture.sandboxKey(for: user.id)
            let body = #"{"model":"test/chat","messages":[{"role":"user","content":"tell me everything"}]}"#
            // 1 µ$ per token: the input is bounded by its bytes, and the cap leaves room for 2 output tokens.
            let cap = Microdollars(Int64(body.utf8.count) + 2)
            try await fixture.store.ledger.setCaps(
                [CapChange(key: CapKey(scope: try LedgerScope(.user, id: user.id), window: .day), limit: cap)],
                at: Date(), recording: [])
            try await TestUpstream.serve { upstream in
                try await fixture.application(gateway: upstream.setup).test(.live) { client in
                    let reply = try await client.call(.post, "/v1/chat/completions", token: key, body: body)
                    #expect(reply.status == .ok, "\(reply.text)")
                    let choice = (reply.json["choices"] as? [[String: Any]])?.first
                    #expect((choice?["message"] as? [String: Any])?["content"] as? String == "Simulated reply")
                    #expect(choice?["finish_reason"] as? String == "length")
                    #expect(reply.headers[HTTPField.Name("agentry-budget-scope")!] == "user:\(user.id)/day")
                    // With max_tokens given, nothing is fitted: the cap refuses the call.
                    let explicit = try await client.call(
                        .post, "/v1/chat/completions", token: key,
                        body: #"{"model":"test/chat","max_tokens":500,"messages":[{"role":"user","content":"x"}]}"#)
                    #expect(explicit.status == .tooManyRequests)
                }
            }
        }
    }

    /// Two gateway instances on one database share the caps: 100 concurrent calls spread over both,
    /// on a cap that admits 5, are answered exactly 5 times in all.
    @Test(arguments: TestBackend.allCases)
    func twoInstancesShareOneCap(backend: TestBackend) async throws {
        try await ServerFixture.with(backend) { fixture in
            let (user, _) = try await fixture.member("twin@example.com")
            let key = try await fixture.sandboxKey(for: user.id)
            try await TestUpstream.serve { upstream in
                let body = #"{"model":"test/slow","max_tokens":100,"messages":[{"role":"user","content":"go"}]}"#
                let cap = Microdollars((Int64(body.utf8.count) + 100) * 5)
                try await fixture.store.ledger.setCaps(
                    [CapChange(key: CapKey(scope: try LedgerScope(.user, id: user.id), window: .day), limit: cap)],
                    at: Date(), recording: [])
                try await fixture.application(gateway: upstream.setup).test(.live) { first in
                    try await fixture.application(gateway: upstream.setup).test(.live) { second in
                        let ports = [try #require(first.port), try #require(second.port)]
                        let replies = try await Self.concurrently(100, ports: ports, key: key, body: body)
                        #expect(replies.filter { $0.status == 200 }.count == 5)
                        #expect(replies.filter { $0.status == 429 }.count == 95)
                    }
                }
            }
            #expect(try await Ledger(store: fixture.store.ledger, clock: { Date() }).drift().isEmpty)
            let spend = try await fixture.store.ledger.spend(
                SpendQuery(window: .day, scope: try LedgerScope(.user, id: user.id)))
            #expect(spend.map(\.1.settled.value).reduce(0, +) == 5 * 20)
        }
    }

    /// A provider that ignores max_tokens is cut when it passes the allowance the reservation paid
    /// for; the caller gets a cleanly ended stream and the call is charged for what was delivered.
    @Test func aStreamOverItsAllowanceIsCutAndCharged() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            let (user, _) = try await fixture.member("streamer@example.com")
            let key = try await fixture.sandboxKey(for: user.id)
            try await TestUpstream.serve { upstream in
                try await fixture.application(gateway: upstream.setup).test(.live) { client in
                    let body =
                        #"{"model":"test/runaway","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"go"}]}"#
                    let reply = try await client.call(
                        .post, "/v1/chat/completions", token: key, body: body)
                    #expect(reply.status == .ok)
                    let events = reply.text.components(separatedBy: "\n\n").filter { $0.hasPrefix("data: ") }
                    let deltas = events.filter { $0.contains(#""content":"w"#) }
                    #expect(deltas.count == 5, "\(reply.text)")
                    #expect(events.last == "data: [DONE]")
                    #expect(reply.text.contains(#""finish_reason":"length""#))
                    #expect(reply.headers[HTTPField.Name("agentry-reserved-usd")!] != nil)
                    // In Anthropic's format the cut stream still closes its block, then the message.
                    let claude = try await client.call(
                        .post, "/v1/messages",
                        body:
                            #"{"model":"test/runaway-claude","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"go"}]}"#,
                        headers: [HTTPField.Name("x-api-key")!: key])
                    let names = claude.text.components(separatedBy: "\n").filter { $0.hasPrefix("event: ") }
                    #expect(names.filter { $0 == "event: content_block_delta" }.count == 5, "\(claude.text)")
                    #expect(
                        Array(names.suffix(3)) == [
                            "event: content_block_stop", "event: message_delta", "event: message_stop",
                        ])
                    #expect(claude.text.contains(#""stop_reason":"max_tokens""#))
                }
            }
            let calls = try await Self.modelCalls(fixture, atLeast: 2)
            #expect(calls.map(\.outcome) == ["cut", "cut"])
            #expect(calls.map(\.outputTokens) == [5, 5])
            let spend = try await fixture.store.ledger.spend(
                SpendQuery(window: .day, scope: try LedgerScope(.user, id: user.id)))
            #expect(spend.map(\.1.settled.value).reduce(0, +) == calls.compactMap(\.costMicrodollars).reduce(0, +))
            #expect(spend.allSatisfy { $0.1.reserved == .zero })
        }
    }

    /// A caller that goes away mid-stream is charged for what was delivered, and the provider's
    /// stream is closed rather than read to its end.
    @Test func aStreamTheCallerCutsIsChargedForWhatWasDelivered() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            let (user, _) = try await fixture.member("impatient@example.com")
            let key = try await fixture.sandboxKey(for: user.id)
            try await TestUpstream.serve { upstream in
                try await fixture.application(gateway: upstream.setup).test(.live) { client in
                    let port = try #require(client.port)
                    let http = HTTPClient(eventLoopGroupProvider: .singleton)
                    var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/chat/completions")
                    request.method = .POST
                    request.headers.add(name: "authorization", value: "Bearer \(key)")
                    request.body = .bytes(
                        ByteBuffer(
                            string:
                                #"{"model":"test/slowstream","stream":true,"messages":[{"role":"user","content":"go"}]}"#
                        ))
                    var seen = ""
                    do {
                        let response = try await http.execute(request, timeout: .seconds(30))
                        #expect(response.status == .ok)
                        for try await buffer in response.body {
                            seen += String(buffer: buffer)
                            if seen.components(separatedBy: #""content":"w"#).count > 3 { break }
                        }
                    } catch {
                        Issue.record("the stream failed before it was cut: \(error)")
                    }
                    try await http.shutdown()
                }
            }
            let call = try #require(try await Self.modelCalls(fixture, atLeast: 1).last)
            #expect(call.outcome == "client_closed")
            #expect((call.outputTokens ?? 0) >= 3 && (call.outputTokens ?? 99) < 40, "\(call)")
            let spend = try await fixture.store.ledger.spend(
                SpendQuery(window: .day, scope: try LedgerScope(.user, id: user.id)))
            #expect(spend.map(\.1.settled.value).reduce(0, +) == call.costMicrodollars)
            #expect(spend.allSatisfy { $0.1.reserved == .zero })
        }
    }

    /// Bad input and failing providers get each vendor's error shape with the right status; a
    /// failed call's reservation is released; the org's provider key reaches the provider and
    /// nothing else: not a response, a log line or the audit log.
    @Test func badInputAndFailingProvidersGetClearErrors() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            let (user, pat) = try await fixture.member("careless@example.com")
            let key = try await fixture.sandboxKey(for: user.id)
            let bodies = TextLog()
            try await TestUpstream.serve { upstream in
                try await fixture.application(gateway: upstream.setup).test(.live) { client in
                    func chat(_ body: String, token: String? = key, headers: HTTPFields = [:]) async throws -> JSONReply
                    {
                        let reply = try await client.call(
                            .post, "/v1/chat/completions", token: token, body: body, headers: headers)
                        bodies.append(reply.text)
                        return reply
                    }
                    func message(_ model: String) -> String {
                        #"{"model":"\#(model)","messages":[{"role":"user","content":"hi"}]}"#
                    }
                    func expectOpenAI(
                        _ reply: JSONReply, _ status: HTTPResponse.Status, _ code: String,
                        sourceLocation: SourceLocation = #_sourceLocation
                    ) {
                        #expect(reply.status == status, "\(reply.text)", sourceLocation: sourceLocation)
                        let error = reply.json["error"] as? [String: Any]
                        #expect(error?["code"] as? String == code, "\(reply.text)", sourceLocation: sourceLocation)
                        #expect((error?["message"] as? String)?.isEmpty == false, sourceLocation: sourceLocation)
                        #expect(error?["type"] is String, sourceLocation: sourceLocation)
                    }
                    expectOpenAI(try await chat("{not json"), .badRequest, "invalid_request")
                    expectOpenAI(try await chat(#"{"model":"test/chat"}"#), .badRequest, "invalid_request")
                    expectOpenAI(
                        try await chat(#"{"model":"test/chat","messages":[{"role":"wizard","content":"x"}]}"#),
                        .badRequest, "invalid_request")
                    expectOpenAI(try await chat(message("test/chat"), token: nil), .unauthorized, "missing_key")
                    expectOpenAI(
                        try await chat(message("test/chat"), token: "agt_sandbox_wrong"), .unauthorized, "invalid_token"
                    )
                    expectOpenAI(try await chat(message("test/chat"), token: pat), .unauthorized, "wrong_token_kind")
                    expectOpenAI(try await chat(message("gpt-nope")), .notFound, "model_not_found")
                    expectOpenAI(try await chat(message("test/catalog-only")), .forbidden, "model_not_allowed")
                    expectOpenAI(
                        try await chat(
                            message("test/chat"),
                            headers: [HTTPField.Name("agentry-data-classification")!: "restricted"]),
                        .forbidden, "model_not_allowed")
                    expectOpenAI(
                        try await chat(
                            message("test/chat"), headers: [HTTPField.Name("agentry-data-classification")!: "secret"]),
                        .badRequest, "invalid_request")
                    expectOpenAI(
                        try await chat(
                            #"{"model":"test/chat","max_tokens":1001,"messages":[{"role":"user","content":"x"}]}"#),
                        .badRequest, "invalid_request")
                    let huge = String(repeating: "a", count: 9 << 20)
                    expectOpenAI(
                        try await chat(#"{"model":"test/chat","messages":[{"role":"user","content":"\#(huge)"}]}"#),
                        .contentTooLarge, "request_too_large")
                    expectOpenAI(try await chat(message("test/fail")), .badGateway, "upstream_error")
                    expectOpenAI(try await chat(message("test/broken")), .badGateway, "upstream_malformed")
                    expectOpenAI(try await chat(message("test/hang")), .gatewayTimeout, "upstream_timeout")
                    // The simulator's configurable latency: a model name ending in @<n>ms answers that late.
                    expectOpenAI(try await chat(message("test/slow-simulator")), .gatewayTimeout, "upstream_timeout")
                    expectOpenAI(try await chat(message("test/nowhere")), .badGateway, "upstream_unreachable")
                    // Anthropic's and Gemini's shapes for the same kinds of refusal.
                    let anthropic = try await client.call(
                        .post, "/v1/messages", body: message("gpt-nope"), headers: [HTTPField.Name("x-api-key")!: key])
                    bodies.append(anthropic.text)
                    #expect(anthropic.status == .notFound)
                    #expect(anthropic.json["type"] as? String == "error")
                    #expect((anthropic.json["error"] as? [String: Any])?["type"] as? String == "not_found_error")
                    let gemini = try await client.call(
                        .post, "/v1beta/models/test/chat:generateContent?key=\(key)", body: #"{"contents":"nope"}"#)
                    bodies.append(gemini.text)
                    #expect(gemini.status == .badRequest)
                    #expect((gemini.json["error"] as? [String: Any])?["status"] as? String == "INVALID_ARGUMENT")
                    let ok = try await chat(message("test/chat"))
                    #expect(ok.status == .ok, "\(ok.text)")
                }
                #expect(upstream.keysSeen.contains("Bearer \(TestUpstream.secret)"))
            }
            // Failed calls hold nothing and cost nothing; only the one answered call is charged.
            let spend = try await fixture.store.ledger.spend(
                SpendQuery(window: .day, scope: try LedgerScope(.user, id: user.id)))
            #expect(spend.allSatisfy { $0.1.reserved == .zero })
            let calls = try await Self.modelCalls(fixture, atLeast: 1)
            #expect(spend.map(\.1.settled.value).reduce(0, +) == calls.compactMap(\.costMicrodollars).reduce(0, +))
            #expect(Set(calls.compactMap(\.outcome)).isSuperset(of: ["ok", "upstream_error", "upstream_timeout"]))
            // The provider's key appears nowhere but in the upstream request.
            let audit = try await fixture.store.audit.records(from: 0, count: 10_000).map {
                String(decoding: $0.leaf, as: UTF8.self)
            }
            let payloads = try await fixture.store.audit.payloads(from: 0, count: 10_000).map {
                String(decoding: $0.payload.bytes, as: UTF8.self)
            }
            for text in bodies.values + fixture.logs.lines + audit + payloads {
                #expect(!text.contains(TestUpstream.secret), "the provider key leaked: \(text.prefix(200))")
            }
        }
    }

    // MARK: - Helpers

    /// The `model.call` events in the audit log, waiting (a stream is audited after its last byte)
    /// until there are at least `count`.
    static func modelCalls(_ fixture: ServerFixture, atLeast count: Int) async throws -> [AuditEvent] {
        for _ in 0..<100 {
            let size = try await fixture.store.audit.size()
            let events = try await fixture.store.audit.records(from: 0, count: Int(size)).map { try $0.event() }
                .filter { $0.kind == .modelCall }
            if events.count >= count { return events }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw VendorSDK.Failure(description: "fewer than \(count) model.call events were audited")
    }

    /// A reply read by AsyncHTTPClient.
    struct Reply: Sendable {
        let status: Int
        let headers: [String: String]
        let text: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:] }
        var shouldRetry: String? { headers["x-should-retry"] }
    }

    /// Sends `count` chat calls at once, spread over the servers on `ports` in turn.
    static func concurrently(_ count: Int, ports: [Int], key: String, body: String) async throws -> [Reply] {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(
            idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: count)
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let replies = try await withThrowingTaskGroup(of: Reply.self) { group in
                for index in 0..<count {
                    let port = ports[index % ports.count]
                    group.addTask {
                        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/chat/completions")
                        request.method = .POST
                        request.headers.add(name: "authorization", value: "Bearer \(key)")
                        request.headers.add(name: "content-type", value: "application/json")
                        request.body = .bytes(ByteBuffer(string: body))
                        let response = try await http.execute(request, timeout: .seconds(60))
                        let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
                        var headers: [String: String] = [:]
                        for header in response.headers { headers[header.name.lowercased()] = header.value }
                        return Reply(status: Int(response.status.code), headers: headers, text: text)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            try await http.shutdown()
            return replies
        } catch {
            try? await http.shutdown()
            throw error
        }
    }
}
