"""Calls Agentry's gateway once with each vendor's SDK on a key whose cap is spent, and prints the
exception each SDK raised (class, status, message) as JSON.

Usage: python gateway_cap_check.py SERVER_URL SANDBOX_KEY
"""
import json
import sys

import anthropic
import cohere
import openai
from google import genai
from google.genai import types
from mistralai.client import Mistral

server, key = sys.argv[1], sys.argv[2]
seen = {}


def record(name, call):
    """Runs `call`, which must fail, and records how the SDK reported it."""
    try:
        call()
        seen[name] = "no error"
    except Exception as error:  # noqa: BLE001 - every SDK has its own classes; the test checks them
        status = getattr(error, "status_code", None) or getattr(error, "code", None)
        seen[name] = {"class": type(error).__name__, "status": status, "message": str(error)}


# The SDKs' own retry settings are left at their defaults: a spent cap must not be retried.
record("openai", lambda: openai.OpenAI(api_key=key, base_url=server + "/v1").chat.completions.create(
    model="sim/openai-small", messages=[{"role": "user", "content": "hi"}]))
record("anthropic", lambda: anthropic.Anthropic(api_key=key, base_url=server).messages.create(
    model="sim/anthropic-small", max_tokens=50, messages=[{"role": "user", "content": "hi"}]))
# The client must outlive the call (it closes its connection pool when collected).
gemini = genai.Client(api_key=key, http_options=types.HttpOptions(base_url=server))
record("gemini", lambda: gemini.models.generate_content(model="sim/gemini-small", contents="hi"))
record("cohere", lambda: cohere.ClientV2(api_key=key, base_url=server).chat(
    model="sim/cohere-small", messages=[{"role": "user", "content": "hi"}]))
record("mistral", lambda: Mistral(api_key=key, server_url=server).chat.complete(
    model="sim/mistral-small", messages=[{"role": "user", "content": "hi"}]))
print(json.dumps(seen, sort_keys=True))
