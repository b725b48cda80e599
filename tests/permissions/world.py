"""The records the permission matrix points its URLs at: two agencies, each with its own.

Agency A holds the people the matrix signs in as (one per role, all in team "Team A")
and its records; agency B holds records nobody in A may see, so a URL with a B record's
id checks that reach answers 404 (existence not disclosed), not 403.

The expectation file names records symbolically (`bank_a`, `entry_b.external_id`); this
module builds them and resolves the names. It imports models to *build* records, never
anything that says who may do what: the expectations stay hand-written.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db.models import Model
from django.utils import timezone
from tests.accounts.helpers import make_user

from haven.accounts.models import Agency, ApiToken, Team, User
from haven.accounts.roles import Role

__all__ = ["World", "build_world", "issue_token"]


def _pdq(seed: str) -> bytes:
    """A deterministic 32-byte stand-in for a PDQ hash (benign, made up)."""
    return hashlib.sha256(seed.encode()).digest()


@dataclass
class World:
    """Named records and the people who act on them."""

    records: dict[str, Model] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)

    def resolve(self, value: Any) -> Any:
        """`"bank_a"` → its pk; `"bank_a.name"` → that attribute; other values as given.

        A string starting with `=` is a literal (`"=bank_a"` is the text "bank_a").
        """
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if isinstance(value, dict):
            return {key: self.resolve(item) for key, item in value.items()}
        if not isinstance(value, str):
            return value
        if value.startswith("="):
            return value[1:]
        name, _, attribute = value.partition(".")
        if name not in self.records:
            return value
        record = self.records[name]
        if not attribute:
            return record.pk
        found = getattr(record, attribute)
        return bytes(found).hex() if isinstance(found, bytes | memoryview) else found


def _bank(agency: Agency, team: Team | None, owner: User | None, name: str) -> Model:
    from haven.banks.models import Bank

    return Bank.objects.create(
        name=name,
        description="benign test bank",
        source="permission matrix",
        agency=agency,
        team=team,
        owner=owner,
        created_by=owner,
    )


def _entry(bank: Model, external_id: str, user: User | None) -> Model:
    from haven.banks.models import BankEntry

    return BankEntry.objects.create(
        bank=bank,
        signal_type="pdq",
        hash=_pdq(external_id),
        external_id=external_id,
        source_list="matrix",
        classification="B2",
        added_by=user,
    )


def _pinned(name: str, seed: str, user: User | None) -> Model:
    from haven.exchange.models import PinnedNode

    key = _pdq(seed).hex()
    return PinnedNode.objects.create(
        name=name,
        public_key=key,
        key_id=key[:16],
        fingerprint=":".join(key[i : i + 4] for i in range(0, 40, 4)),
        pinned_by=user,
    )


def _cluster(agency: Agency, phone: str) -> Model:
    from haven.ads.models import Cluster

    return Cluster.objects.create(
        agency=agency,
        size=1,
        risk_max=10.0,
        risk_mean=10.0,
        reading="unclear",
        summary={"size": 1, "phones": [phone]},
    )


def _ad(agency: Agency, cluster: Model, external_id: str, phone: str) -> Model:
    """A synthetic, benign ad with one phone from the fictional 555-01xx range."""
    from haven.ads.models import Ad

    text = f"Synthetic test ad. Call {phone}"
    start = text.index(phone)
    return Ad.objects.create(
        agency=agency,
        cluster_id=cluster.pk,
        external_id=external_id,
        synthetic=True,
        text=text,
        lang="en",
        region="US",
        entities=[
            {
                "type": "phone",
                "value": phone,
                "normalized": phone.replace(" ", ""),
                "span": [start, start + len(phone)],
                "obscured": False,
            }
        ],
        content_digest=hashlib.sha256(text.encode()).hexdigest(),
    )


def _review(agency: Agency, content_id: str, with_file: bool) -> Model:
    """A held upload's review; agency A's has a file in the vault (generated shapes)."""
    import io

    from PIL import Image, ImageDraw

    from haven.accounts.permissions import system_principal
    from haven.detection.models import Review, ScannedContent
    from haven.evidence.services import preserve

    item = None
    if with_file:
        image = Image.new("RGB", (64, 48), (240, 230, 200))
        ImageDraw.Draw(image).ellipse((8, 8, 40, 40), fill=(30, 90, 160))
        out = io.BytesIO()
        image.save(out, format="PNG")
        keeper = system_principal(agency.pk, "matrix")
        item = preserve(
            keeper, out.getvalue(), reason="matrix: held for review", media_type="image"
        )
    content = ScannedContent.objects.create(
        agency=agency,
        content_id=content_id,
        media="image",
        hashes={"type": "image"},
        decision="hold",
        scanned_by="matrix",
    )
    return Review.objects.create(agency=agency, content=content, evidence=item)


def _draft(agency: Agency, content_id: str) -> Model:
    """A confirmed review whose report draft waits to be sent (made-up hashes, no file)."""
    from haven.accounts.permissions import system_principal
    from haven.detection.models import Review, ScannedContent
    from haven.detection.reporting import build_draft

    digest = hashlib.sha256(content_id.encode()).hexdigest()
    content = ScannedContent.objects.create(
        agency=agency,
        content_id=content_id,
        media="image",
        hashes={"md5": digest[:32], "sha256": digest},
        decision="block",
        scanned_by="matrix",
    )
    review = Review.objects.create(
        agency=agency,
        content=content,
        state="confirmed",
        classification="B2",
        decided_at=timezone.now(),
    )
    review.report_draft = build_draft(review, system_principal(agency.pk, "matrix"))
    review.save(update_fields=["report_draft"])
    return review


def build_world() -> World:
    """Agencies A and B with users, banks, entries, tokens, a pinned node, ads, clusters."""
    world = World()
    agency_a = Agency.objects.create(name="Agency A", country="ZZ")
    agency_b = Agency.objects.create(name="Agency B", country="ZZ")
    team_a = Team.objects.create(agency=agency_a, name="Team A")
    team_b = Team.objects.create(agency=agency_b, name="Team B")
    world.records.update(agency_a=agency_a, agency_b=agency_b, team_a=team_a, team_b=team_b)

    for role in Role:
        world.users[role.value] = make_user(
            role, agency=agency_a, team=team_a, username=f"a-{role.value}"
        )
    author_a = world.users[Role.AUTHORITY_ANALYST.value]
    author_b = make_user(Role.AUTHORITY_ANALYST, agency=agency_b, team=team_b, username="b-author")
    # Users as records (user administration pages): one in each agency.
    world.records["user_a"] = make_user(
        Role.PROVIDER_ANALYST, agency=agency_a, team=team_a, username="a-subject"
    )
    world.records["user_b"] = author_b

    bank_a = _bank(agency_a, team_a, author_a, "Bank A")
    bank_b = _bank(agency_b, team_b, author_b, "Bank B")
    world.records.update(bank_a=bank_a, bank_b=bank_b)
    world.records["entry_a"] = _entry(bank_a, "a-0001", author_a)
    world.records["entry_b"] = _entry(bank_b, "b-0001", author_b)

    admin_a = world.users[Role.ADMINISTRATOR.value]
    token_a, _ = ApiToken.issue("Token A", ["match"], agency_a, created_by=admin_a)
    token_b, _ = ApiToken.issue("Token B", ["match"], agency_b, created_by=None)
    world.records.update(token_a=token_a, token_b=token_b)
    world.records["pinned_a"] = _pinned("Node A", "pinned-a", admin_a)

    cluster_a = _cluster(agency_a, "+12025550142")
    cluster_b = _cluster(agency_b, "+12025550143")
    world.records.update(cluster_a=cluster_a, cluster_b=cluster_b)
    world.records["ad_a"] = _ad(agency_a, cluster_a, "a-ad-1", "+1 202 555 0142")
    world.records["ad_b"] = _ad(agency_b, cluster_b, "b-ad-1", "+1 202 555 0143")
    world.records["review_a"] = _review(agency_a, "a-upload-1", with_file=True)
    world.records["review_b"] = _review(agency_b, "b-upload-1", with_file=False)
    world.records["draft_a"] = _draft(agency_a, "a-upload-2")
    world.records["draft_b"] = _draft(agency_b, "b-upload-2")
    from haven.detection.models import Appeal, UploaderAccount

    for side, agency in (("a", agency_a), ("b", agency_b)):
        world.records[f"uploader_{side}"] = UploaderAccount.objects.create(
            agency=agency, account_id=f"{side}-account-1", matches=1
        )
        world.records[f"appeal_{side}"] = Appeal.objects.create(
            agency=agency, review=world.records[f"review_{side}"], statement="Synthetic appeal."
        )
    return world


def issue_token(world: World, name: str, scopes: list[str]) -> str:
    """A token of agency A named after its principal; `token_revoked`/`_expired` are dead."""
    agency_a = world.records["agency_a"]
    assert isinstance(agency_a, Agency)
    token, text = ApiToken.issue(f"matrix {name}", scopes, agency_a)
    if name == "token_revoked":
        ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    elif name == "token_expired":
        past = timezone.now() - timedelta(minutes=5)
        ApiToken.objects.filter(pk=token.pk).update(expires_at=past)
    return text
