"""Seals a push with wechatpy, an implementation of the scheme independent of this project.

Reads {"token", "encoding_aes_key", "appid", "xml", "timestamp", "nonce"} as JSON on stdin and
prints {"encrypt", "msg_signature"}. The events tests call it through the project's venv.
"""
import json
import sys
import xml.etree.ElementTree as ET

from wechatpy.crypto import WeChatCrypto

req = json.load(sys.stdin)
crypto = WeChatCrypto(req["token"], req["encoding_aes_key"], req["appid"])
out = ET.fromstring(crypto.encrypt_message(req["xml"], req["nonce"], req["timestamp"]))
json.dump({"encrypt": out.findtext("Encrypt"), "msg_signature": out.findtext("MsgSignature")}, sys.stdout)
