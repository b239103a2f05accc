import Foundation
import Yams

/// Builds a `ServerConfiguration` from `agentry.yaml`, then the environment, then flags: each later
/// source overrides the earlier ones, and every bad value is reported with where it came from.
public enum ConfigurationLoader {
    /// Resolves the configuration. `fileText` is the YAML file's content (nil when there is none),
    /// `environment` the process environment, `flags` the values given on the command line by key.
    public static func resolve(
        fileText: String?, fileName: String = "agentry.yaml", environment: [String: String], flags: [String: String]
    ) throws -> ServerConfiguration {
        var layers: [(source: (ConfigurationSetting) -> String, values: [String: String])] = []
        if let fileText {
            layers.append(({ _ in fileName }, try fileValues(fileText, fileName: fileName)))
        }
        var fromEnvironment: [String: String] = [:]
        for setting in ConfigurationSetting.all {
            if let value = environment[setting.environmentVariable] { fromEnvironment[setting.key] = value }
        }
        layers.append(({ $0.environmentVariable }, fromEnvironment))
        layers.append(({ $0.flag }, flags))
        var configuration = ServerConfiguration()
        for layer in layers {
            for setting in ConfigurationSetting.all {
                guard let value = layer.values[setting.key] else { continue }
                do {
                    try setting.apply(&configuration, value)
                    configuration.sources[setting.key] = layer.source(setting)
                } catch let error as ConfigurationError.Reason {
                    throw ConfigurationError(key: setting.key, source: layer.source(setting), reason: error.text)
                }
            }
        }
        return configuration
    }

    /// Flattens the YAML mapping into dotted keys; unknown keys are errors, so a typo is never ignored.
    static func fileValues(_ text: String, fileName: String) throws -> [String: String] {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw ConfigurationError(key: "(file)", source: fileName, reason: "not valid YAML: \(error)")
        }
        guard let node else { return [:] }
        guard case .mapping = node else {
            throw ConfigurationError(key: "(file)", source: fileName, reason: "must be a mapping of settings")
        }
        var values: [String: String] = [:]
        try flatten(node, prefix: "", into: &values, fileName: fileName)
        let known = Set(ConfigurationSetting.all.map(\.key))
        if let unknown = values.keys.sorted().first(where: { !known.contains($0) }) {
            throw ConfigurationError(
                key: unknown, source: fileName,
                reason:
                    "unknown setting; known settings: \(ConfigurationSetting.all.map(\.key).joined(separator: ", "))")
        }
        return values
    }

    private static func flatten(_ node: Node, prefix: String, into values: inout [String: String], fileName: String)
        throws
    {
        switch node {
        case .mapping(let mapping):
            for (key, value) in mapping {
                guard let name = key.string else {
                    throw ConfigurationError(key: prefix, source: fileName, reason: "keys must be strings")
                }
                try flatten(
                    value, prefix: prefix.isEmpty ? name : "\(prefix).\(name)", into: &values, fileName: fileName)
            }
        case .sequence(let sequence):
            values[prefix] = sequence.compactMap(\.string).joined(separator: ",")
        case .scalar(let scalar):
            values[prefix] = scalar.string
        case .alias:
            throw ConfigurationError(key: prefix, source: fileName, reason: "anchors and aliases are not supported")
        }
    }
}
