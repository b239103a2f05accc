import AgentryGateway
import Foundation

/// Why a run ended without an output, in the words its status and error take.
public struct RunFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// Which final status the failure gives the run.
    public enum Kind: String, Sendable {
        case failed
        case capExceeded = "cap_exceeded"
        case timedOut = "timed_out"
        case cancelled
    }

    public let kind: Kind
    /// A sentence for people: what stopped the run.
    public let message: String

    /// A failure of `kind`.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// The failure a gateway error means for the run that made the call.
    public init(_ error: GatewayError) {
        self.init(error.kind == .capExceeded ? .capExceeded : .failed, "\(error.code): \(error.message)")
    }

    public var description: String { "\(kind.rawValue): \(message)" }
}

/// What a declarative agent is: its prompt, model, tools and step limit (from its manifest).
public struct DeclarativeAgent: Sendable, Equatable {
    public let systemPrompt: String
    public let model: String
    public let tools: [String]
    public let maxSteps: Int

    /// An agent as its manifest declares it.
    public init(systemPrompt: String, model: String, tools: [String], maxSteps: Int) {
        self.systemPrompt = systemPrompt
        self.model = model
        self.tools = tools
        self.maxSteps = maxSteps
    }
}

/// Agentry's own tool-calling loop for declarative agents. Every model call goes through the
/// model gateway and every tool call through the tool gateway, in-process but on the same path
/// as any SDK's call: the run token's caller is checked, reserved, settled and audited the same way.
public struct DeclarativeLoop: Sendable {
    /// Between a tool's and an operation's name in the function names the model sees.
    public static let functionSeparator = "__"
    /// The most characters of a tool's result given back to the model.
    static let toolResultCharacters = 16_384

    let gateway: Gateway
    let tools: ToolGateway

    /// A loop over these gateways.
    public init(gateway: Gateway, tools: ToolGateway) {
        self.gateway = gateway
        self.tools = tools
    }

    /// Runs `agent` on `inputs` as `caller` and returns its output (`{"text": …}`). `emit` sees each
    /// step, model call and tool call as it happens.
    public func run(
        _ agent: DeclarativeAgent, inputs: [String: JSONValue], caller: GatewayCaller, runID: String,
        emit: @Sendable (String, JSONValue) async -> Void
    ) async throws(RunFailure) -> JSONValue {
        let functions = functions(for: agent, caller: caller)
        var messages: [JSONValue] = [
            ["role": "system", "content": .string(agent.systemPrompt)],
            ["role": "user", "content": .string(Self.prompt(from: inputs))],
        ]
        for step in 1...max(agent.maxSteps, 1) {
            guard !Task.isCancelled else { throw RunFailure(.cancelled, "the run was cancelled") }
            await emit("step", ["step": .int(Int64(step))])
            var body: [String: JSONValue] = ["model": .string(agent.model), "messages": .array(messages)]
            if !functions.isEmpty { body["tools"] = .array(functions) }
            let reply: [UInt8]
            let cost: String?
            do {
                let answer = try await gateway.chat(
                    InboundCall(dialect: .openai, body: JSONValue.object(body).bytes, requestID: "\(runID).\(step)"),
                    caller: caller)
                guard case .complete(let bytes, let headers) = answer else {
                    throw RunFailure(.failed, "the model gateway streamed a reply that was not asked for")
                }
                (reply, cost) = (bytes, headers.first { $0.0 == "agentry-cost-usd" }?.1)
            } catch let error as GatewayError {
                throw RunFailure(error)
            } catch let failure as RunFailure {
                throw failure
            } catch {
                throw RunFailure(.failed, "the model call failed: \(error)")
            }
            guard let message = JSONValue.parse(reply)?["choices"]?.array?.first?["message"] else {
                throw RunFailure(.failed, "the model's reply has no message")
            }
            let calls = message["tool_calls"]?.array ?? []
            await emit(
                "model.call",
                ["model": .string(agent.model), "cost_usd": .optional(cost), "tool_calls": .int(Int64(calls.count))])
            guard !calls.isEmpty else {
                return ["text": .string(message["content"]?.string ?? "")]
            }
            messages.append(message)
            for call in calls {
                messages.append(try await self.call(call, caller: caller, runID: runID, step: step, emit: emit))
            }
        }
        throw RunFailure(.failed, "the agent used all its \(agent.maxSteps) steps without answering")
    }

    /// The tool message answering one of the model's tool calls; errors are shown to the model,
    /// except a spent cap, which ends the run.
    private func call(
        _ call: JSONValue, caller: GatewayCaller, runID: String, step: Int,
        emit: @Sendable (String, JSONValue) async -> Void
    ) async throws(RunFailure) -> JSONValue {
        let id = call["id"]?.string ?? "call"
        let name = call["function"]?["name"]?.string ?? ""
        let arguments = call["function"]?["arguments"]?.string.flatMap { JSONValue.parse(Array($0.utf8)) }
        let content: String
        if let split = name.range(of: Self.functionSeparator) {
            let object = arguments?.object ?? [:]
            let (tool, operation) = (String(name[..<split.lowerBound]), String(name[split.upperBound...]))
            do {
                let reply = try await tools.call(
                    ToolInvocation(
                        tool: tool, operation: operation, arguments: object, requestID: "\(runID).\(step).\(id)"),
                    caller: caller)
                let body = JSONValue.parse(reply.body)
                content = String((body?["result"]?.text ?? "").prefix(Self.toolResultCharacters))
                await emit(
                    "tool.call",
                    [
                        "tool": .string(tool), "operation": .string(operation), "outcome": "ok",
                        "cost_usd": .optional(reply.headers.first { $0.0 == "agentry-cost-usd" }?.1),
                    ])
            } catch {
                await emit(
                    "tool.call",
                    ["tool": .string(tool), "operation": .string(operation), "outcome": .string(error.code)])
                if error.kind == .capExceeded { throw RunFailure(error) }
                content = "error \(error.code): \(error.message)"
            }
        } else {
            content = "error: no function named '\(name)' (names are <tool>\(Self.functionSeparator)<operation>)"
        }
        return ["role": "tool", "tool_call_id": .string(id), "content": .string(content)]
    }

    /// The functions the model is offered: each operation the agent's tools allow this caller.
    func functions(for agent: DeclarativeAgent, caller: GatewayCaller) -> [JSONValue] {
        tools.tools(for: caller).filter { agent.tools.contains($0.tool.name) }.flatMap { tool, operations in
            operations.map { operation in
                [
                    "type": "function",
                    "function": [
                        "name": .string(tool.name + Self.functionSeparator + operation.name),
                        "description": .string(operation.summary(of: tool)),
                        "parameters": operation.argumentSchema,
                    ],
                ] as JSONValue
            }
        }
    }

    /// The user's message: the one input's text, or one `name: value` line per input.
    static func prompt(from inputs: [String: JSONValue]) -> String {
        if inputs.count == 1, let only = inputs.values.first?.string { return only }
        return inputs.keys.sorted().map { "\($0): \(inputs[$0]?.string ?? inputs[$0]?.text ?? "")" }
            .joined(separator: "\n")
    }
}
