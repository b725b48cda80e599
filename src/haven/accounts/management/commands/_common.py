"""What the account commands share: finding or creating agencies and teams, and turning
database and validation failures into one clear line instead of a traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.db import DatabaseError, IntegrityError

from haven.accounts import services
from haven.accounts.models import Agency, Team

__all__ = ["USAGE", "agency_named", "clear_errors", "team_named"]

USAGE = 2  # exit status for bad arguments; 1 for a refused or failed action


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr)


def agency_named(name: str | None, note: Callable[[str], object] = _to_stderr) -> Agency:
    """The agency of this name, created when missing (default: the node's name)."""
    wanted = (name if name is not None else str(settings.HAVEN.node_name)).strip()
    if not wanted:
        raise CommandError("the agency name is empty", returncode=USAGE)
    found = Agency.objects.filter(name__iexact=wanted).first()
    if found is not None:
        return found
    agency = services.create_agency(wanted, services.CLI_ACTOR)
    note(f"created agency {agency.name!r}")
    return agency


def team_named(agency: Agency, name: str, note: Callable[[str], object] = _to_stderr) -> Team:
    wanted = name.strip()
    if not wanted:
        raise CommandError("the team name is empty", returncode=USAGE)
    found = Team.objects.filter(agency=agency, name__iexact=wanted).first()
    if found is not None:
        return found
    team = services.create_team(agency, wanted, services.CLI_ACTOR)
    note(f"created team {team.name!r} in {agency.name!r}")
    return team


@contextmanager
def clear_errors(command: str) -> Iterator[None]:
    """Database and validation failures become a CommandError (one line, exit status 1)."""
    try:
        yield
    except CommandError:
        raise
    except ValidationError as exc:
        raise CommandError(" ".join(exc.messages), returncode=1) from None
    except IntegrityError as exc:
        raise CommandError(f"{command}: refused by the database: {exc}", returncode=1) from None
    except DatabaseError as exc:
        raise CommandError(
            f"{command}: the database is not ready ({exc}); run `haven migrate` first",
            returncode=1,
        ) from None
