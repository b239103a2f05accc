"""Drives a Cohere-compatible server with the official `cohere` SDK (v2 client) and prints what it saw as JSON.

Usage: python cohere_check.py BASE_URL MODEL
Every call goes through the SDK's own parsing, so a reply the SDK could not read fails here.
"""
import json
import sys

import cohere
from cohere.core.api_error import ApiError

base_url, model = sys.argv[1], sys.argv[2]
client = cohere.ClientV2(api_key="co-test-not-a-secret", base_url=base_url, timeout=20)
seen = {}

reply = client.chat(model=model, messages=[{"role": "system", "content": "be brief"},
                                           {"role": "user", "content": "hello there"}])
seen["chat"] = {"text": reply.message.content[0].text, "finish_reason": reply.finish_reason,
                "input_tokens": reply.usage.billed_units.input_tokens,
                "output_tokens": reply.usage.billed_units.output_tokens}

short = client.chat(model=model, messages=[{"role": "user", "content": "a b c d"}], max_tokens=2)
seen["short"] = {"text": short.message.content[0].text, "finish_reason": short.finish_reason}

pieces, finish, output = [], None, None
for event in client.chat_stream(model=model, messages=[{"role": "user", "content": "stream please"}]):
    if event.type == "content-delta":
        pieces.append(event.delta.message.content.text)
    if event.type == "message-end":
        finish = event.delta.finish_reason
        output = event.delta.usage.billed_units.output_tokens
seen["stream"] = {"text": "".join(pieces), "finish_reason": finish, "output_tokens": output}

tools = [{"type": "function", "function": {
    "name": "lookup", "description": "Look something up",
    "parameters": {"type": "object", "properties": {"query": {"type": "string"}}}}}]
called = client.chat(model=model, messages=[{"role": "user", "content": "please call the tool"}], tools=tools)
call = called.message.tool_calls[0]
seen["tool"] = {"name": call.function.name, "arguments": json.loads(call.function.arguments),
                "finish_reason": called.finish_reason}
arguments = []
for event in client.chat_stream(model=model, messages=[{"role": "user", "content": "please call the tool"}],
                                tools=tools):
    if event.type == "tool-call-delta":
        arguments.append(event.delta.message.tool_calls.function.arguments)
seen["tool_stream"] = json.loads("".join(arguments))

errors = {}
for name, target in [("not_found", "sim-missing"), ("rate_limited", "sim-rate-limited"),
                     ("server_error", "sim-fail-500")]:
    try:
        client.chat(model=target, messages=[{"role": "user", "content": "hi"}])
        errors[name] = "no error"
    except ApiError as error:
        errors[name] = {"status": error.status_code, "class": type(error).__name__}
try:
    cohere.ClientV2(api_key="", base_url=base_url).chat(model=model, messages=[{"role": "user", "content": "hi"}])
    errors["no_key"] = "no error"
except ApiError as error:
    errors["no_key"] = {"status": error.status_code, "class": type(error).__name__}
except Exception as error:  # noqa: BLE001 - the SDK may refuse an empty key itself
    errors["no_key"] = {"status": 401, "class": type(error).__name__}
seen["errors"] = errors

print(json.dumps(seen, sort_keys=True))
