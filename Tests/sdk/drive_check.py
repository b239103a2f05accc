"""Talks to Agentry's Google Drive simulator with the official `google-api-python-client`.

Usage: python drive_check.py API_ENDPOINT   (the simulator's Drive v3 root, ending in /drive/v3/)
The client is built from the Drive v3 discovery document the package ships (no network), with
the endpoint pointed at the simulator; it builds every request and reads every answer itself,
raising HttpError on Google's error bodies. Prints what it saw as JSON.
"""
import json
import sys

from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

endpoint = sys.argv[1]
drive = build("drive", "v3", credentials=Credentials(token="ya29.agentry-test"), static_discovery=True,
              client_options={"api_endpoint": endpoint})

listed = drive.files().list(q="name contains 'budget'", pageSize=10).execute()
first_page = drive.files().list(pageSize=2).execute()
second_page = drive.files().list(pageSize=2, pageToken=first_page["nextPageToken"]).execute()
meta = drive.files().get(fileId="1AbcTxtReadme").execute()
content = drive.files().get_media(fileId="1AbcTxtReadme").execute().decode()
exported = drive.files().export(fileId="1AbcSheetTeams", mimeType="text/csv").execute().decode()

def reason(call):
    try:
        call.execute()
        return None
    except HttpError as error:
        return error.error_details[0]["reason"] if error.error_details else str(error.resp.status)

print(json.dumps({
    "found": [f["name"] for f in listed["files"]],
    "paged": [f["id"] for f in first_page["files"] + second_page["files"]],
    "meta": meta["mimeType"], "content": content, "exported": exported,
    "missing": reason(drive.files().get(fileId="nope")),
    "not_downloadable": reason(drive.files().get_media(fileId="1AbcDocQ4Budget")),
    "bad_query": reason(drive.files().list(q="modifiedTime > 'x'")),
}))
