"""This server process's handle on the node's key ring (created on first use)."""

from __future__ import annotations

from functools import cache

from django.conf import settings

from haven.keys import KeyRing

__all__ = ["keyring", "reload"]


@cache
def keyring() -> KeyRing:
    """The node's keys under HAVEN_KEYS_DIR; rotation by `haven keys rotate` calls reload()."""
    return KeyRing(settings.HAVEN.keys_dir)


def reload() -> KeyRing:
    keyring.cache_clear()
    return keyring()
