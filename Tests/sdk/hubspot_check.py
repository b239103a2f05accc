"""Talks to Agentry's HubSpot simulator with the official `hubspot-api-client`.

Usage: python hubspot_check.py HOST   (the simulator's root, without a trailing slash)
The SDK's own client (`HubSpot`, with its host pointed at the simulator) builds the requests and deserialize the answers into their
models, raising ApiException on HubSpot's error bodies. Prints what it saw as JSON.
"""
import json
import sys

from hubspot import HubSpot
from hubspot.crm.contacts import PublicObjectSearchRequest
from hubspot.crm.contacts.exceptions import ApiException
from hubspot.crm.objects.notes import SimplePublicObjectInputForCreate

host = sys.argv[1]
client = HubSpot(access_token="pat-na1-agentry-test", host=host)
search = client.crm.contacts.search_api.do_search(public_object_search_request=PublicObjectSearchRequest(
    filter_groups=[{"filters": [{"propertyName": "company", "operator": "EQ", "value": "Analytical"}]}],
    properties=["firstname", "email"], limit=10))
read = client.crm.contacts.basic_api.get_by_id(contact_id="102", properties=["email"])
try:
    client.crm.contacts.basic_api.get_by_id(contact_id="999")
    missing = None
except ApiException as error:
    missing = json.loads(error.body)["category"]
note = client.crm.objects.notes.basic_api.create(simple_public_object_input_for_create=SimplePublicObjectInputForCreate(
    properties={"hs_note_body": "Called about renewal", "hs_timestamp": "2026-11-28T10:00:00.000Z"}))
try:
    HubSpot(host=host).crm.contacts.basic_api.get_by_id(contact_id="101")
    unauthenticated = None
except ApiException as error:
    unauthenticated = json.loads(error.body)["category"]
print(json.dumps({
    "total": search.total, "emails": sorted(r.properties["email"] for r in search.results),
    "read": read.properties["email"], "missing": missing, "note": note.properties["hs_note_body"],
    "unauthenticated": unauthenticated,
}))
