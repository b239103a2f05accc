"""Drives an OpenAI-compatible server with the official `openai` SDK and prints what it saw as JSON.

Usage: python openai_check.py BASE_URL MODEL
Every call goes through the SDK's own parsing, so a reply the SDK could not read fails here.
"""
import json
import sys

import openai

base_url, model = sys.argv[1], sys.argv[2]
client = openai.OpenAI(api_key="sk-test-not-a-secret", base_url=base_url, max_retries=0, timeout=20)
seen = {"sdk_version": openai.__version__}

seen["models"] = [m.id for m in client.models.list().data]

reply = client.chat.completions.create(
    model=model, messages=[{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello there"}]
)
seen["chat"] = {
    "content": reply.choices[0].message.content,
    "finish_reason": reply.choices[0].finish_reason,
    "prompt_tokens": reply.usage.prompt_tokens,
    "completion_tokens": reply.usage.completion_tokens,
    "total_tokens": reply.usage.total_tokens,
}

short = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "a b c d e f"}], max_tokens=2)
seen["short"] = {"content": short.choices[0].message.content, "finish_reason": short.choices[0].finish_reason}

pieces, usage, finish = [], None, None
for chunk in client.chat.completions.create(
    model=model, messages=[{"role": "user", "content": "stream please"}], stream=True,
    stream_options={"include_usage": True},
):
    if chunk.usage is not None:
        usage = {"prompt_tokens": chunk.usage.prompt_tokens, "completion_tokens": chunk.usage.completion_tokens}
    for choice in chunk.choices:
        if choice.delta.content:
            pieces.append(choice.delta.content)
        if choice.finish_reason:
            finish = choice.finish_reason
seen["stream"] = {"content": "".join(pieces), "finish_reason": finish, "usage": usage}

tools = [{
    "type": "function",
    "function": {"name": "lookup", "description": "Look something up",
                 "parameters": {"type": "object", "properties": {"query": {"type": "string"}}}},
}]
called = client.chat.completions.create(
    model=model, messages=[{"role": "user", "content": "please call the tool"}], tools=tools
)
call = called.choices[0].message.tool_calls[0]
seen["tool"] = {
    "finish_reason": called.choices[0].finish_reason,
    "name": call.function.name,
    "arguments": json.loads(call.function.arguments),
}

as_json = client.chat.completions.create(
    model=model, messages=[{"role": "user", "content": "json please"}], response_format={"type": "json_object"}
)
seen["json_mode"] = json.loads(as_json.choices[0].message.content)

vectors = client.embeddings.create(model="sim-embed", input=["one", "two words"])
seen["embeddings"] = {"count": len(vectors.data), "dimensions": len(vectors.data[0].embedding),
                      "prompt_tokens": vectors.usage.prompt_tokens}

errors = {}
for name, kwargs, expected in [
    ("not_found", {"model": "sim-missing"}, openai.NotFoundError),
    ("rate_limited", {"model": "sim-rate-limited"}, openai.RateLimitError),
    ("server_error", {"model": "sim-fail-500"}, openai.InternalServerError),
    ("bad_request", {"model": model, "max_tokens": 0}, openai.BadRequestError),
]:
    try:
        client.chat.completions.create(messages=[{"role": "user", "content": "hi"}], **kwargs)
        errors[name] = "no error"
    except expected as error:
        errors[name] = {"status": error.status_code, "message": error.message}
    except Exception as error:  # noqa: BLE001 - reported, and the test fails on it
        errors[name] = "wrong exception: %s" % type(error).__name__
try:
    client.models.list(extra_headers={"Authorization": "Basic bm8ta2V5"})
    errors["no_key"] = "no error"
except openai.AuthenticationError as error:
    errors["no_key"] = {"status": error.status_code}
except Exception as error:  # noqa: BLE001
    errors["no_key"] = "wrong exception: %s" % type(error).__name__
seen["errors"] = errors

print(json.dumps(seen, sort_keys=True))
