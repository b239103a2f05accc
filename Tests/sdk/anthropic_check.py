"""Drives an Anthropic-compatible server with the official `anthropic` SDK and prints what it saw as JSON.

Usage: python anthropic_check.py BASE_URL MODEL
Every call goes through the SDK's own parsing, so a reply the SDK could not read fails here.
"""
import json
import sys

import anthropic

base_url, model = sys.argv[1], sys.argv[2]
client = anthropic.Anthropic(api_key="sk-ant-test-not-a-secret", base_url=base_url, max_retries=0, timeout=20)
seen = {"sdk_version": anthropic.__version__}

reply = client.messages.create(
    model=model, max_tokens=100, system="be brief", messages=[{"role": "user", "content": "hello there"}]
)
seen["message"] = {
    "text": reply.content[0].text, "stop_reason": reply.stop_reason,
    "input_tokens": reply.usage.input_tokens, "output_tokens": reply.usage.output_tokens,
}

short = client.messages.create(model=model, max_tokens=2, messages=[{"role": "user", "content": "a b c"}])
seen["short"] = {"text": short.content[0].text, "stop_reason": short.stop_reason}

with client.messages.stream(model=model, max_tokens=100, messages=[{"role": "user", "content": "stream please"}]) as stream:
    text = "".join(stream.text_stream)
    final = stream.get_final_message()
seen["stream"] = {"text": text, "stop_reason": final.stop_reason, "output_tokens": final.usage.output_tokens,
                  "input_tokens": final.usage.input_tokens}

tools = [{"name": "lookup", "description": "Look something up",
          "input_schema": {"type": "object", "properties": {"query": {"type": "string"}}}}]
used = client.messages.create(
    model=model, max_tokens=100, tools=tools, messages=[{"role": "user", "content": "please call the tool"}]
)
block = used.content[0]
seen["tool"] = {"stop_reason": used.stop_reason, "type": block.type, "name": block.name, "input": block.input}

with client.messages.stream(
    model=model, max_tokens=100, tools=tools, messages=[{"role": "user", "content": "call it streaming"}]
) as stream:
    final = stream.get_final_message()
seen["tool_stream"] = {"stop_reason": final.stop_reason, "input": final.content[0].input}

seen["count_tokens"] = client.messages.count_tokens(
    model=model, messages=[{"role": "user", "content": "count these four words"}]
).input_tokens

errors = {}
for name, kwargs, expected in [
    ("not_found", {"model": "sim-missing", "max_tokens": 10}, anthropic.NotFoundError),
    ("rate_limited", {"model": "sim-rate-limited", "max_tokens": 10}, anthropic.RateLimitError),
    ("server_error", {"model": "sim-fail-500", "max_tokens": 10}, anthropic.InternalServerError),
    ("overloaded", {"model": "sim-overloaded", "max_tokens": 10}, anthropic.APIStatusError),
    ("bad_request", {"model": model, "max_tokens": 0}, anthropic.BadRequestError),
]:
    try:
        client.messages.create(messages=[{"role": "user", "content": "hi"}], **kwargs)
        errors[name] = "no error"
    except expected as error:
        errors[name] = {"status": error.status_code, "type": error.body["error"]["type"]}
    except Exception as error:  # noqa: BLE001 - reported, and the test fails on it
        errors[name] = "wrong exception: %s" % type(error).__name__
try:
    client.messages.create(model=model, max_tokens=10, messages=[{"role": "user", "content": "hi"}],
                           extra_headers={"Authorization": "Basic bm8ta2V5"})
    errors["no_key"] = "no error"
except anthropic.AuthenticationError as error:
    errors["no_key"] = {"status": error.status_code, "type": error.body["error"]["type"]}
except Exception as error:  # noqa: BLE001
    errors["no_key"] = "wrong exception: %s" % type(error).__name__
seen["errors"] = errors

print(json.dumps(seen, sort_keys=True))
