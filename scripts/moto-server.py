"""moto_server, with KMS refusing a key that is not enabled as AWS KMS does.

moto keeps a key's state (DisableKey, EnableKey) but still encrypts and decrypts under a
disabled key; AWS KMS answers DisabledException (KMSInvalidStateException while pending
deletion). The tests of `key_unavailable` need the real answer, so this wrapper checks the state
before GenerateDataKey, Encrypt and Decrypt, and otherwise runs moto_server unchanged.
"""

import sys

from moto.core.exceptions import JsonRESTError
from moto.kms import models
from moto.kms import utils
from moto.server import main


class DisabledException(JsonRESTError):
    code = 400

    def __init__(self, arn):
        super().__init__("DisabledException", f"{arn} is disabled.")


class KMSInvalidStateException(JsonRESTError):
    code = 400

    def __init__(self, arn):
        super().__init__("KMSInvalidStateException", f"{arn} is pending deletion.")


def check(backend, key_id):
    key = backend.keys[key_id]
    if key.key_state == "Disabled":
        raise DisabledException(key.arn)
    if key.key_state != "Enabled":
        raise KMSInvalidStateException(key.arn)


backend_class = models.KmsBackend
encrypt = backend_class.encrypt
decrypt = backend_class.decrypt


def checked_encrypt(self, key_id, plaintext, encryption_context):
    check(self, self.any_id_to_key_id(key_id))
    return encrypt(self, key_id, plaintext, encryption_context)


def checked_decrypt(self, ciphertext_blob, encryption_context, key_id=None):
    # The key is named inside the ciphertext blob (moto's own layout).
    try:
        blob_key_id = utils._deserialize_ciphertext_blob(ciphertext_blob).key_id
    except Exception:
        blob_key_id = None
    if blob_key_id in self.keys:
        check(self, blob_key_id)
    return decrypt(self, ciphertext_blob, encryption_context, key_id)


backend_class.encrypt = checked_encrypt
backend_class.decrypt = checked_decrypt

if __name__ == "__main__":
    sys.exit(main())
