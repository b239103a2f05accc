import AgentryAudit
import Foundation
import Testing

/// The outbox's text form of an audit entry: exact round trips, and refusal of anything else.
@Suite("Outbox bodies")
struct OutboxBodyTests {
    static let entry = AuditAppend(
        event: AuditEvent(time: 1_790_000_000_000, kind: .toolCall, actor: "usr_1", run: "run_7", tool: "slack.post"),
        payloads: [
            AuditPayload(name: "arguments", bytes: Array(##"{"channel":"#ops"}"##.utf8)),
            AuditPayload(name: "result", bytes: []),
        ])

    @Test func entriesRoundTripWithTheirPayloadsAndSalts() throws {
        let body = try Self.entry.outboxBody()
        let decoded = try AuditAppend(outboxBody: body, outboxID: "obx_1")
        #expect(decoded.event == Self.entry.event)
        #expect(decoded.payloads == Self.entry.payloads)
        #expect(decoded.outboxID == "obx_1")
        let plain = try AuditAppend(outboxBody: try AuditAppend(event: Self.entry.event).outboxBody(), outboxID: "x")
        #expect(plain.payloads.isEmpty)
    }

    @Test func malformedBodiesAreRefused() throws {
        let body = try Self.entry.outboxBody()
        let salt = String(repeating: "ab", count: 32)
        let bad = [
            "", "--\n", body.replacingFirst("--\n", with: ""), body + "extra\n",
            body.replacingFirst("agentry-audit/v1", with: "agentry-audit/v9"),
            try AuditAppend(event: Self.entry.event).outboxBody() + "input \(salt) aGk=\n",
            try AuditAppend(event: Self.entry.event).outboxBody() + "input abcd aGk=\n",
            try AuditAppend(event: Self.entry.event).outboxBody() + "input \(salt) not-base64!\n",
            String(body.dropLast()),
        ]
        for text in bad {
            #expect(throws: AuditEncodingError.self, "\(text.debugDescription)") {
                try AuditAppend(outboxBody: text, outboxID: "obx_1")
            }
        }
    }
}
