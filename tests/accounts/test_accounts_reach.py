"""Reach: which records each role sees, checked against a hand-written table, per record."""

from __future__ import annotations

import pytest
from tests.accounts.helpers import make_agency, make_user

from haven.accounts.models import Team
from haven.accounts.permissions import get_visible_or_404, principal_for_user, visible
from haven.accounts.roles import Role
from haven.banks.models import Bank

pytestmark = pytest.mark.django_db

# The records: (name, agency, team, owned by the viewer)
_RECORDS = [
    ("team-a", "A", "a", False),
    ("team-b", "A", "b", False),
    ("agency-wide", "A", None, False),
    ("mine", "A", None, True),
    ("other-agency", "B", None, False),
]
# What a viewer in agency A, team a, sees, by reach (written by hand, not derived).
_EXPECTED = {
    Role.CASE_WORKER: {"mine"},  # own
    Role.SUPERVISOR: {"team-a", "agency-wide", "mine"},  # team, plus the agency's no-team
    Role.PROVIDER_ANALYST: {"team-a", "team-b", "agency-wide", "mine"},  # agency
    Role.AUDITOR: {"team-a", "team-b", "agency-wide", "mine", "other-agency"},  # all
}


@pytest.mark.parametrize("role", sorted(_EXPECTED))
def test_each_reach_sees_exactly_its_records(role: Role) -> None:
    agencies = {"A": make_agency("Agency A"), "B": make_agency("Agency B")}
    teams = {name: Team.objects.create(agency=agencies["A"], name=f"team {name}") for name in "ab"}
    viewer = make_user(role.value, agency=agencies["A"], team=teams["a"])
    for name, agency, team, owned in _RECORDS:
        Bank.objects.create(
            name=name,
            agency=agencies[agency],
            team=teams[team] if team else None,
            owner=viewer if owned else None,
        )
    principal = principal_for_user(viewer)
    assert principal is not None
    seen = set(visible(Bank.objects.all(), principal).values_list("name", flat=True))
    assert seen == _EXPECTED[role]
    hidden = {name for name, *_ in _RECORDS} - seen
    for name in hidden:
        with pytest.raises(Exception, match="no such record"):
            get_visible_or_404(Bank.objects.all(), principal, name=name)


def test_a_team_reach_without_a_team_sees_only_its_own() -> None:
    agency = make_agency("Agency A")
    viewer = make_user(Role.SUPERVISOR.value, agency=agency)
    Bank.objects.create(name="agency-wide", agency=agency)
    Bank.objects.create(name="mine", agency=agency, owner=viewer)
    principal = principal_for_user(viewer)
    assert principal is not None
    assert set(visible(Bank.objects.all(), principal).values_list("name", flat=True)) == {"mine"}
