"""Roles, permissions and record reach: the one table every check in Haven reads.

A role grants a set of permissions and a *reach*: how far across records it sees. Records
carry their agency, team and owner; a principal sees a record when its reach covers it
(own < team < agency < all). Views and the API never test roles by name: they ask
`haven.accounts.permissions` about a permission, and it reads this table.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "DEFAULT_TOKEN_SCOPES",
    "PERMISSIONS",
    "ROLE_LABELS",
    "ROLE_PERMISSIONS",
    "ROLE_REACH",
    "TOKEN_SCOPES",
    "TOTP_REQUIRED",
    "Reach",
    "Role",
]


class Role(StrEnum):
    ADMINISTRATOR = "administrator"
    PROVIDER_ANALYST = "provider_analyst"
    AUTHORITY_ANALYST = "authority_analyst"
    CASE_WORKER = "case_worker"
    SUPERVISOR = "supervisor"
    FOCAL_POINT = "focal_point"
    AUDITOR = "auditor"
    TRAINER = "trainer"


class Reach(StrEnum):
    OWN = "own"
    TEAM = "team"
    AGENCY = "agency"
    ALL = "all"


ROLE_LABELS: dict[Role, str] = {
    Role.ADMINISTRATOR: "Administrator",
    Role.PROVIDER_ANALYST: "Provider analyst",
    Role.AUTHORITY_ANALYST: "Authority analyst",
    Role.CASE_WORKER: "Case worker",
    Role.SUPERVISOR: "Supervisor",
    Role.FOCAL_POINT: "Focal point",
    Role.AUDITOR: "Auditor",
    Role.TRAINER: "Trainer",
}

# Every permission Haven checks, with what it allows.
PERMISSIONS: dict[str, str] = {
    "dashboard": "see the dashboard",
    "hash": "hash an uploaded file (nothing is stored)",
    "match": "look hashes up in the banks; use the match debugger",
    "media:reveal": "reveal a blurred preview of matched media (audited)",
    "banks:read": "list and read banks and their entries",
    "banks:write": "create, edit, enable and disable banks and entries; import lists",
    "banks:export": "export a bank's entries as a hash list",
    "index:read": "see the matcher's index status",
    "audit:read": "read the audit log",
    "users:manage": "create, change and deactivate users",
    "tokens:manage": "create and revoke API tokens",
    "node:manage": "see the node's keys and pin other nodes' keys",
    "scan": "scan uploads against the banks for a decision (their hashes are kept)",
    "detection:manage": "set the removal webhook; ask the provider to remove content",
    "text:scan": "scan texts for contacts and trafficking indicators (nothing is stored)",
    "ads:read": "see ingested ads, their signals and the clusters that link them (audited)",
    "ads:ingest": "ingest ads from a file and relink the clusters",
    "reports:submit": "send reports to this node's intake (a provider's machine client)",
    "reports:send": "check, edit and send reports from this node to an authority",
    "reports:destinations": "add the authorities and NCMEC accounts reports go to, with their keys",
    "evidence:read": "list preserved evidence and its chain of custody (never the content)",
    "evidence:preserve": "preserve content in the evidence vault",
    "evidence:view": "open preserved content, saying why (recorded in its custody log)",
    "evidence:hold": "place a law-enforcement hold that extends an item's retention",
    "evidence:export": "export an encrypted evidence package for law enforcement",
    "evidence:purge": "destroy evidence whose retention has ended",
    "review": "work the review queue: confirm, mark false positive, escalate, decide appeals",
    "policies:manage": "change what a match in each bank does; resume a paused bank",
    "transparency:read": "see the transparency figures: matches, decisions, appeals, removals",
}

_ANALYST = {"dashboard", "hash", "match", "media:reveal", "banks:read", "index:read"}
_TEXT = {"text:scan", "ads:read", "ads:ingest"}
# Provider analysts review held uploads, see the evidence they hold and send the reports.
_REVIEW = {
    "review",
    "evidence:read",
    "evidence:view",
    "reports:send",
    "transparency:read",
}

ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    # Administrators run the node but see no media: separation of duties.
    Role.ADMINISTRATOR: frozenset(
        {
            "dashboard",
            "hash",
            "match",
            "banks:read",
            "banks:write",
            "banks:export",
            "index:read",
            "users:manage",
            "tokens:manage",
            "node:manage",
            "detection:manage",
            "policies:manage",
            "reports:destinations",
            "transparency:read",
        }
    ),
    Role.PROVIDER_ANALYST: frozenset(_ANALYST | _TEXT | _REVIEW),
    Role.AUTHORITY_ANALYST: frozenset(_ANALYST | _TEXT | {"banks:write", "banks:export"}),
    Role.CASE_WORKER: frozenset({"dashboard"}),
    Role.SUPERVISOR: frozenset({"dashboard", "banks:read"}),
    # Focal points follow networks across borders: they read clusters, they do not ingest.
    Role.FOCAL_POINT: frozenset(
        {"dashboard", "banks:read", "banks:export", "index:read", "ads:read"}
    ),
    # Auditors read the log and what it points at, never media.
    Role.AUDITOR: frozenset(
        {
            "dashboard",
            "audit:read",
            "banks:read",
            "index:read",
            "ads:read",
            "evidence:read",
            "transparency:read",
        }
    ),
    Role.TRAINER: frozenset({"dashboard"}),
}

ROLE_REACH: dict[Role, Reach] = {
    Role.ADMINISTRATOR: Reach.ALL,
    Role.PROVIDER_ANALYST: Reach.AGENCY,
    Role.AUTHORITY_ANALYST: Reach.AGENCY,
    Role.CASE_WORKER: Reach.OWN,
    Role.SUPERVISOR: Reach.TEAM,
    Role.FOCAL_POINT: Reach.AGENCY,
    Role.AUDITOR: Reach.ALL,
    Role.TRAINER: Reach.OWN,
}

# Roles that touch cases or evidence must sign in with a second factor.
TOTP_REQUIRED: frozenset[Role] = frozenset(
    {
        Role.ADMINISTRATOR,
        Role.PROVIDER_ANALYST,
        Role.AUTHORITY_ANALYST,
        Role.CASE_WORKER,
        Role.SUPERVISOR,
        Role.FOCAL_POINT,
    }
)

# What a machine client's token may be granted; never user or node administration.
TOKEN_SCOPES: dict[str, str] = {
    name: PERMISSIONS[name]
    for name in (
        "hash",
        "match",
        "banks:read",
        "banks:write",
        "banks:export",
        "index:read",
        "text:scan",
        "reports:submit",
        "scan",
    )
}
DEFAULT_TOKEN_SCOPES = ("hash", "match")
