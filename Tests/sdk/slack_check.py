"""Talks to Agentry's Slack simulator with the official `slack_sdk` and prints what it saw as JSON.

Usage: python slack_check.py BASE_URL   (the simulator's Web API root, ending in /api/)
The SDK sends its own requests (JSON for chat.postMessage, query parameters for the reads, form
bodies where it chooses) and checks every reply's envelope, raising SlackApiError on `ok: false`.
"""
import json
import sys

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

base_url = sys.argv[1]
client = WebClient(token="xoxb-agentry-test", base_url=base_url)

channels = client.conversations_list()
assert channels["ok"] is True
names = [channel["name"] for channel in channels["channels"]]

posted = client.chat_postMessage(channel="C0GENERAL01", text="Hello from slack_sdk")
assert posted["ok"] and posted["channel"] == "C0GENERAL01" and posted["ts"]

history = client.conversations_history(channel="C0GENERAL01", limit=5)
first = history["messages"][0]["text"]

try:
    client.chat_postMessage(channel="C0MISSING", text="x")
    missing = None
except SlackApiError as error:
    missing = error.response["error"]

try:
    WebClient(token="xoxb-invalid", base_url=base_url).conversations_list()
    bad_token = None
except SlackApiError as error:
    bad_token = error.response["error"]

# Paging with the SDK's own cursor iteration, one channel a page.
paged = []
for page in client.conversations_list(limit=1):
    paged.extend(channel["name"] for channel in page["channels"])

print(json.dumps({
    "channels": names, "posted": posted["message"]["text"], "history_first": first,
    "missing_channel_error": missing, "bad_token_error": bad_token, "paged": paged,
}))
