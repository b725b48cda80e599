"""`haven keys show` and `haven keys rotate --signing|--master`.

`show` prints what other nodes need to pin this one (node name, signing key id, fingerprint,
public key) and the ids of every key, never secret material. `rotate` adds a new active key;
older keys stay, so old ciphertexts still decrypt and old signatures still verify. Rotation
is audited ("keys.rotate").
"""

from __future__ import annotations

import getpass
import json
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from haven.audit.services import record
from haven.keys import KeyRing, KeyRingError
from haven.web import node

__all__ = ["Command"]


def _describe(ring: KeyRing) -> dict[str, Any]:
    active = ring.signing
    return {
        "node": settings.HAVEN.node_name,
        "signing_key": {
            "id": active.id,
            "created": active.created,
            "fingerprint": active.fingerprint,
            "public_key": active.public_key.hex(),
        },
        "older_signing_keys": [
            {"id": k.id, "created": k.created, "fingerprint": k.fingerprint}
            for k in reversed(ring.signing_keys)
            if k.id != active.id
        ],
        "master_keys": [
            {"id": k.id, "created": k.created, "active": k.id == ring.master.id}
            for k in reversed(ring.master_keys)
        ],
    }


class Command(BaseCommand):
    help = "Show the node's keys (never their secrets), or rotate one."

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        show = actions.add_parser("show", help="print the node's identity and key ids")
        show.add_argument("--json", action="store_true", help="print one JSON object instead")
        rotate = actions.add_parser("rotate", help="add a new active key; old keys stay")
        which = rotate.add_mutually_exclusive_group(required=True)
        which.add_argument("--signing", action="store_true", help="rotate the signing key")
        which.add_argument("--master", action="store_true", help="rotate the master key")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            ring = node.keyring()
        except KeyRingError as exc:
            raise CommandError(str(exc)) from None
        if options["action"] == "show":
            self._show(ring, as_json=options["json"])
        else:
            self._rotate(ring, signing=options["signing"])

    def _show(self, ring: KeyRing, *, as_json: bool) -> None:
        facts = _describe(ring)
        if as_json:
            self.stdout.write(json.dumps(facts, indent=2))
            return
        active = facts["signing_key"]
        lines = [
            f"node:            {facts['node']}",
            f"signing key id:  {active['id']} (active, created {active['created']})",
            f"fingerprint:     {active['fingerprint']}",
            f"public key:      {active['public_key']}",
        ]
        for key in facts["older_signing_keys"]:
            lines.append(f"older signing:   {key['id']} (created {key['created']})")
        for key in facts["master_keys"]:
            state = "active, " if key["active"] else ""
            lines.append(f"master key id:   {key['id']} ({state}created {key['created']})")
        self.stdout.write("\n".join(lines))

    def _rotate(self, ring: KeyRing, *, signing: bool) -> None:
        kind = "signing" if signing else "master"
        previous = ring.signing.id if signing else ring.master.id
        try:
            new = ring.rotate_signing() if signing else ring.rotate_master()
        except (KeyRingError, OSError) as exc:
            raise CommandError(f"could not rotate the {kind} key: {exc}") from None
        node.reload()
        record(
            "keys.rotate",
            actor="system",
            actor_label=f"haven keys rotate (run by {_os_user()})",
            target_type="key",
            target_id=new.id,
            detail={"kind": kind, "new_key_id": new.id, "previous_key_id": previous},
        )
        self.stdout.write(f"new active {kind} key: {new.id} (previous: {previous}, kept)")
        if signing:
            fresh = node.keyring().signing
            self.stdout.write(f"fingerprint:     {fresh.fingerprint}")
            self.stdout.write(
                "Other nodes that pinned this node must pin the new key: read them the "
                "fingerprint above over a channel you trust."
            )


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown user"
