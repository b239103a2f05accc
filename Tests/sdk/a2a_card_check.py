"""Reads an Agentry AgentCard with the official `a2a-sdk` and prints what it saw as JSON.

Usage: python a2a_card_check.py BASE_URL CARD_PATH TOKEN
The card is fetched by the SDK's own resolver, then parsed again strictly (unknown fields are
errors), so a card the SDK could only half read fails here.
"""
import asyncio
import json
import sys

import httpx
from a2a.client import A2ACardResolver
from a2a.types import AgentCard
from google.protobuf.json_format import ParseDict

base_url, path, token = sys.argv[1], sys.argv[2], sys.argv[3]
headers = {"Authorization": f"Bearer {token}"}


async def main():
    async with httpx.AsyncClient(timeout=20) as client:
        card = await A2ACardResolver(client, base_url).get_agent_card(
            relative_card_path=path, http_kwargs={"headers": headers})
        raw = (await client.get(base_url + path, headers=headers)).json()
    strict = ParseDict(raw, AgentCard())
    for field in ("name", "description", "version"):
        assert getattr(strict, field), f"{field} is empty"
    assert len(strict.supported_interfaces) > 0 and len(strict.skills) > 0
    print(json.dumps({
        "name": card.name, "version": card.version,
        "skills": [skill.id for skill in card.skills],
        "interfaces": [(i.url, i.protocol_binding, i.protocol_version) for i in card.supported_interfaces],
        "schemes": sorted(card.security_schemes.keys()),
        "input_modes": list(card.default_input_modes),
    }))


asyncio.run(main())
