"""The node's keys, kept outside the database: a master key and an Ed25519 signing key.

The master key encrypts evidence and case data (AES-256-GCM); the signing key signs audit
checkpoints, hash lists, notices and exchange envelopes. Both rotate: a new key becomes the
active one and older keys stay for decryption and verification. No Django import.
"""

from haven.keys.keyring import (
    KeyRing,
    KeyRingError,
    SignatureInvalid,
    fingerprint,
    key_id_of,
    verify_signature,
)

__all__ = [
    "KeyRing",
    "KeyRingError",
    "SignatureInvalid",
    "fingerprint",
    "key_id_of",
    "verify_signature",
]
