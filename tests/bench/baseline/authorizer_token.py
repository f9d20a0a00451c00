"""The usual alternative, for comparison: a Python custom-runtime handler using wechatpy and
boto3 that answers the same authorizer-token request from the same DynamoDB table.

It speaks the Lambda Runtime API itself (as a provided.al2023 function would through a Python
bootstrap) and imports what such a handler imports: boto3 for the table, wechatpy for WeChat.
The benchmark exercises the path every cold start takes: read the authorizer's item and hand
out its still-valid token. Refreshing is not part of the comparison and answers an error.
"""
import json
import os
import time
import urllib.request

import boto3
from wechatpy.component import WeChatComponent  # noqa: F401  (the refresh client such handlers load)

API = os.environ["AWS_LAMBDA_RUNTIME_API"]
COMPONENT = os.environ["WECHAT_COMPONENT_APPID"]
TABLE = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])
MARGIN = 600


def handle(event):
    appid = event["authorizer_appid"]
    item = TABLE.get_item(
        Key={"pk": f"component#{COMPONENT}", "sk": f"authorizer#{appid}"}, ConsistentRead=True
    ).get("Item")
    if item is None:
        raise LookupError("unknown_authorizer")
    expires_at = int(item.get("token_expires_at", 0))
    if item.get("access_token") and expires_at - MARGIN > time.time():
        return {"authorizer_appid": appid, "authorizer_access_token": item["access_token"], "expires_at": expires_at}
    raise RuntimeError("token_expired: the baseline does not refresh")


def main():
    base = f"http://{API}/2018-06-01/runtime/invocation"
    while True:
        with urllib.request.urlopen(f"{base}/next") as resp:
            request_id = resp.headers["Lambda-Runtime-Aws-Request-Id"]
            event = json.loads(resp.read())
        try:
            body, path = json.dumps(handle(event)).encode(), f"{base}/{request_id}/response"
        except Exception as e:  # the runtime reports any failure as the invocation's error
            body = json.dumps({"errorType": type(e).__name__, "errorMessage": str(e)}).encode()
            path = f"{base}/{request_id}/error"
        urllib.request.urlopen(urllib.request.Request(path, data=body, method="POST")).read()


if __name__ == "__main__":
    main()
