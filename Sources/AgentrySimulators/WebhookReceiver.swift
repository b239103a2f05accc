import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOFoundationCompat
import Synchronization

/// A receiver of outgoing webhooks, as an org's own service would be: `POST /receive` checks the
/// `agentry-signature` header (`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` keyed with
/// the shared secret, at most five minutes old) and answers 401 when it does not hold, else 200
/// with `{"received": true, "id"}`; `GET /deliveries` lists what arrived, verified or not.
public final class WebhookReceiver: Sendable {
    private let secret: String
    private let deliveries = Mutex<[[String: Any]]>([])

    /// A receiver sharing `secret` with the sender.
    public init(secret: String) {
        self.secret = secret
    }

    /// The receiver's routes, added to `router`.
    public func register<Routes: RouterMethods>(on router: Routes) {
        router.post("receive") { request, _ in
            let body = Array(buffer: try await request.body.collect(upTo: SimulatorJSON.bodyBytesMax))
            let verified =
                request.headers[HTTPField.Name("agentry-signature")!].map {
                    self.verify($0, body: body, now: Int64(Date().timeIntervalSince1970))
                } ?? false
            let id = request.headers[HTTPField.Name("agentry-webhook-id")!] ?? ""
            self.deliveries.withLock {
                $0.append(["id": id, "verified": verified, "body": String(decoding: body, as: UTF8.self)])
            }
            guard verified else {
                return try SimulatorJSON.response(["received": false, "error": "bad signature"], status: .unauthorized)
            }
            return try SimulatorJSON.response(["received": true, "id": id])
        }
        router.get("deliveries") { _, _ in try SimulatorJSON.response(["deliveries": self.deliveries.withLock { $0 }]) }
    }

    private func verify(_ header: String, body: [UInt8], now: Int64) -> Bool {
        var time: Int64?
        var signature: String?
        for part in header.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { return false }
            if pair[0] == "t" { time = Int64(pair[1]) } else if pair[0] == "v1" { signature = pair[1] }
        }
        guard let time, let signature, abs(now - time) <= 300 else { return false }
        var message = Array("\(time).".utf8)
        message.append(contentsOf: body)
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Array(secret.utf8)))
        let expected = mac.map { String(format: "%02x", $0) }.joined()
        return expected.utf8.count == signature.utf8.count
            && zip(expected.utf8, signature.utf8).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
