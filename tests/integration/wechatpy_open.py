"""Verifies and decrypts a passive reply with wechatpy, as WeChat reads what the message URL
answers: an implementation of the scheme independent of this project.

Reads {"token", "encoding_aes_key", "appid", "reply"} as JSON on stdin, where "reply" is the
XML body answered; prints {"xml": <the decrypted reply>}. The messages tests call it through the
project's venv. wechatpy raises (and this exits non-zero) on a bad signature or AppID.
"""
import json
import sys
import xml.etree.ElementTree as ET

from wechatpy.crypto import WeChatCrypto

req = json.load(sys.stdin)
crypto = WeChatCrypto(req["token"], req["encoding_aes_key"], req["appid"])
envelope = ET.fromstring(req["reply"])
plain = crypto.decrypt_message(
    req["reply"],
    envelope.findtext("MsgSignature"),
    envelope.findtext("TimeStamp"),
    envelope.findtext("Nonce"),
)
json.dump({"xml": plain}, sys.stdout)
