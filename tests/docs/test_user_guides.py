"""The user guides (docs/user-guide/) keep up with the roles and the navigation.

Fails when a role of `haven.accounts.roles.Role` has no guide page or no row in the
README's roles table (or the row's reach or second factor disagrees with the code), and
when a page's "What you see" list differs from the navigation links the role is shown
(`haven.web.context.NAVIGATION` filtered by the role's permissions). Reads files only: no
database.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from haven.accounts.roles import (
    ROLE_LABELS,
    ROLE_PERMISSIONS,
    ROLE_REACH,
    TOTP_REQUIRED,
    Role,
)
from haven.web.context import NAVIGATION

GUIDES = Path(__file__).resolve().parents[2] / "docs" / "user-guide"
README = GUIDES / "README.md"
NAV_SECTION = "## What you see"

ROLES = list(Role)


def page_of(role: Role) -> Path:
    return GUIDES / f"{role.value.replace('_', '-')}.md"


def visible_labels(role: Role) -> list[str]:
    """The navigation labels a person of this role sees (as `navigation()` filters them)."""
    return [label for label, _, permission in NAVIGATION if permission in ROLE_PERMISSIONS[role]]


def section(text: str, heading: str) -> str:
    """The text under `heading` (a "## " line) up to the next heading of the same level."""
    lines = text.splitlines()
    try:
        start = lines.index(heading)
    except ValueError:
        return ""
    body = []
    for line in lines[start + 1 :]:
        if line.startswith("## ") or line.startswith("# "):
            break
        body.append(line)
    return "\n".join(body)


def roles_table() -> dict[str, list[str]]:
    """README's roles table: role value (the `code` in the first cell) -> the row's cells."""
    rows: dict[str, list[str]] = {}
    for line in section(README.read_text(encoding="utf-8"), "## Roles").splitlines():
        if not line.startswith("|"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        found = re.search(r"`([a-z_]+)`", cells[0])
        if found:
            rows[found.group(1)] = cells
    return rows


def mentions(text: str, label: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(label)}(?![\w-])", text) is not None


@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
def test_every_role_has_a_guide_page(role: Role) -> None:
    page = page_of(role)
    assert page.is_file(), f"role {role.value!r} has no user guide: write {page}"
    title = f"# {ROLE_LABELS[role]}"
    first = page.read_text(encoding="utf-8").splitlines()[0]
    assert first == title, f"{page.name} should start with {title!r}"


@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
def test_every_role_is_in_the_readme_table(role: Role) -> None:
    rows = roles_table()
    assert role.value in rows, f"README.md's roles table has no row for `{role.value}`"
    cells = rows[role.value]
    assert len(cells) == 5, f"row of {role.value}: role | may do | reach | second factor | guide"
    _, _, reach, second_factor, guide = cells
    assert reach == ROLE_REACH[role].value, (
        f"README.md says {role.value}'s reach is {reach!r}; roles.py says "
        f"{ROLE_REACH[role].value!r}"
    )
    wanted = "required" if role in TOTP_REQUIRED else "not required"
    assert second_factor == wanted, (
        f"README.md says {role.value}'s second factor is {second_factor!r}; roles.py says "
        f"{wanted!r}"
    )
    assert f"({page_of(role).name})" in guide, f"row of {role.value} should link to its page"


@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
def test_each_page_names_the_navigation_its_role_sees(role: Role) -> None:
    page = page_of(role)
    if not page.is_file():
        pytest.fail(f"role {role.value!r} has no user guide: write {page}")
    text = page.read_text(encoding="utf-8")
    expected = visible_labels(role)
    missing = [label for label in expected if not mentions(text, label)]
    assert not missing, f"{page.name} never mentions the navigation link(s) {missing}"
    nav = section(text, NAV_SECTION)
    assert nav, f"{page.name} has no '{NAV_SECTION}' section"
    listed = re.findall(r"^- \*\*(.+?)\*\*", nav, flags=re.MULTILINE)
    assert listed == expected, (
        f"{page.name}'s '{NAV_SECTION}' list is {listed}; the {ROLE_LABELS[role]} role sees "
        f"{expected} (haven.web.context.NAVIGATION, in that order)"
    )


def test_no_page_for_a_role_that_does_not_exist() -> None:
    pages = {p.name for p in GUIDES.glob("*.md")} - {"README.md"}
    known = {page_of(role).name for role in ROLES}
    assert not pages - known, f"guide pages without a role: {sorted(pages - known)}"


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to '-'."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    return {
        slug(line.lstrip("#"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith("#")
    }


@pytest.mark.parametrize("page", sorted(GUIDES.glob("*.md")), ids=lambda p: p.name)
def test_links_between_documents_resolve(page: Path) -> None:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.DOTALL)
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        file_part, _, anchor = target.partition("#")
        linked = (page.parent / file_part).resolve() if file_part else page
        if not linked.is_file():
            broken.append(target)
            continue
        if anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(target)
    assert not broken, f"{page.name} links to missing files or headings: {broken}"
