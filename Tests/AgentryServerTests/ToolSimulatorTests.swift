import AgentryGateway
import AgentryTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import AgentryServer

/// The tool simulators against their vendors' own clients: `slack_sdk`, `google-api-python-client`,
/// `hubspot-api-client` and `simple-salesforce` (Salesforce publishes no Python SDK of its own).
@Suite("Tool simulators")
struct ToolSimulatorTests {
    @Test func theSlackSimulatorIsReadByTheOfficialSlackSDK() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            try await fixture.application().test(.live) { client in
                let port = try #require(client.port)
                let seen = try await VendorSDK.run(
                    "slack_check.py", ["http://127.0.0.1:\(port)/_simulators/slack/api/"])
                #expect(seen["channels"] as? [String] == ["general", "support", "finance"], "\(seen)")
                #expect(seen["posted"] as? String == "Hello from slack_sdk", "\(seen)")
                #expect(seen["history_first"] as? String == "Hello from slack_sdk", "\(seen)")
                #expect(seen["missing_channel_error"] as? String == "channel_not_found", "\(seen)")
                #expect(seen["bad_token_error"] as? String == "invalid_auth", "\(seen)")
                #expect(seen["paged"] as? [String] == ["general", "support", "finance"], "\(seen)")
            }
        }
    }

    @Test func theDriveHubSpotAndSalesforceSimulatorsAreReadByTheirClients() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            try await fixture.application().test(.live) { client in
                let root = "http://127.0.0.1:\(try #require(client.port))/_simulators"
                let drive = try await VendorSDK.run("drive_check.py", [root + "/google/drive/v3/"])
                #expect(drive["found"] as? [String] == ["Q4 budget notes"], "\(drive)")
                #expect(
                    drive["paged"] as? [String] == [
                        "1AbcDocQ4Budget", "1AbcSheetTeams", "1AbcTxtReadme", "1AbcPdfPolicy",
                    ])
                #expect(drive["content"] as? String == "Shared drive for the finance team.\n", "\(drive)")
                #expect((drive["exported"] as? String)?.hasPrefix("team,lead") == true, "\(drive)")
                #expect(
                    drive["missing"] as? String == "notFound"
                        && drive["not_downloadable"] as? String == "fileNotDownloadable")
                #expect(drive["bad_query"] as? String == "invalid", "\(drive)")
                let hubspot = try await VendorSDK.run("hubspot_check.py", [root + "/hubspot"])
                #expect(
                    hubspot["total"] as? Int == 2
                        && hubspot["emails"] as? [String] == ["ada@example.com", "alan@example.com"], "\(hubspot)")
                #expect(
                    hubspot["read"] as? String == "grace@example.com"
                        && hubspot["missing"] as? String == "OBJECT_NOT_FOUND")
                #expect(hubspot["note"] as? String == "Called about renewal", "\(hubspot)")
                #expect(hubspot["unauthenticated"] as? String == "INVALID_AUTHENTICATION", "\(hubspot)")
                let salesforce = try await VendorSDK.run("salesforce_check.py", [root + "/salesforce"])
                #expect(salesforce["hot"] as? [String] == ["Analytical Engines"], "\(salesforce)")
                #expect(salesforce["after_update"] as? [String] == ["Analytical Engines", "Difference Works"])
                #expect(salesforce["contact"] as? String == "ada@example.com")
                #expect(
                    salesforce["malformed"] as? String == "MALFORMED_QUERY"
                        && salesforce["bad_field"] as? String == "INVALID_FIELD", "\(salesforce)")
                #expect(
                    salesforce["missing"] as? String == "NOT_FOUND"
                        && salesforce["expired"] as? String == "INVALID_SESSION_ID", "\(salesforce)")
            }
        }
    }

    @Test func theSimulatorsCanBeTurnedOff() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            let (user, _) = try await fixture.member("builder@example.com")
            let key = try await fixture.sandboxKey(for: user.id)
            var configuration = ServerFixture.configuration
            configuration.simulators = false
            try await fixture.application(configuration: configuration).test(.live) { client in
                #expect(try await client.call(.get, "/_simulators/webhooks/deliveries").status == .notFound)
                let call = try await client.call(.post, "/v1/tools/sim-slack/list_channels", token: key, body: "{}")
                #expect(call.status == .notFound, "\(call.text)")
                #expect((call.json["error"] as? [String: Any])?["code"] as? String == "upstream_not_found")
            }
        }
    }
}
