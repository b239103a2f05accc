"""Talks to Agentry's Salesforce simulator with `simple-salesforce`, the most used Python client
(Salesforce publishes no Python SDK of its own).

Usage: python salesforce_check.py BASE   (the simulator's root, without a trailing slash)
A client-credentials token is fetched from the simulator's token endpoint; the client then
builds its REST requests for https://<instance>/services/…, which a transport adapter sends to
the simulator over plain HTTP under its path. Prints what it saw as JSON.
"""
import json
import sys
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError

base = sys.argv[1]
parts = urlsplit(base)


class ToSimulator(HTTPAdapter):
    def send(self, request, **kwargs):
        url = urlsplit(request.url)
        request.url = f"http://{parts.netloc}{parts.path}{url.path}" + (f"?{url.query}" if url.query else "")
        return super().send(request, **kwargs)


token = requests.post(f"{base}/services/oauth2/token", data={
    "grant_type": "client_credentials", "client_id": "agentry-sim", "client_secret": "sim-builtin"}).json()
session = requests.Session()
session.mount("https://", ToSimulator())
sf = Salesforce(instance_url=f"https://{parts.netloc}", session_id=token["access_token"], session=session,
                version="60.0")
hot = sf.query("SELECT Id, Name FROM Account WHERE Rating = 'Hot'")
sf.Account.update("001A000001XyzUVW", {"Rating": "Hot"})
both = sf.query("SELECT Id, Name FROM Account WHERE Rating = 'Hot'")
contact = sf.Contact.get("003A000001AdaLov")


def code(call):
    try:
        call()
        return None
    except SalesforceError as error:
        return error.content[0]["errorCode"]


bad = Salesforce(instance_url=f"https://{parts.netloc}", session_id="expired", session=session, version="60.0")
print(json.dumps({
    "hot": [r["Name"] for r in hot["records"]], "after_update": sorted(r["Name"] for r in both["records"]),
    "contact": contact["Email"],
    "malformed": code(lambda: sf.query("SELEKT Name")),
    "bad_field": code(lambda: sf.query("SELECT Nope FROM Account")),
    "missing": code(lambda: sf.Account.get("001A000000Nothing")),
    "expired": code(lambda: bad.query("SELECT Name FROM Account")),
}))
