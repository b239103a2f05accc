import AgentryRegistry

/// A declarative agent package made from `agentry agent init`'s template for `name` at `version`,
/// with `replacements` applied to its manifest in order.
func templatePackage(_ name: String, version: String = "0.1.0", replacing replacements: [(String, String)] = [])
    -> [UInt8]
{
    var text = AgentTemplate.files(name: name, kind: "declarative", owner: nil)[0].text
        .replacingOccurrences(of: "0.1.0", with: version)
    for (from, to) in replacements { text = text.replacingOccurrences(of: from, with: to) }
    var writer = ZipWriter()
    writer.add(ZipWriter.Entry(path: "agent.yaml", bytes: Array(text.utf8)))
    return writer.bytes()
}

/// The manifest replacement that requests `tool` with scope `read`.
func requesting(_ tool: String, scope: String = "read") -> (String, String) {
    ("tools: []\ndata", "tools: [{name: \(tool), scopes: [\(scope)]}]\ndata")
}
