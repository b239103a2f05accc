"""Drives a Gemini-compatible server with the official `google-genai` SDK and prints what it saw as JSON.

Usage: python gemini_check.py BASE_URL MODEL
Every call goes through the SDK's own parsing, so a reply the SDK could not read fails here.
"""
import json
import sys

from google import genai
from google.genai import errors, types

base_url, model = sys.argv[1], sys.argv[2]
client = genai.Client(api_key="AIza-test-not-a-secret", http_options=types.HttpOptions(base_url=base_url))
seen = {}

reply = client.models.generate_content(
    model=model, contents="hello there", config=types.GenerateContentConfig(system_instruction="be brief")
)
seen["content"] = {
    "text": reply.text, "finish_reason": reply.candidates[0].finish_reason.name,
    "prompt_tokens": reply.usage_metadata.prompt_token_count,
    "output_tokens": reply.usage_metadata.candidates_token_count,
}

short = client.models.generate_content(
    model=model, contents="a b c", config=types.GenerateContentConfig(max_output_tokens=2)
)
seen["short"] = {"text": short.text, "finish_reason": short.candidates[0].finish_reason.name}

pieces, usage = [], None
for chunk in client.models.generate_content_stream(model=model, contents="stream please"):
    if chunk.text:
        pieces.append(chunk.text)
    if chunk.usage_metadata and chunk.usage_metadata.candidates_token_count:
        usage = chunk.usage_metadata.candidates_token_count
seen["stream"] = {"text": "".join(pieces), "output_tokens": usage, "chunks": len(pieces)}

lookup = types.FunctionDeclaration(
    name="lookup", description="Look something up",
    parameters=types.Schema(type="OBJECT", properties={"query": types.Schema(type="STRING")}),
)
called = client.models.generate_content(
    model=model, contents="please call the tool",
    config=types.GenerateContentConfig(
        tools=[types.Tool(function_declarations=[lookup])],
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    ),
)
call = called.function_calls[0]
seen["tool"] = {"name": call.name, "args": dict(call.args)}

as_json = client.models.generate_content(
    model=model, contents="json please", config=types.GenerateContentConfig(response_mime_type="application/json")
)
seen["json_mode"] = json.loads(as_json.text)

seen["count_tokens"] = client.models.count_tokens(model=model, contents="count these four words").total_tokens

failures = {}
for name, target in [("not_found", "sim-missing"), ("rate_limited", "sim-rate-limited"), ("server_error", "sim-fail-500")]:
    try:
        client.models.generate_content(model=target, contents="hi")
        failures[name] = "no error"
    except errors.APIError as error:
        failures[name] = {"code": error.code, "status": error.status, "class": type(error).__name__}
try:
    genai.Client(api_key="", http_options=types.HttpOptions(base_url=base_url)).models.generate_content(
        model=model, contents="hi")
    failures["no_key"] = "no error"
except errors.APIError as error:
    failures["no_key"] = {"code": error.code, "status": error.status, "class": type(error).__name__}
except Exception as error:  # noqa: BLE001 - the SDK may refuse an empty key itself
    failures["no_key"] = {"refused_by_sdk": type(error).__name__}
seen["errors"] = failures

print(json.dumps(seen, sort_keys=True))
