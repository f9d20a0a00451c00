"""Produces wechatpy_vectors.json with wechatpy's own WXBizMsgCrypt implementation.

Run: python3 -m venv /tmp/v && /tmp/v/bin/pip install wechatpy cryptography &&
     /tmp/v/bin/python make_wechatpy_vectors.py > wechatpy_vectors.json
The output is checked in; the Rust tests only read it.
"""
import json
import xml.etree.ElementTree as ET

import wechatpy
from wechatpy.crypto import WeChatCrypto

TOKEN = "vector-token"
# 43 characters; the last ('G' = 0b000110) carries non-zero trailing bits.
KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APPID = "wx1234567890abcdef"

MESSAGES = [
    "",
    "x",
    "<xml><AppId><![CDATA[wx1234567890abcdef]]></AppId><CreateTime>1413192605</CreateTime>"
    "<InfoType><![CDATA[component_verify_ticket]]></InfoType>"
    "<ComponentVerifyTicket><![CDATA[ticket@@@vector]]></ComponentVerifyTicket></xml>",
    "<xml><AppId><![CDATA[wx1234567890abcdef]]></AppId><CreateTime>1413192760</CreateTime>"
    "<InfoType><![CDATA[authorized]]></InfoType>"
    "<AuthorizerAppid><![CDATA[wxf8b4f85f3a794e77]]></AuthorizerAppid>"
    "<AuthorizationCode><![CDATA[queryauthcode@@@vector]]></AuthorizationCode>"
    "<AuthorizationCodeExpiredTime>1413196360</AuthorizationCodeExpiredTime>"
    "<PreAuthCode><![CDATA[preauthcode@@@vector]]></PreAuthCode></xml>",
    "中文 message with multibyte text",
]

crypto = WeChatCrypto(TOKEN, KEY, APPID)
vectors = []
for i, msg in enumerate(MESSAGES):
    nonce, timestamp = f"nonce{i}", str(1700000000 + i)
    out = ET.fromstring(crypto.encrypt_message(msg, nonce, timestamp))
    vectors.append({
        "plaintext": msg,
        "timestamp": out.findtext("TimeStamp"),
        "nonce": out.findtext("Nonce"),
        "encrypt": out.findtext("Encrypt"),
        "msg_signature": out.findtext("MsgSignature"),
    })
print(json.dumps({
    "produced_by": f"wechatpy {wechatpy.__version__} (wechatpy.crypto.WeChatCrypto.encrypt_message)",
    "token": TOKEN,
    "encoding_aes_key": KEY,
    "appid": APPID,
    "vectors": vectors,
}, ensure_ascii=False, indent=2))
