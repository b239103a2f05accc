"""Drives Agentry's model gateway with the vendors' official SDKs, changing only the base URL and
the key, and prints what each SDK saw as JSON.

Usage: python gateway_check.py SERVER_URL SANDBOX_KEY
Every reply goes through the SDK's own parsing, so a reply an SDK could not read fails here.
"""
import json
import sys

import anthropic
import cohere
import openai
from google import genai
from google.genai import errors as genai_errors
from google.genai import types
from mistralai.client import Mistral

server, key = sys.argv[1], sys.argv[2]
seen = {}
TOOLS = [{
    "type": "function",
    "function": {"name": "lookup", "description": "Look something up",
                 "parameters": {"type": "object", "properties": {"query": {"type": "string"}}}},
}]


def failure(call, expected):
    """Runs `call`; returns the status and message of the expected SDK exception."""
    try:
        call()
        return "no error"
    except expected as error:
        return {"status": error.status_code, "message": str(error)}
    except Exception as error:  # noqa: BLE001 - reported, and the test fails on it
        return "wrong exception: %s: %s" % (type(error).__name__, error)


# --- openai ---
client = openai.OpenAI(api_key=key, base_url=server + "/v1", max_retries=0, timeout=30)
out = {"models": sorted(m.id for m in client.models.list().data)}
out["retrieved"] = client.models.retrieve("sim/openai-small").id
reply = client.chat.completions.create(
    model="sim/openai-small", messages=[{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello there"}])
out["chat"] = {"content": reply.choices[0].message.content, "prompt_tokens": reply.usage.prompt_tokens,
               "completion_tokens": reply.usage.completion_tokens}
pieces, usage = [], None
for chunk in client.chat.completions.create(
        model="sim/openai-small", messages=[{"role": "user", "content": "stream please"}], stream=True,
        stream_options={"include_usage": True}):
    if chunk.usage is not None:
        usage = chunk.usage.completion_tokens
    for choice in chunk.choices:
        if choice.delta.content:
            pieces.append(choice.delta.content)
out["stream"] = {"content": "".join(pieces), "completion_tokens": usage}
called = client.chat.completions.create(
    model="sim/openai-small", messages=[{"role": "user", "content": "please call the tool"}], tools=TOOLS)
call = called.choices[0].message.tool_calls[0]
out["tool"] = {"name": call.function.name, "arguments": json.loads(call.function.arguments),
               "finish_reason": called.choices[0].finish_reason}
cross = client.chat.completions.create(
    model="sim/anthropic-small", messages=[{"role": "user", "content": "hello claude"}])
out["to_anthropic"] = {"content": cross.choices[0].message.content, "completion_tokens": cross.usage.completion_tokens}
cross_tool = client.chat.completions.create(
    model="sim/anthropic-small", messages=[{"role": "user", "content": "please call the tool"}], tools=TOOLS)
call = cross_tool.choices[0].message.tool_calls[0]
out["to_anthropic_tool"] = {"name": call.function.name, "arguments": json.loads(call.function.arguments)}
pieces = []
for chunk in client.chat.completions.create(
        model="sim/gemini-small", messages=[{"role": "user", "content": "stream gemini"}], stream=True):
    for choice in chunk.choices:
        if choice.delta.content:
            pieces.append(choice.delta.content)
out["to_gemini_stream"] = "".join(pieces)
vectors = client.embeddings.create(model="sim/openai-embed", input=["one", "two words"])
out["embeddings"] = {"count": len(vectors.data), "prompt_tokens": vectors.usage.prompt_tokens}
out["errors"] = {
    "unknown_model": failure(lambda: client.chat.completions.create(
        model="no-such-model", messages=[{"role": "user", "content": "hi"}]), openai.NotFoundError),
    "max_tokens_too_high": failure(lambda: client.chat.completions.create(
        model="sim/openai-small", messages=[{"role": "user", "content": "hi"}], max_tokens=10_000_000),
        openai.BadRequestError),
    "wrong_key": failure(lambda: openai.OpenAI(api_key="agt_sandbox_nope", base_url=server + "/v1",
                                               max_retries=0).models.list(), openai.AuthenticationError),
    "retrieve_unknown": failure(lambda: client.models.retrieve("no-such-model"), openai.NotFoundError),
}
seen["openai"] = out

# --- anthropic ---
client = anthropic.Anthropic(api_key=key, base_url=server, max_retries=0, timeout=30)
out = {}
message = client.messages.create(
    model="sim/anthropic-small", max_tokens=100, system="be brief", messages=[{"role": "user", "content": "hello there"}])
out["message"] = {"text": message.content[0].text, "stop_reason": message.stop_reason,
                  "input_tokens": message.usage.input_tokens, "output_tokens": message.usage.output_tokens}
with client.messages.stream(model="sim/anthropic-small", max_tokens=100,
                            messages=[{"role": "user", "content": "stream please"}]) as stream:
    text = "".join(stream.text_stream)
    final = stream.get_final_message()
out["stream"] = {"text": text, "output_tokens": final.usage.output_tokens, "stop_reason": final.stop_reason}
tool = client.messages.create(
    model="sim/anthropic-small", max_tokens=100, messages=[{"role": "user", "content": "please call the tool"}],
    tools=[{"name": "lookup", "description": "Look something up",
            "input_schema": {"type": "object", "properties": {"query": {"type": "string"}}}}])
block = [b for b in tool.content if b.type == "tool_use"][0]
out["tool"] = {"name": block.name, "input": block.input, "stop_reason": tool.stop_reason}
cross = client.messages.create(
    model="sim/openai-small", max_tokens=100, messages=[{"role": "user", "content": "hello gpt"}])
out["to_openai"] = {"text": cross.content[0].text, "output_tokens": cross.usage.output_tokens}
with client.messages.stream(model="sim/gemini-small", max_tokens=100,
                            messages=[{"role": "user", "content": "stream to gemini"}]) as stream:
    text = "".join(stream.text_stream)
    final = stream.get_final_message()
out["to_gemini_stream"] = {"text": text, "output_tokens": final.usage.output_tokens}
out["retrieved"] = client.models.retrieve("sim/anthropic-small").id
out["count_tokens"] = client.messages.count_tokens(
    model="sim/anthropic-small", messages=[{"role": "user", "content": "count these four words"}]).input_tokens
out["errors"] = {
    "retrieve_unknown": failure(lambda: client.models.retrieve("no-such-model"), anthropic.NotFoundError),
    "count_elsewhere": failure(lambda: client.messages.count_tokens(
        model="sim/openai-small", messages=[{"role": "user", "content": "hi"}]), anthropic.BadRequestError),
    "unknown_model": failure(lambda: client.messages.create(
        model="no-such-model", max_tokens=10, messages=[{"role": "user", "content": "hi"}]), anthropic.NotFoundError),
    "wrong_key": failure(lambda: anthropic.Anthropic(api_key="agt_sandbox_nope", base_url=server, max_retries=0)
                         .messages.create(model="sim/anthropic-small", max_tokens=10,
                                          messages=[{"role": "user", "content": "hi"}]), anthropic.AuthenticationError),
}
seen["anthropic"] = out

# --- google-genai ---
client = genai.Client(api_key=key, http_options=types.HttpOptions(base_url=server))
out = {}
reply = client.models.generate_content(
    model="sim/gemini-small", contents="hello there", config=types.GenerateContentConfig(system_instruction="be brief"))
out["content"] = {"text": reply.text, "prompt_tokens": reply.usage_metadata.prompt_token_count,
                  "output_tokens": reply.usage_metadata.candidates_token_count}
pieces = []
for chunk in client.models.generate_content_stream(model="sim/gemini-small", contents="stream please"):
    if chunk.text:
        pieces.append(chunk.text)
out["stream"] = "".join(pieces)
cross = client.models.generate_content(model="sim/anthropic-small", contents="hello claude")
out["to_anthropic"] = {"text": cross.text, "output_tokens": cross.usage_metadata.candidates_token_count}
pieces = []
for chunk in client.models.generate_content_stream(model="sim/openai-small", contents="stream to gpt"):
    if chunk.text:
        pieces.append(chunk.text)
out["to_openai_stream"] = "".join(pieces)
try:
    client.models.generate_content(model="no-such-model", contents="hi")
    out["unknown_model"] = "no error"
except genai_errors.ClientError as error:
    out["unknown_model"] = {"status": error.code}
seen["gemini"] = out

# --- mistralai ---
client = Mistral(api_key=key, server_url=server)
out = {}
reply = client.chat.complete(model="sim/mistral-small", messages=[{"role": "user", "content": "hello there"}])
out["chat"] = {"content": reply.choices[0].message.content, "completion_tokens": reply.usage.completion_tokens}
pieces = []
for event in client.chat.stream(model="sim/mistral-small", messages=[{"role": "user", "content": "stream please"}]):
    for choice in event.data.choices:
        if choice.delta.content:
            pieces.append(choice.delta.content)
out["stream"] = "".join(pieces)
seen["mistral"] = out

# --- cohere ---
client = cohere.ClientV2(api_key=key, base_url=server, timeout=30)
out = {}
reply = client.chat(model="sim/cohere-small", messages=[{"role": "user", "content": "hello there"}])
out["chat"] = {"text": reply.message.content[0].text, "output_tokens": reply.usage.billed_units.output_tokens}
pieces = []
for event in client.chat_stream(model="sim/cohere-small", messages=[{"role": "user", "content": "stream please"}]):
    if event.type == "content-delta":
        pieces.append(event.delta.message.content.text)
out["stream"] = "".join(pieces)
cross = client.chat(model="sim/anthropic-small", messages=[{"role": "user", "content": "hello claude"}])
out["to_anthropic"] = cross.message.content[0].text
pieces = []
for event in client.chat_stream(model="sim/openai-small", messages=[{"role": "user", "content": "stream to gpt"}]):
    if event.type == "content-delta":
        pieces.append(event.delta.message.content.text)
out["to_openai_stream"] = "".join(pieces)
seen["cohere"] = out

print(json.dumps(seen, sort_keys=True))
