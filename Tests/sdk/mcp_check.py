"""Connects the official `mcp` Python SDK to Agentry's MCP endpoint and prints what it saw as JSON.

Usage: python mcp_check.py URL KEY   (URL ends in /mcp; KEY is a Sandbox key)
The SDK's Streamable HTTP client initializes the session, lists the tools the key may use and
calls one; a call outside the key's scope comes back as a tool error, not a crash.
"""
import asyncio
import json
import sys

import httpx2
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

url, key = sys.argv[1], sys.argv[2]


async def main():
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=30)
    async with http, streamable_http_client(url, http_client=http) as streams:
        read, write = streams[0], streams[1]
        async with ClientSession(read, write) as session:
            info = await session.initialize()
            listed = await session.list_tools()
            names = sorted(tool.name for tool in listed.tools)
            called = await session.call_tool("sim-slack__list_channels", {"limit": 2})
            refused = await session.call_tool("sim-slack__post_message", {"channel": "C0GENERAL01", "text": "x"})
            unknown = await session.call_tool("nothing", {})
    print(json.dumps({
        "server": info.server_info.name, "tools": names,
        "called_error": called.is_error, "called_text": called.content[0].text,
        "refused_error": refused.is_error, "refused_text": refused.content[0].text,
        "unknown_error": unknown.is_error,
    }))


asyncio.run(main())
