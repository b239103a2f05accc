/// One server-sent event: its `event:` name (if any) and its `data:` lines joined by newlines.
public struct ServerSentEvent: Sendable, Equatable {
    public var name: String?
    public var data: String

    /// An event.
    public init(name: String?, data: String) {
        self.name = name
        self.data = data
    }

    /// The event as wire text, ending with the blank line.
    public var wire: String {
        var text = ""
        if let name { text += "event: \(name)\n" }
        for line in data.split(separator: "\n", omittingEmptySubsequences: false) { text += "data: \(line)\n" }
        return text + "\n"
    }
}

/// Cuts a byte stream of server-sent events (text/event-stream) into events as bytes arrive,
/// keeping each event's raw bytes so a same-dialect stream can be forwarded unchanged.
public struct ServerSentEventParser: Sendable {
    private var buffer: [UInt8] = []
    /// The longest event accepted: a provider that never ends an event cannot grow memory forever.
    public static let eventBytesMax = 4 << 20

    /// A parser with nothing buffered.
    public init() {}

    /// The events completed by `bytes`, each with its raw bytes (including the blank line).
    public mutating func feed(_ bytes: some Collection<UInt8>) throws(GatewayError) -> [(
        event: ServerSentEvent, raw: [UInt8]
    )] {
        buffer.append(contentsOf: bytes)
        var events: [(ServerSentEvent, [UInt8])] = []
        var start = 0
        var index = 0
        while index < buffer.count {
            // An event ends at a blank line: "\n\n" or "\r\n\r\n" (a lone "\r" is treated as text).
            if buffer[index] == UInt8(ascii: "\n") {
                let next = index + 1
                if next < buffer.count, buffer[next] == UInt8(ascii: "\n") {
                    events.append(Self.event(Array(buffer[start...next])))
                    start = next + 1
                    index = start
                    continue
                }
                if next + 1 < buffer.count, buffer[next] == UInt8(ascii: "\r"), buffer[next + 1] == UInt8(ascii: "\n") {
                    events.append(Self.event(Array(buffer[start...(next + 1)])))
                    start = next + 2
                    index = start
                    continue
                }
            }
            index += 1
        }
        buffer.removeFirst(start)
        guard buffer.count <= Self.eventBytesMax else {
            throw GatewayError(.upstream, code: "upstream_malformed", "the provider sent an event over 4 MiB")
        }
        return events.filter { !$0.0.data.isEmpty || $0.0.name != nil }
    }

    /// Whether bytes of an unfinished event are left over.
    public var hasPartialEvent: Bool { buffer.contains { $0 != UInt8(ascii: "\n") && $0 != UInt8(ascii: "\r") } }

    private static func event(_ raw: [UInt8]) -> (ServerSentEvent, [UInt8]) {
        var name: String?
        var data: [String] = []
        for line in String(decoding: raw, as: UTF8.self).split(
            omittingEmptySubsequences: true,
            whereSeparator: {
                $0 == "\n" || $0 == "\r\n" || $0 == "\r"
            })
        {
            if line.hasPrefix(":") { continue }
            let (field, value) = split(line)
            switch field {
            case "event": name = value
            case "data": data.append(value)
            default: continue
            }
        }
        return (ServerSentEvent(name: name, data: data.joined(separator: "\n")), raw)
    }

    private static func split(_ line: Substring) -> (String, String) {
        guard let colon = line.firstIndex(of: ":") else { return (String(line), "") }
        var value = line[line.index(after: colon)...]
        if value.first == " " { value = value.dropFirst() }
        return (String(line[..<colon]), String(value))
    }
}
