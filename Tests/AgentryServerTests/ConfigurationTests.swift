import AgentryRuntime
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

@Suite("Run settings")
struct RunSettingsTests {
    @Test func runSettingsComeFromTheFileTheEnvironmentAndFlags() throws {
        let file = """
            runs:
              python: /opt/python/bin/python3
              wall_seconds: 60
              max_per_user: 2
            """
        let configuration = try ConfigurationLoader.resolve(
            fileText: file,
            environment: [
                "AGENTRY_RUNS_MEMORY_MB": "512", "AGENTRY_RUNS_PACKAGE_INDEX": "https://pypi.example.com/simple",
            ],
            flags: ["runs.directory": "/srv/agentry-runs", "runs.max_queued": "0", "runs.separate_users": "false"])
        let code = configuration.runtime.code
        #expect(code.python == "/opt/python/bin/python3" && code.directory == "/srv/agentry-runs")
        #expect(code.packageIndex == "https://pypi.example.com/simple" && !code.separateUsers)
        #expect(code.limits.wallSeconds == 60 && code.limits.memoryBytes == 512 << 20)
        #expect(code.limits.cpuSeconds == CodeLimits().cpuSeconds, "unset limits keep their defaults")
        #expect(configuration.runtime.concurrency.perUser == 2 && configuration.runtime.concurrency.queued == 0)
    }

    @Test(arguments: [
        ("runs.directory", "relative/dir"), ("runs.python", "python3"), ("runs.package_index", "ftp://x"),
        ("runs.wall_seconds", "0"), ("runs.memory_mb", "12"), ("runs.max_concurrent", "many"),
        ("runs.separate_users", "maybe"), ("runs.max_queued", "-1"), ("runs.isolation", "docker"),
    ])
    func badRunSettingsAreRefusedByName(_ key: String, _ value: String) throws {
        do {
            _ = try ConfigurationLoader.resolve(fileText: nil, environment: [:], flags: [key: value])
            Issue.record("\(key)=\(value) was accepted")
        } catch let error as ConfigurationError {
            #expect(error.key == key && !error.reason.isEmpty, "\(error)")
        }
    }
}
