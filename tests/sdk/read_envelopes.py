"""Reads envelopes with Sentry's own parser (sentry_sdk.envelope.Envelope) and prints what it saw.

Usage: read_envelopes.py FILE...   (each FILE holds one envelope's bytes, as sent)
Prints one JSON list: per envelope {"headers": ..., "items": [{"headers": ..., "length": bytes of
the payload as parsed, "event": the payload as JSON}]}. Exits 1 with the reason when one cannot be
read, or when an item's payload is not the length its header says.
"""

import json
import sys

from sentry_sdk.envelope import Envelope

out = []
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        raw = f.read()
    envelope = Envelope.deserialize(raw)
    items = []
    for item in envelope.items:
        payload = item.payload.get_bytes()
        declared = item.headers.get("length")
        if declared is not None and declared != len(payload):
            sys.exit(f"{path}: item length {declared} but the payload has {len(payload)} bytes")
        items.append({"headers": item.headers, "length": len(payload), "event": json.loads(payload)})
    if not items:
        sys.exit(f"{path}: no item")
    out.append({"headers": envelope.headers, "items": items})
print(json.dumps(out))
