"""Drives an OpenAI-compatible server with the official `mistralai` SDK, as Mistral's own clients
call `/v1/chat/completions` and `/v1/embeddings`, and prints what it saw as JSON.

Usage: python mistral_check.py BASE_URL MODEL
"""
import json
import sys

from mistralai.client import Mistral

base_url, model = sys.argv[1], sys.argv[2]
client = Mistral(api_key="mistral-test-not-a-secret", server_url=base_url)
seen = {}

reply = client.chat.complete(model=model, messages=[{"role": "user", "content": "hello there"}])
seen["chat"] = {
    "content": reply.choices[0].message.content, "finish_reason": reply.choices[0].finish_reason,
    "prompt_tokens": reply.usage.prompt_tokens, "completion_tokens": reply.usage.completion_tokens,
}

pieces, finish = [], None
for event in client.chat.stream(model=model, messages=[{"role": "user", "content": "stream please"}]):
    for choice in event.data.choices:
        if choice.delta.content:
            pieces.append(choice.delta.content)
        if choice.finish_reason:
            finish = choice.finish_reason
seen["stream"] = {"content": "".join(pieces), "finish_reason": finish}

vectors = client.embeddings.create(model="sim-embed", inputs=["one", "two words"])
seen["embeddings"] = {"count": len(vectors.data), "dimensions": len(vectors.data[0].embedding)}

failures = {}
for name, target in [("not_found", "sim-missing"), ("server_error", "sim-fail-500")]:
    try:
        client.chat.complete(model=target, messages=[{"role": "user", "content": "hi"}])
        failures[name] = "no error"
    except Exception as error:  # noqa: BLE001 - the SDK's own error classes; the status is what counts
        failures[name] = {"status": getattr(error, "status_code", None), "class": type(error).__name__}
seen["errors"] = failures

print(json.dumps(seen, sort_keys=True, default=str))
