import AgentryServer
import Testing

@Suite("Configuration")
struct ConfigurationTests {
    @Test func defaultsNeedNothing() throws {
        let configuration = try ConfigurationLoader.resolve(fileText: nil, environment: [:], flags: [:])
        #expect(configuration == ServerConfiguration())
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 8080)
        #expect(configuration.databaseURL == nil)
        #expect(configuration.sqlitePath.hasSuffix("agentry-data/agentry.sqlite"))
    }

    @Test func flagsOverrideEnvironmentWhichOverridesTheFile() throws {
        let file = """
            host: 0.0.0.0
            port: 9000
            data_dir: /srv/agentry
            proxy_identity:
              enabled: true
              trusted_proxies: [10.0.0.0/8, 127.0.0.1]
            """
        let environment = ["AGENTRY_PORT": "9100", "AGENTRY_DATA_DIR": "/env/data", "UNRELATED": "x"]
        let configuration = try ConfigurationLoader.resolve(
            fileText: file, environment: environment, flags: ["data_dir": "/flag/data"])
        #expect(configuration.host == "0.0.0.0")
        #expect(configuration.port == 9100)
        #expect(configuration.dataDirectory == "/flag/data")
        #expect(configuration.proxyIdentity.enabled)
        #expect(configuration.proxyIdentity.trustedProxies.map(\.description) == ["10.0.0.0/8", "127.0.0.1"])
    }

    @Test(arguments: [
        ("port: 80x", [String: String](), [String: String](), "port (from agentry.yaml)"),
        ("", ["AGENTRY_PORT": "70000"], [:], "port (from AGENTRY_PORT)"),
        ("", [:], ["port": "-1"], "port (from --port)"),
        ("", ["AGENTRY_LOG_LEVEL": "loud"], [:], "log_level (from AGENTRY_LOG_LEVEL)"),
        ("", [:], ["database_url": "mysql://x"], "database_url (from --database-url)"),
        (
            "proxy_identity:\n  trusted_proxies: [nonsense]", [:], [:],
            "proxy_identity.trusted_proxies (from agentry.yaml)"
        ),
        ("prot: 8080", [:], [:], "prot (from agentry.yaml): unknown setting"),
        ("[1, 2]", [:], [:], "must be a mapping"),
        ("host: [unclosed", [:], [:], "not valid YAML"),
        (
            "", ["AGENTRY_PROXY_IDENTITY_ENABLED": "maybe"], [:],
            "proxy_identity.enabled (from AGENTRY_PROXY_IDENTITY_ENABLED)"
        ),
    ])
    func badValuesNameTheirSource(
        _ file: String, _ environment: [String: String], _ flags: [String: String], _ expected: String
    ) {
        do {
            _ = try ConfigurationLoader.resolve(fileText: file, environment: environment, flags: flags)
            Issue.record("expected a configuration error")
        } catch let error as ConfigurationError {
            #expect(error.description.contains(expected), "\(error.description)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func everySettingHasAnEnvironmentVariableAndAFlag() {
        let settings = ConfigurationSetting.all
        #expect(Set(settings.map(\.key)).count == settings.count)
        #expect(
            settings.first { $0.key == "proxy_identity.trusted_proxies" }?.environmentVariable
                == "AGENTRY_PROXY_IDENTITY_TRUSTED_PROXIES")
        #expect(settings.first { $0.key == "data_dir" }?.flag == "--data-dir")
    }
}
