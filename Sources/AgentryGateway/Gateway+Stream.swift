import AsyncHTTPClient
import NIOCore

extension Gateway {
    /// Relays a provider's stream to the caller while metering it; ends it cleanly when the
    /// provider overruns the paid-for allowance; settles and audits whatever happens.
    func relay(
        _ response: HTTPClientResponse, record: CallRecord, model: CatalogModel, hold: Hold, inbound: any ChatDialect,
        outbound: any ChatDialect, sameDialect: Bool, includeUsage: Bool,
        write: @escaping @Sendable ([UInt8]) async throws -> Void
    ) async {
        var record = record
        var parser = ServerSentEventParser()
        var decoder = outbound.streamDecoder()
        var encoder = inbound.streamEncoder(model: model.name, includeUsage: includeUsage)
        var meter = StreamMeter(inputBound: Int64(record.input.count), allowance: hold.maxTokens)
        var delivered: [UInt8] = []
        var outcome = "ok"
        struct CallerGone: Error {}
        func deliver(_ bytes: [UInt8]) async throws {
            guard !bytes.isEmpty else { return }
            do { try await write(bytes) } catch { throw CallerGone() }
            if delivered.count < ProviderClient.replyBytesMax { delivered += bytes }
        }
        do {
            reading: for try await buffer in response.body {
                for (event, raw) in try parser.feed(buffer.readableBytesView) {
                    let events = try decoder.decode(event)
                    for item in events { meter.observe(item) }
                    if meter.overrun {
                        outcome = "cut"
                        break reading
                    }
                    if sameDialect {
                        // The raw events go through; the encoder follows them, to end a cut stream well.
                        for item in events { encoder.observe(item) }
                        if !decoder.suppressed(event, callerAskedForUsage: includeUsage) { try await deliver(raw) }
                    } else {
                        for item in events { try await deliver(encoder.encode(item)) }
                    }
                }
            }
            if outcome == "cut" { try await deliver(encoder.encode(.finish(.length))) }
            if !sameDialect || outcome != "ok" { try await deliver(encoder.end(usage: meter.usage)) }
        } catch let error as GatewayError {
            outcome = error.code
        } catch is CallerGone {
            // A stream the caller cut is still charged for what was delivered.
            outcome = "client_closed"
        } catch {
            outcome = "upstream_broken"
        }
        record.output = delivered
        _ = try? await settle(&record, usage: meter.usage, model: model, outcome: outcome)
    }
}
