"""`haven createuser NAME --role ROLE`: create a person who signs in to the web UI.

Scripts pipe the password with `--password-stdin`; at a terminal the command asks twice.
It never takes a password as an argument (it would be visible in the process list and the
shell history). Errors are one line on stderr: exit status 2 for bad arguments, 1 when the
user cannot be created (name taken, password refused).
"""

from __future__ import annotations

import getpass
import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from haven.accounts import services
from haven.accounts.management.commands._common import (
    USAGE,
    agency_named,
    clear_errors,
    team_named,
)
from haven.accounts.models import User
from haven.accounts.roles import ROLE_LABELS, Role

__all__ = ["Command"]


class Command(BaseCommand):
    help = "Create a user with a role (the password comes from stdin or a prompt)."
    stealth_options = ("stdin",)

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("name", metavar="NAME", help="user name used to sign in")
        parser.add_argument(
            "--role",
            required=True,
            metavar="ROLE",
            help="one of: " + ", ".join(role.value for role in Role),
        )
        parser.add_argument(
            "--agency", metavar="AGENCY", help="agency (created if missing; default: node name)"
        )
        parser.add_argument(
            "--team", metavar="TEAM", help="team in the agency (created if missing)"
        )
        parser.add_argument("--email", default="", metavar="E", help="e-mail address")
        parser.add_argument("--full-name", default="", metavar="NAME", help="the person's name")
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="read the password from the first line of standard input",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stdin = options.get("stdin") or sys.stdin
        username = str(options["name"]).strip()
        if not username:
            raise CommandError("the user name is empty", returncode=USAGE)
        try:
            User.username_validator(username)
        except Exception:
            raise CommandError(
                f"user name {username!r} is not valid: use letters, digits and @ . + - _",
                returncode=USAGE,
            ) from None
        try:
            role = Role(str(options["role"]).strip().lower())
        except ValueError:
            raise CommandError(
                f"unknown role {options['role']!r}; roles: {', '.join(r.value for r in Role)}",
                returncode=USAGE,
            ) from None
        password = self._password(stdin, options["password_stdin"])
        with clear_errors("createuser"):
            if User.objects.filter(username__iexact=username).exists():
                raise CommandError(f"user {username!r} already exists", returncode=1)
            agency = agency_named(options["agency"], self.stderr.write)
            team = None
            if options["team"]:
                team = team_named(agency, options["team"], self.stderr.write)
            user = services.create_user(
                username,
                role,
                agency,
                services.CLI_ACTOR,
                team=team,
                email=str(options["email"]).strip(),
                full_name=str(options["full_name"]).strip(),
                password=password,
            )
        where = agency.name + (f" / {team.name}" if team else "")
        self.stdout.write(f"created user {user.username} ({ROLE_LABELS[role]}) in {where}")
        if user.needs_second_factor:
            self.stdout.write(
                f"{user.username} will set up a second factor (TOTP) at the first sign-in"
            )

    def _password(self, stdin: Any, from_stdin: bool) -> str:
        if from_stdin:
            line = stdin.readline()
            password = str(line).rstrip("\r\n")
            if not password:
                raise CommandError("no password on standard input", returncode=USAGE)
            return password
        if not (hasattr(stdin, "isatty") and stdin.isatty()):
            raise CommandError(
                "no password: pipe it with --password-stdin, or run the command in a terminal",
                returncode=USAGE,
            )
        first = getpass.getpass("Password: ")
        second = getpass.getpass("Password (again): ")
        if not first:
            raise CommandError("the password is empty", returncode=1)
        if first != second:
            raise CommandError("the two passwords differ", returncode=1)
        return first
