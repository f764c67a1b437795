"""A relay client made of sentry_relay: registers with the upstream at $UPSTREAM the way
relay does (register challenge, register response), signing every body with
sentry_relay's SecretKey.sign, then asks for the config of $DSN_KEY's project.
The credentials come from the environment (RELAY_ID, RELAY_PUBLIC_KEY, RELAY_SECRET_KEY),
never argv. Prints one JSON object: each step's status and body, and the status a
request with a tampered body got."""

import json
import os
import urllib.error
import urllib.request

import sentry_relay

upstream = os.environ["UPSTREAM"].rstrip("/")
relay_id = os.environ["RELAY_ID"]
public_key = os.environ["RELAY_PUBLIC_KEY"]
secret = sentry_relay.SecretKey.parse(os.environ["RELAY_SECRET_KEY"])


def post(path, body, signed_body=None):
    data = json.dumps(body).encode()
    sig = secret.sign(signed_body if signed_body is not None else data)
    req = urllib.request.Request(
        upstream + path,
        data=data,
        headers={
            "Content-Type": "application/json",
            "X-Sentry-Relay-Id": relay_id,
            "X-Sentry-Relay-Signature": sig,
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


out = {}
request = {"relay_id": relay_id, "public_key": public_key, "version": "26.9.0"}
tampered = json.dumps(dict(request, version="26.4.3")).encode()
out["tampered"] = post("/api/0/relays/register/challenge/", request, signed_body=tampered)[0]
status, challenge = post("/api/0/relays/register/challenge/", request)
out["challenge"] = status
status, registered = post(
    "/api/0/relays/register/response/",
    {"relay_id": relay_id, "token": challenge["token"], "version": "26.9.0"},
)
out["response"] = status
status, configs = post(
    "/api/0/relays/projectconfigs/?version=3",
    {"publicKeys": [os.environ["DSN_KEY"]], "fullConfig": False},
)
out["project_configs"] = status
out["configs"] = configs
print(json.dumps(out))
