/// The working examples `agentry agent init` writes: a manifest (and, for code agents, its
/// files) that validates as it is and runs on the built-in simulated models.
public enum AgentTemplate {
    /// The files of a new agent called `name` of `kind` (`declarative` or `code`), by path.
    public static func files(name: String, kind: String, owner: String?) -> [(path: String, text: String)] {
        let owner = owner.map { "owner: \($0)\n" } ?? ""
        let common = """
            name: \(name)
            version: 0.1.0
            title: Meeting notes summarizer
            description: |
              Turns raw meeting notes into a short summary with decisions and action items.
            department: Operations
            tags: [summaries, meetings]
            \(owner)skills:
              - id: summarize-notes
                name: Summarize meeting notes
                description: Writes a five-line summary, the decisions taken and who does what next.
                examples:
                  - "Summarize the notes of Monday's planning meeting"
            inputs:
              - name: notes
                label: Meeting notes
                type: text
                required: true
                description: Paste the notes as they are.
              - name: tone
                label: Tone
                type: select
                options: [neutral, friendly, formal]

            """
        let tail = """
            models: [sim/openai-small]
            tools: []
            data_classification: internal
            caps:
              run: "0.05"
              day: "1"
              month: "10"
            run_frequency: {runs: 10, per: day}
            changelog:
              - version: 0.1.0
                changes: First version.

            """
        switch kind {
        case "code":
            let manifest =
                common + """
                    kind: code
                    code:
                      runtime: python3
                      entrypoint: main.py

                    """ + tail
            return [("agent.yaml", manifest), ("main.py", pythonEntrypoint), ("requirements.txt", "")]
        default:
            let manifest =
                common + """
                    kind: declarative
                    declarative:
                      system_prompt: |
                        You summarize meeting notes. Answer with a five-line summary, then "Decisions:" and
                        "Action items:" as bullet lists. Keep names as written in the notes.
                      model: sim/openai-small
                      tools: []
                      max_steps: 4

                    """ + tail
            return [("agent.yaml", manifest)]
        }
    }

    /// A code agent's entrypoint: reads its input as JSON on stdin, calls a model through the
    /// gateway with the standard library only, writes its output as JSON on stdout.
    static let pythonEntrypoint = """
        import json
        import os
        import sys
        import urllib.request

        def main():
            inputs = json.load(sys.stdin)
            request = urllib.request.Request(
                os.environ["OPENAI_BASE_URL"].rstrip("/") + "/chat/completions",
                data=json.dumps({
                    "model": "sim/openai-small",
                    "max_tokens": 300,
                    "messages": [
                        {"role": "system", "content": "Summarize meeting notes in five lines."},
                        {"role": "user", "content": inputs.get("notes", "")},
                    ],
                }).encode(),
                headers={
                    "Authorization": "Bearer " + os.environ["OPENAI_API_KEY"],
                    "Content-Type": "application/json",
                },
            )
            with urllib.request.urlopen(request) as response:
                reply = json.load(response)
            json.dump({"summary": reply["choices"][0]["message"]["content"]}, sys.stdout)

        if __name__ == "__main__":
            main()

        """
}
