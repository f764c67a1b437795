"""Drive the dev server with the official WorkOS Python SDK (`pip install workos`).

Usage: workos_vault_roundtrip.py BASE_URL             full round trip
       workos_vault_roundtrip.py BASE_URL read NAME   read one object (e.g. over TLS)
The API key comes from env WORKOS_DEV_TEST_API_KEY (never argv: argv shows in `ps`).

Prints one JSON object summarising each step; the Rust test asserts on it. Values are
test fixtures, not secrets, so echoing comparisons (not values) is enough.
"""

import json
import os
import sys
from importlib.metadata import version

from workos import AuthenticationError, ConflictError, NotFoundError, WorkOSClient

NAME = "sdk/roundtrip value"  # a slash and a space exercise path-segment encoding
VALUE = json.dumps({"public_key": "pk", "secret_key": "sk", "id": "relay-id"})


def main() -> int:
    base_url = sys.argv[1]
    api_key = os.environ["WORKOS_DEV_TEST_API_KEY"]
    client = WorkOSClient(api_key=api_key, base_url=base_url, max_retries=0, request_timeout=10)
    out = {"sdk_version": version("workos")}

    if sys.argv[2:3] == ["read"]:
        got = client.vault.get_name(sys.argv[3])
        out["name"] = got.name
        out["value"] = got.value
        print(json.dumps(out))
        return 0

    created = client.vault.create_kv(name=NAME, value=VALUE, key_context={"organization_id": "org_test"})
    out["created_id"] = created.id
    out["created_version_id"] = created.version_id
    out["created_context"] = created.context

    got = client.vault.get_name(NAME)
    out["read_back_equal"] = got.value == VALUE
    out["read_name"] = got.name
    out["read_id_matches"] = got.id == created.id
    out["read_version_matches"] = got.metadata.version_id == created.version_id

    try:
        client.vault.create_kv(name=NAME, value="again", key_context={})
        out["duplicate"] = "no error"
    except ConflictError as e:
        out["duplicate"] = "ConflictError"
        out["duplicate_status"] = e.status_code

    try:
        client.vault.get_name("does-not-exist")
        out["missing"] = "no error"
    except NotFoundError as e:
        out["missing"] = "NotFoundError"
        out["missing_request_id"] = e.request_id or ""

    wrong = WorkOSClient(api_key="sk_test_wrong", base_url=base_url, max_retries=0, request_timeout=10)
    try:
        wrong.vault.get_name(NAME)
        out["wrong_key"] = "no error"
    except AuthenticationError as e:
        out["wrong_key"] = "AuthenticationError"
        out["wrong_key_status"] = e.status_code

    updated = client.vault.update_kv(created.id, value="v2", version_check=created.version_id)
    out["updated_version_changed"] = updated.metadata.version_id != created.version_id
    try:
        client.vault.update_kv(created.id, value="v3", version_check=created.version_id)
        out["stale_update"] = "no error"
    except ConflictError:
        out["stale_update"] = "ConflictError"
    out["read_after_update"] = client.vault.get_kv(created.id).value
    out["describe_name"] = client.vault.list_kv_metadata(created.id).name
    versions = client.vault.list_kv_versions(created.id)
    out["versions"] = len(versions.data)
    out["current_versions"] = sum(1 for v in versions.data if v.current_version)
    page = client.vault.list_kv(limit=10, search="roundtrip")
    out["listed_names"] = [o.name for o in page.data]

    client.vault.delete_kv(created.id)
    try:
        client.vault.get_name(NAME)
        out["after_delete"] = "still there"
    except NotFoundError:
        out["after_delete"] = "NotFoundError"

    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
