"""`haven token create|list|revoke`: API tokens for machine clients.

`haven token create NAME` prints the new token alone on one line of stdout, so scripts can
capture it (`TOKEN=$(haven token create scanner)`); every note goes to stderr. The token
text is shown only then: Haven keeps its hash.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from haven.accounts import services
from haven.accounts.management.commands._common import USAGE, agency_named, clear_errors
from haven.accounts.models import ApiToken
from haven.accounts.roles import DEFAULT_TOKEN_SCOPES, TOKEN_SCOPES

__all__ = ["Command"]


def _expiry(text: str) -> int | None:
    """Days from `--expires-days`: a whole number of days, or `never`."""
    if text.strip().lower() == "never":
        return None
    try:
        days = int(text)
    except ValueError:
        raise CommandError(
            f"--expires-days must be a number of days or 'never', not {text!r}",
            returncode=USAGE,
        ) from None
    if not 1 <= days <= services.MAX_EXPIRY_DAYS:
        raise CommandError(
            f"--expires-days must be 1 to {services.MAX_EXPIRY_DAYS}, or 'never'",
            returncode=USAGE,
        )
    return days


def _when(moment: Any) -> str:
    return "never" if moment is None else timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


class Command(BaseCommand):
    help = "Create, list and revoke API tokens for machine clients."

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        create = actions.add_parser(
            "create", help="create a token; prints it alone on stdout (shown only once)"
        )
        create.add_argument("name", metavar="NAME", help="what uses the token")
        create.add_argument(
            "--scope",
            action="append",
            dest="scopes",
            metavar="SCOPE",
            help=(
                "a permission granted to the token (repeat for more; default: "
                + " ".join(DEFAULT_TOKEN_SCOPES)
                + "); one of: "
                + ", ".join(TOKEN_SCOPES)
            ),
        )
        create.add_argument(
            "--agency", metavar="AGENCY", help="agency (created if missing; default: node name)"
        )
        create.add_argument(
            "--expires-days",
            default=str(services.DEFAULT_EXPIRY_DAYS),
            metavar="N",
            help=f"days until it expires, or 'never' (default {services.DEFAULT_EXPIRY_DAYS})",
        )
        actions.add_parser("list", help="list tokens (never their secret)")
        revoke = actions.add_parser("revoke", help="revoke a token now")
        revoke.add_argument("token", metavar="KEY_OR_NAME", help="the token's key or name")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        with clear_errors(f"token {action}"):
            if action == "create":
                self._create(options)
            elif action == "list":
                self._list()
            else:
                self._revoke(str(options["token"]))

    def _create(self, options: dict[str, Any]) -> None:
        name = str(options["name"]).strip()
        if not name:
            raise CommandError("the token name is empty", returncode=USAGE)
        wanted = options.get("scopes") or list(DEFAULT_TOKEN_SCOPES)
        # `--scope a,b` is accepted too.
        scopes = [part for item in wanted for part in str(item).split(",")]
        try:
            checked = services.parse_scopes(scopes)
        except ValueError as exc:
            raise CommandError(str(exc), returncode=USAGE) from None
        days = _expiry(str(options["expires_days"]))
        agency = agency_named(options.get("agency"), self.stderr.write)
        token, text = services.issue_token(
            name, checked, agency, services.CLI_ACTOR, expires_days=days
        )
        self.stdout.write(text)
        self.stderr.write(
            f"created token {token.name!r} (key {token.key}) for {agency.name!r}: "
            f"scopes {', '.join(token.scopes)}; expires {_when(token.expires_at)}. "
            "It is shown only now: store it safely."
        )

    def _list(self) -> None:
        tokens = list(ApiToken.objects.select_related("agency").order_by("created_at"))
        if not tokens:
            self.stderr.write("no tokens")
            return
        header = ("KEY", "NAME", "STATUS", "SCOPES", "AGENCY", "CREATED", "EXPIRES", "LAST USED")
        rows = [header] + [
            (
                t.key,
                t.name,
                t.status,
                ",".join(t.scopes),
                t.agency.name,
                _when(t.created_at),
                _when(t.expires_at),
                _when(t.last_used_at),
            )
            for t in tokens
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        for row in rows:
            cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            self.stdout.write("  ".join(cells).rstrip())

    def _revoke(self, key_or_name: str) -> None:
        found = services.find_tokens(key_or_name)
        if not found:
            raise CommandError(f"no token with key or name {key_or_name!r}", returncode=1)
        if len(found) > 1:
            keys = ", ".join(t.key for t in found)
            raise CommandError(
                f"{len(found)} live tokens are named {key_or_name!r} (keys {keys}); revoke by key",
                returncode=1,
            )
        token = found[0]
        if services.revoke_token(token, services.CLI_ACTOR):
            self.stderr.write(f"revoked token {token.name!r} (key {token.key})")
        else:
            self.stderr.write(f"token {token.name!r} (key {token.key}) was already revoked")
