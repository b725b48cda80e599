"""`make demo`'s set-up: demo agencies, one user per role, benign demo banks, synthetic ads.

Everything made here is synthetic and marked so: the agencies' names say "demo", the bank
holds hashes of edited copies of scikit-image's sample photos of objects and places and of
generated images (benign stand-ins for known material, exactly as a real list is used), the
ads come from `haven.synth.ads` (benign wording, fictional phone ranges, marked synthetic),
and the users' passwords are printed because nobody real uses them. Re-running resets the
demo users' passwords and keeps their TOTP secrets, so an authenticator set up once keeps
working.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from haven.accounts.models import Agency, Team, User
from haven.accounts.permissions import Principal, system_principal
from haven.accounts.roles import ROLE_LABELS, Role
from haven.banks.models import Bank
from haven.index.formats import write_hash_list

__all__ = ["DEMO_AGENCY", "DemoSetup", "DemoUser", "setup_demo"]

DEMO_AGENCY = "Demo national hotline (synthetic)"
DEMO_OTHER_AGENCY = "Demo platform (synthetic)"
DEMO_BANK = "Demo known images (benign stand-ins)"
DEMO_ALLOW_LIST = "Demo allow-list (benign)"
DEMO_ADS = 2000
DEMO_ADS_SMALL = 300
DEMO_ADS_SEED = 2026

_USERNAMES: dict[Role, str] = {
    Role.ADMINISTRATOR: "admin",
    Role.PROVIDER_ANALYST: "provider",
    Role.AUTHORITY_ANALYST: "analyst",
    Role.CASE_WORKER: "caseworker",
    Role.SUPERVISOR: "supervisor",
    Role.FOCAL_POINT: "focalpoint",
    Role.AUDITOR: "auditor",
    Role.TRAINER: "trainer",
}


@dataclass(frozen=True, slots=True)
class DemoUser:
    username: str
    role: str
    password: str
    totp_secret: str  # base32, "" when the role signs in without a second factor


@dataclass(frozen=True, slots=True)
class DemoSetup:
    users: list[DemoUser]
    bank_id: int
    bank_entries: int
    corpus: Path
    expected_matches: set[str]
    ads: int = 0
    clusters: int = 0


def _totp_secret(user: User) -> str:
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="demo authenticator", confirmed=True)
    return base64.b32encode(device.bin_key).decode().rstrip("=")


def _demo_users(agency: Agency, team: Team) -> list[DemoUser]:
    made = []
    for role, username in _USERNAMES.items():
        password = f"demo-{secrets.token_urlsafe(9)}"
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(username=username, role=role.value, agency=agency, team=team)
        user.first_name, user.last_name = "Demo", ROLE_LABELS[role]
        user.role, user.agency, user.team, user.is_active = role.value, agency, team, True
        user.set_password(password)
        user.save()
        secret = _totp_secret(user) if user.needs_second_factor else ""
        made.append(DemoUser(username, role.value, password, secret))
    return made


def setup_demo(folder: Path, *, small: bool) -> DemoSetup:
    """Create (or refresh) the demo node's agencies, users and banks; idempotent."""
    from haven.banks import services
    from haven.demo import build_demo_list

    corpus, records, expected = build_demo_list(folder, small=small)
    with transaction.atomic():
        agency, _ = Agency.objects.get_or_create(name=DEMO_AGENCY, defaults={"country": "ZZ"})
        Agency.objects.get_or_create(name=DEMO_OTHER_AGENCY, defaults={"country": "ZZ"})
        team, _ = Team.objects.get_or_create(agency=agency, name="Demo analysts")
        users = _demo_users(agency, team)
    system = system_principal(agency.pk, "demo")
    bank = Bank.objects.filter(agency=agency, name=DEMO_BANK).first()
    if bank is None:
        bank = services.create_bank(
            system,
            name=DEMO_BANK,
            description="Synthetic demo list: PDQ hashes of edited benign photos and images.",
            source="haven demo",
        )
    services.import_hash_list(
        system, bank, write_hash_list(records, "csv"), "demo-list.csv", classification="A2"
    )
    if not Bank.objects.filter(agency=agency, name=DEMO_ALLOW_LIST).exists():
        services.create_bank(
            system,
            name=DEMO_ALLOW_LIST,
            description="Synthetic allow-list: a match here suppresses the other banks.",
            source="haven demo",
            is_allow_list=True,
        )
    ads, clusters = _demo_ads(system, DEMO_ADS_SMALL if small else DEMO_ADS)
    return DemoSetup(users, bank.pk, bank.entries.count(), corpus, expected, ads, clusters)


def _demo_ads(system: Principal, count: int) -> tuple[int, int]:
    """Synthetic ads for the Ad networks pages; a rerun finds them unchanged."""
    from haven.ads.models import Ad, Cluster
    from haven.ads.reader import parse_row
    from haven.ads.services import ingest_ads
    from haven.synth.ads import ad_record, generate_ads

    rows = [
        (line, parse_row(ad_record(ad), default_region="US"))
        for line, ad in enumerate(generate_ads(count, seed=DEMO_ADS_SEED), 1)
    ]
    ingest_ads(system, rows, source_name="haven demo (synthetic ads)")
    agency = system.agency_id
    return (
        Ad.objects.filter(agency_id=agency).count(),
        Cluster.objects.filter(agency_id=agency).count(),
    )
