"""A small provider world for the policy, appeal and transparency page tests.

Banked "known" items are random 32-byte stand-ins for PDQ hashes (benign, made up); the
provider's uploads are scanned through `haven.detection.services.scan` with a real
agency token's principal, so policies, reviews and appeals run as in production.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from django.test import Client
from tests.accounts.helpers import make_agency, make_user, signed_in_client

from haven.accounts.models import Agency, ApiToken, User
from haven.accounts.permissions import Principal, principal_for_token, principal_for_user
from haven.accounts.roles import Role
from haven.banks import services as banks
from haven.banks.models import Bank
from haven.detection.models import Review, ScannedContent
from haven.detection.services import ContentInfo, scan

__all__ = ["Provider", "build_provider", "client_for", "principal", "review_of", "scan_upload"]


@dataclass
class Provider:
    agency: Agency
    system: Principal
    scanner: Principal
    bank: Bank
    other_bank: Bank
    known: bytes
    other_known: bytes
    admin: User
    reviewer: User
    second_reviewer: User
    auditor: User


def principal(user: User) -> Principal:
    found = principal_for_user(user)
    assert found is not None
    return found


def client_for(user: User) -> Client:
    return signed_in_client(Client(), user)


def _bank(system: Principal, name: str, known: bytes) -> Bank:
    bank = banks.create_bank(system, name=name, threshold=31)
    banks.add_entry(system, bank, signal_type="pdq", hash_hex=known.hex(), external_id=name[:8])
    return bank


def build_provider(seed: int = 11, name: str = "Example Video (synthetic provider)") -> Provider:
    from haven.accounts.permissions import system_principal

    rng = random.Random(seed)
    agency = make_agency(name)
    system = system_principal(agency.pk, "test")
    known, other_known = rng.randbytes(32), rng.randbytes(32)
    token, _ = ApiToken.issue("provider scanner", ["scan"], agency)
    return Provider(
        agency=agency,
        system=system,
        scanner=principal_for_token(token),
        bank=_bank(system, "Known list (benign stand-ins)", known),
        other_bank=_bank(system, "Second list (benign stand-ins)", other_known),
        known=known,
        other_known=other_known,
        admin=make_user(Role.ADMINISTRATOR, agency, username=f"admin-{seed}"),
        reviewer=make_user(Role.PROVIDER_ANALYST, agency, username=f"reviewer-{seed}"),
        second_reviewer=make_user(Role.PROVIDER_ANALYST, agency, username=f"second-{seed}"),
        auditor=make_user(Role.AUDITOR, agency, username=f"auditor-{seed}"),
    )


def scan_upload(
    provider: Provider,
    content_id: str,
    known: bytes | None = None,
    *,
    account: str = "acct-1",
    uploaded_at: datetime | None = None,
) -> ScannedContent:
    info = ContentInfo(
        content_id=content_id,
        surface="public_post",
        uploader_account=account,
        uploader_name=f"synthetic {account}",
        uploaded_at=uploaded_at,
    )
    record = {"type": "image", "pdq": (known or provider.known).hex()}
    return scan(provider.scanner, info, record).content


def review_of(content: ScannedContent) -> Review:
    return Review.objects.get(content=content)
