"""The check a platform runs on the success redirect (the README shows the same lines): the
signature must be the hex HMAC-SHA256, with the platform's success signing key, of the
authorizer AppID, the ext (empty when none) and expires_at, one per line; and not expired.

Reads {"key", "query": {...the redirect's query...}, "now"} as JSON on stdin; prints
{"valid": true|false}. The callback tests run it through the project's venv.
"""
import hashlib
import hmac
import json
import sys


def verify_success(query: dict, key: str, now: int) -> bool:
    message = "\n".join([query["authorizer_appid"], query.get("ext", ""), query["expires_at"]])
    expected = hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, query.get("signature", "")) and int(query["expires_at"]) >= now


req = json.load(sys.stdin)
json.dump({"valid": verify_success(req["query"], req["key"], req["now"])}, sys.stdout)
