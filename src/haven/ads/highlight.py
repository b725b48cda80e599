"""Cutting an ad's text into runs, each with the entities and indicator hits that cover it.

Spans overlap (a phone inside an "obscured contact" hit, a price inside an availability
cue), so a reviewer's page cannot wrap each span in its own element. The text is cut at
every span boundary instead; each run knows every mark over it and the template gives it
one `<mark>` with all their classes and labels. Concatenating the runs gives the text back.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Mark", "Run", "runs"]


@dataclass(frozen=True, slots=True)
class Mark:
    """One span to show: `kind` is "entity" or "indicator", `label` what it is."""

    start: int
    end: int
    kind: str
    css: str
    label: str


@dataclass(frozen=True, slots=True)
class Run:
    text: str
    marks: tuple[Mark, ...]

    @property
    def css(self) -> str:
        return " ".join(sorted({m.css for m in self.marks}))

    @property
    def label(self) -> str:
        return "; ".join(dict.fromkeys(m.label for m in self.marks))


def runs(text: str, marks: Sequence[Mark]) -> list[Run]:
    """Runs covering `text` in order; spans outside the text are clipped, empty ones dropped."""
    size = len(text)
    usable = [m for m in marks if min(max(m.start, 0), size) < min(max(m.end, 0), size)]
    cuts = {0, size}
    for m in usable:
        cuts.add(min(max(m.start, 0), size))
        cuts.add(min(max(m.end, 0), size))
    ordered = sorted(cuts)
    out: list[Run] = []
    for start, end in itertools.pairwise(ordered):
        covering = tuple(m for m in usable if m.start <= start and m.end >= end)
        if out and not covering and not out[-1].marks:
            out[-1] = Run(out[-1].text + text[start:end], ())
            continue
        out.append(Run(text[start:end], covering))
    return out
