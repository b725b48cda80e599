"""Helpers for the bank tests: principals of a role, random PDQ hashes and near neighbours."""

from __future__ import annotations

import random

from tests.accounts.helpers import make_user

from haven.accounts.models import Agency
from haven.accounts.permissions import Principal, principal_for_user
from haven.accounts.roles import Role

__all__ = ["flip_bits", "hamming", "principal_of_role", "random_pdq"]


def principal_of_role(role: Role, agency: Agency) -> Principal:
    principal = principal_for_user(make_user(role, agency))
    assert principal is not None
    return principal


def random_pdq(rng: random.Random) -> bytes:
    return rng.randbytes(32)


def flip_bits(digest: bytes, count: int, rng: random.Random) -> bytes:
    out = bytearray(digest)
    for bit in rng.sample(range(256), count):
        out[bit // 8] ^= 0x80 >> (bit % 8)
    return bytes(out)


def hamming(a: bytes, b: bytes) -> int:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).bit_count()
