/// The gateway's one canonical form of a chat call. Every inbound dialect is read into it and
/// every provider's dialect is written from it, so any SDK can reach any model.
public struct ChatRequest: Sendable, Equatable {
    /// The public model name the caller asked for.
    public var model: String
    /// The system prompt, if any.
    public var system: String?
    /// The conversation.
    public var messages: [ChatMessage]
    /// The most output tokens the caller allows; the gateway fills it in when absent.
    public var maxTokens: Int64?
    public var temperature: Double?
    public var topP: Double?
    /// Texts that end the reply.
    public var stop: [String]
    /// Functions the model may call.
    public var tools: [ChatTool]
    public var toolChoice: ToolChoice
    /// Whether the reply must be a JSON object.
    public var jsonMode: Bool
    /// Whether the reply is streamed.
    public var stream: Bool

    /// A request; fields not given take their neutral values.
    public init(
        model: String, system: String? = nil, messages: [ChatMessage], maxTokens: Int64? = nil,
        temperature: Double? = nil, topP: Double? = nil, stop: [String] = [], tools: [ChatTool] = [],
        toolChoice: ToolChoice = .auto, jsonMode: Bool = false, stream: Bool = false
    ) {
        self.model = model
        self.system = system
        self.messages = messages
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.topP = topP
        self.stop = stop
        self.tools = tools
        self.toolChoice = toolChoice
        self.jsonMode = jsonMode
        self.stream = stream
    }
}

/// One turn of a conversation.
public struct ChatMessage: Sendable, Equatable {
    /// Who speaks.
    public enum Role: String, Sendable {
        case user
        case assistant
        /// The result of a tool call, answering `toolCallID`.
        case tool
    }

    public var role: Role
    /// The text (several text parts are joined).
    public var text: String
    /// Calls an assistant turn made.
    public var toolCalls: [ToolCall]
    /// For a tool result: the call it answers, and that call's function name.
    public var toolCallID: String?
    public var toolName: String?

    /// A message.
    public init(
        role: Role, text: String, toolCalls: [ToolCall] = [], toolCallID: String? = nil, toolName: String? = nil
    ) {
        self.role = role
        self.text = text
        self.toolCalls = toolCalls
        self.toolCallID = toolCallID
        self.toolName = toolName
    }
}

/// A function call a model made.
public struct ToolCall: Sendable, Equatable {
    public var id: String
    public var name: String
    /// The arguments as JSON text.
    public var arguments: String

    /// A call.
    public init(id: String, name: String, arguments: String) {
        self.id = id
        self.name = name
        self.arguments = arguments
    }
}

/// A function the model may call.
public struct ChatTool: Sendable, Equatable {
    public var name: String
    public var description: String?
    /// Its parameters as a JSON Schema object.
    public var parameters: JSONValue

    /// A tool.
    public init(name: String, description: String?, parameters: JSONValue) {
        self.name = name
        self.description = description
        self.parameters = parameters
    }
}

/// Whether and which tool the model must call.
public enum ToolChoice: Sendable, Equatable {
    case auto
    case none
    /// Some tool.
    case required
    /// This tool.
    case named(String)
}

/// Why a reply ended.
public enum FinishReason: String, Sendable, Equatable {
    case stop
    /// The output allowance was used up.
    case length
    case toolCalls
    case contentFilter
}

/// A whole reply.
public struct ChatResponse: Sendable, Equatable {
    /// The provider's id of the reply.
    public var id: String
    public var text: String?
    public var toolCalls: [ToolCall]
    public var finish: FinishReason
    public var usage: TokenUsage

    /// A reply.
    public init(id: String, text: String?, toolCalls: [ToolCall], finish: FinishReason, usage: TokenUsage) {
        self.id = id
        self.text = text
        self.toolCalls = toolCalls
        self.finish = finish
        self.usage = usage
    }
}

/// One step of a streamed reply, in the canonical form.
public enum ChatStreamEvent: Sendable, Equatable {
    /// The reply started; `inputTokens` when the provider says so up front.
    case start(id: String, inputTokens: Int64?)
    /// More text.
    case text(String)
    /// A tool call began (calls are numbered from 0 in order).
    case toolCall(index: Int, id: String, name: String)
    /// More of a tool call's argument text.
    case toolArguments(index: Int, String)
    /// The reply ended.
    case finish(FinishReason)
    /// The token counts so far (the last one seen is the call's usage).
    case usage(TokenUsage)
}
