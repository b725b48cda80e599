"""Text signals: extraction accuracy and speed against the synthetic ground truth, side by side.

    python -m benchmarks.bench_text_extraction [--ads 5000] [--chats 1000] [--seed 0]
        [--per-style 300] [--repeats 3] [--output benchmarks/results/text-extraction.md]

Why: Haven's phone extractor must find the numbers that ads hide from filters (spelled
digits, leetspeak, look-alike characters, spacing) without mistaking prices, heights or
reference numbers for phones, and it must be cheap enough to run on every ad a platform
receives. This run measures both on `haven.synth.ads.generate_ads` (synthetic, fictional
number ranges only, with per-entity ground truth), next to phonenumbers' own
`PhoneNumberMatcher` (region = the ad's region, Leniency.VALID) as the baseline:

(a) phone recall and precision, overall and on obfuscated numbers (truth `obscured=True`),
    matched by E.164 value within the ad (and, stricter, value plus span overlap), false
    positives on the generator's decoys counted apart; and per obfuscation style on a set
    written by the generator's own `obfuscate_phone` with one style at a time (the corpus
    truth does not record styles);
(b) entity precision/recall for emails, handles, wallets, URLs (and the other truth types),
    and per-indicator agreement with the indicator ids each ad was written to carry;
(c) throughput on one pinned core: `assess_ad` (extraction + indicators) and
    PhoneNumberMatcher alone on the same texts, and grooming conversations per second;
(d) grooming stages on `haven.synth.chats.generate_chats`: per-stage precision/recall at
    message level and how well the conversation risk separates grooming from benign chats.

Results go to the console and, as Markdown, to benchmarks/results/text-extraction.md.
The synthetic corpus is an engineering check, not evidence about real ads or chats.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import importlib.metadata
import os
import random
import re
import shlex
import statistics
import sys
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import phonenumbers
from rich.console import Console
from rich.table import Table

from benchmarks.bench_index import machine

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results" / "text-extraction.md"
TARGET_RECALL, TARGET_PRECISION, TARGET_RATE = 0.97, 0.99, 2000.0
TIMING_CHARS = 600  # the throughput target is stated for ads of about this length
ENTITY_TYPES = ("email", "handle", "wallet", "url", "price", "age", "city")
EXAMPLES = 8  # failure examples shown per kind


# ---------------------------------------------------------------- plain records


@dataclass(frozen=True)
class Item:
    """One truth or predicted entity, reduced to what matching needs."""

    normalized: str
    span: tuple[int, int]
    text: str
    obscured: bool = False
    style: str = ""


@dataclass
class Counts:
    truth: int = 0
    predicted: int = 0
    matched_truth: int = 0  # truth items found
    matched_predicted: int = 0  # predictions that found a truth item

    @property
    def recall(self) -> float | None:
        return self.matched_truth / self.truth if self.truth else None

    @property
    def precision(self) -> float | None:
        return self.matched_predicted / self.predicted if self.predicted else None


@dataclass
class PhoneEval:
    """Phone results of one method over the corpus."""

    overall: Counts = field(default_factory=Counts)
    strict: Counts = field(default_factory=Counts)
    obfuscated: Counts = field(default_factory=Counts)  # recall: obscured truth; precision: ads
    obfuscated_strict: Counts = field(default_factory=Counts)
    plain: Counts = field(default_factory=Counts)
    styles: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    fp_decoy: int = 0
    fp_other: int = 0
    misses: list[tuple[str, Item, list[Item]]] = field(default_factory=list)  # ad id, truth, preds
    false: list[tuple[str, Item, bool, str]] = field(
        default_factory=list
    )  # ad id, pred, decoy, ctx


def overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def match(truth: Sequence[Item], predicted: Sequence[Item], *, strict: bool) -> dict[int, int]:
    """One-to-one truth index -> predicted index, same normalized value.

    Pairs whose spans overlap are taken first; unless `strict`, the remaining same-value
    pairs are then matched regardless of span (the value is what an investigator uses).
    """
    pairs: dict[int, int] = {}
    used: set[int] = set()
    for need_overlap in (True,) if strict else (True, False):
        for t, item in enumerate(truth):
            if t in pairs:
                continue
            for p, guess in enumerate(predicted):
                if p in used or guess.normalized != item.normalized:
                    continue
                if need_overlap and not overlaps(item.span, guess.span):
                    continue
                pairs[t] = p
                used.add(p)
                break
    return pairs


def add(counts: Counts, truth: int, predicted: int, pairs: int) -> None:
    counts.truth += truth
    counts.predicted += predicted
    counts.matched_truth += pairs
    counts.matched_predicted += pairs


# ---------------------------------------------------------------- obfuscation styles

_DIGIT_WORDS = re.compile(
    r"(?i)\b(?:zero|oh|one|two|three|four|five|six|seven|eight|nine|"
    r"z[eé]ro|un|deux|trois|quatre|cinq|sept|huit|neuf|"
    r"cero|uno|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|"
    r"um|dois|quatro|sete|oito|nove)\b"
)


def style_of(entity: Any) -> str:
    """The obfuscation style of a truth phone: the generator's own label when it exposes one,
    else a coarse reading of the written text (the first that applies, most exotic first)."""
    for name in ("style", "obfuscation", "technique"):
        label = getattr(entity, name, None)
        if isinstance(label, str) and label:
            return label
    text: str = entity.text
    if not getattr(entity, "obscured", False):
        return "plain"
    if any(ord(c) > 127 and unicodedata.category(c) not in ("Zs",) for c in text):
        if any(unicodedata.category(c) == "So" for c in text):
            return "~emoji/symbols"
        return "~unicode digits/letters"
    words = len(_DIGIT_WORDS.findall(text))
    digits = sum(c.isdigit() for c in text)
    if words and not digits:
        return "~spelled"
    if words:
        return "~digits + words"
    if re.search(r"[0-9][a-z]|[a-z][0-9]", text, re.I):
        return "~leet"
    return "~separators"


# The per-style set: numbers written by the generator's own `obfuscate_phone` with exactly one
# style, in a one-line carrier per language (with and without a contact keyword).
STYLE_CARRIERS = {
    "en": ("Call or text {p} for details.", "Bookings: {p}"),
    "fr": ("Appelez le {p} pour plus d'infos.", "Contact : {p}"),
    "es": ("Llama o escribe al {p} para más info.", "Contacto: {p}"),
    "pt": ("Ligue ou mande mensagem para {p}.", "Contato: {p}"),
}
US_AREA_CODES = ("202", "312", "415", "617", "713")


@dataclass(frozen=True)
class StyleEntity:
    type: str
    text: str
    normalized: str
    span: tuple[int, int]
    obscured: bool
    style: str


@dataclass(frozen=True)
class StyleCase:
    id: str
    text: str
    lang: str
    region: str
    entities: tuple[StyleEntity, ...]
    decoys: tuple[tuple[int, int], ...] = ()


def fictional_number(region: str, rng: random.Random) -> tuple[str, str]:
    """(digits as dialled, E.164) from the fictional ranges only."""
    if region == "US":
        national = f"{rng.choice(US_AREA_CODES)}555{rng.randint(100, 199):04d}"
        e164 = "+1" + national
    elif region == "AU":
        national = f"0491570{rng.randint(0, 999):03d}"
        e164 = "+61" + national[1:]
    elif region == "FR":
        national = f"019900{rng.randint(0, 9999):04d}"
        e164 = "+33" + national[1:]
    else:
        raise ValueError(f"no fictional range for region {region!r}")
    return (e164 if rng.random() < 0.2 else national), e164


def style_cases(
    obfuscate: Callable[..., tuple[str, bool]],
    styles: Sequence[str],
    pairs: Sequence[tuple[str, str]],
    per_style: int,
    seed: int,
) -> list[StyleCase]:
    """`per_style` one-number texts per style, spread over the corpus' (lang, region) pairs."""
    rng = random.Random(seed)
    cases = []
    for style in styles:
        for n in range(per_style):
            lang, region = pairs[n % len(pairs)]
            dialled, e164 = fictional_number(region, rng)
            written, obscured = obfuscate(dialled, lang, rng, styles=[style])
            carrier = STYLE_CARRIERS.get(lang, STYLE_CARRIERS["en"])[n % 2]
            start = carrier.index("{p}")
            text = carrier.replace("{p}", written)
            truth = StyleEntity(
                "phone", written, e164, (start, start + len(written)), obscured, style
            )
            cases.append(StyleCase(f"style-{style}-{n:04d}", text, lang, region, (truth,)))
    return cases


# ---------------------------------------------------------------- evaluation


def truth_items(ad: Any, kind: str) -> list[Item]:
    return [
        Item(e.normalized, tuple(e.span), e.text, bool(e.obscured), style_of(e))
        for e in ad.entities
        if e.type == kind
    ]


def haven_items(entities: Iterable[Any], kind: str) -> list[Item]:
    return [
        Item(e.normalized, tuple(e.span), e.value, bool(e.obscured))
        for e in entities
        if e.type == kind
    ]


def baseline_phones(text: str, region: str) -> list[Item]:
    """phonenumbers' own matcher: VALID leniency, the ad's region for national numbers."""
    found = []
    matcher = phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID)
    for hit in matcher:
        e164 = phonenumbers.format_number(hit.number, phonenumbers.PhoneNumberFormat.E164)
        found.append(Item(e164, (hit.start, hit.end), hit.raw_string))
    return found


def distinct(items: Sequence[Item]) -> list[Item]:
    """One item per normalized value (its first occurrence); obfuscated only when every
    occurrence is, since a plain occurrence of the same number gives it away."""
    first: dict[str, Item] = {}
    plain: set[str] = set()
    for item in items:
        first.setdefault(item.normalized, item)
        if not item.obscured:
            plain.add(item.normalized)
    return [
        item if item.normalized not in plain else replace(item, obscured=False, style="plain")
        for item in first.values()
    ]


def evaluate_phones(ads: Sequence[Any], predictions: Sequence[list[Item]]) -> PhoneEval:
    """Distinct E.164 values per ad (what links ads); the strict variant per occurrence."""
    result = PhoneEval()
    for ad, found in zip(ads, predictions, strict=True):
        occurrences = truth_items(ad, "phone")
        truth, predicted = distinct(occurrences), distinct(found)
        pairs = match(truth, predicted, strict=False)
        strict = match(occurrences, found, strict=True)
        add(result.overall, len(truth), len(predicted), len(pairs))
        add(result.strict, len(occurrences), len(found), len(strict))
        for t, item in enumerate(truth):
            bucket = result.obfuscated if item.obscured else result.plain
            bucket.truth += 1
            bucket.matched_truth += t in pairs
            style = result.styles[item.style]
            style.truth += 1
            style.matched_truth += t in pairs
            if t not in pairs:
                near = [p for p in found if overlaps(p.span, item.span)]
                result.misses.append((ad.id, item, near))
        for t, item in enumerate(occurrences):
            if item.obscured:
                result.obfuscated_strict.truth += 1
                result.obfuscated_strict.matched_truth += t in strict
        # Precision per subset: every prediction in the ads whose phones all belong to it.
        if truth and all(t.obscured for t in truth):
            result.obfuscated.predicted += len(predicted)
            result.obfuscated.matched_predicted += len(pairs)
        elif truth and not any(t.obscured for t in truth):
            result.plain.predicted += len(predicted)
            result.plain.matched_predicted += len(pairs)
        if occurrences and all(t.obscured for t in occurrences):
            result.obfuscated_strict.predicted += len(found)
            result.obfuscated_strict.matched_predicted += len(strict)
        styles = {t.style for t in truth}
        if len(styles) == 1:
            style = result.styles[styles.pop()]
            style.predicted += len(predicted)
            style.matched_predicted += len(pairs)
        matched = set(pairs.values())
        for p, guess in enumerate(predicted):
            if p in matched:
                continue
            decoy = any(overlaps(guess.span, span) for span in ad.decoys)
            if decoy:
                result.fp_decoy += 1
            else:
                result.fp_other += 1
            lo, hi = max(0, guess.span[0] - 25), guess.span[1] + 25
            result.false.append((ad.id, guess, decoy, ad.text[lo:hi]))
    return result


def evaluate_entities(
    ads: Sequence[Any], entities: Sequence[Sequence[Any]]
) -> dict[str, tuple[Counts, Counts]]:
    """Per type: (distinct values per ad, occurrences matched by value and overlapping span)."""
    results: dict[str, tuple[Counts, Counts]] = {}
    for kind in ENTITY_TYPES:
        loose, strict = Counts(), Counts()
        for ad, found in zip(ads, entities, strict=True):
            truth = truth_items(ad, kind)
            predicted = haven_items(found, kind)
            values, guesses = distinct(truth), distinct(predicted)
            add(loose, len(values), len(guesses), len(match(values, guesses, strict=False)))
            add(strict, len(truth), len(predicted), len(match(truth, predicted, strict=True)))
        if loose.truth or loose.predicted:
            results[kind] = (loose, strict)
    return results


def evaluate_indicators(
    ads: Sequence[Any], assessments: Sequence[Any]
) -> dict[str, tuple[int, int, int]]:
    """Per indicator id: (truth ads, predicted ads, both), at ad level."""
    truth_n: Counter[str] = Counter()
    pred_n: Counter[str] = Counter()
    both: Counter[str] = Counter()
    for ad, assessment in zip(ads, assessments, strict=True):
        truth = set(ad.indicators)
        predicted = {hit.id for hit in assessment.indicators}
        truth_n.update(truth)
        pred_n.update(predicted)
        both.update(truth & predicted)
    ids = sorted(set(truth_n) | set(pred_n))
    return {i: (truth_n[i], pred_n[i], both[i]) for i in ids}


def auc(positives: Sequence[float], negatives: Sequence[float]) -> float | None:
    """Probability that a random positive outscores a random negative (ties count half)."""
    if not positives or not negatives:
        return None
    ranked = sorted([(s, 1) for s in positives] + [(s, 0) for s in negatives])
    rank_sum, i = 0.0, 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        mid = (i + j + 1) / 2  # average 1-based rank of the tie block
        rank_sum += mid * sum(label for _, label in ranked[i:j])
        i = j
    n_pos, n_neg = len(positives), len(negatives)
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


# ---------------------------------------------------------------- timing


def pin_one_core() -> str:
    """Pin this process to one core (the one it runs on now) so that rates are per core."""
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity)"
    allowed = sorted(os.sched_getaffinity(0))
    core = allowed[-1]
    os.sched_setaffinity(0, {core})
    return f"pinned to core {core} of {len(allowed)} allowed"


@dataclass(frozen=True)
class Timing:
    name: str
    items: int
    unit: str
    cpu_s: list[float]  # one per repeat
    wall_s: list[float]

    @property
    def best_cpu(self) -> float:
        return min(self.cpu_s)

    @property
    def rate(self) -> float:
        return self.items / self.best_cpu if self.best_cpu > 0 else float("inf")

    @property
    def cpu_us_per_item(self) -> float:
        return 1e6 * self.best_cpu / self.items


def time_it(
    name: str, unit: str, items: Sequence[Any], call: Callable[[Any], object], repeats: int
) -> Timing:
    for item in items[: min(50, len(items))]:  # warm-up: lazy tables, caches
        call(item)
    cpu, wall = [], []
    for _ in range(repeats):
        gc.collect()
        c0, w0 = time.process_time(), time.perf_counter()
        for item in items:
            call(item)
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return Timing(name, len(items), unit, cpu, wall)


def timing_texts(ads: Sequence[Any]) -> tuple[list[tuple[str, str, str]], str]:
    """(text, lang, region) of about TIMING_CHARS characters: the ads themselves when they are
    that long on average, else consecutive ads of one region joined until long enough."""
    mean = statistics.fmean(len(ad.text) for ad in ads)
    if 0.7 * TIMING_CHARS <= mean <= 1.4 * TIMING_CHARS:
        return [(ad.text, ad.lang, ad.region) for ad in ads], f"the ads as generated ({mean:.0f})"
    texts: list[tuple[str, str, str]] = []
    pending: dict[str, list[Any]] = defaultdict(list)
    for ad in ads:
        group = pending[ad.region]
        group.append(ad)
        if sum(len(a.text) + 1 for a in group) >= TIMING_CHARS:
            texts.append(("\n".join(a.text for a in group), group[0].lang, ad.region))
            group.clear()
    return (
        texts,
        f"consecutive ads of one region joined to >= {TIMING_CHARS} chars (ads: {mean:.0f})",
    )


# ---------------------------------------------------------------- report


@dataclass
class Section:
    title: str
    headers: list[str]
    rows: list[list[str]]
    notes: list[str] = field(default_factory=list)
    numeric: bool = True  # right-align every column but the first


def pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.2f} %"


def flag(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def counts_row(label: str, counts: Counts) -> list[str]:
    return [
        label,
        f"{counts.truth:,}",
        f"{counts.matched_truth:,}",
        pct(counts.recall),
        f"{counts.predicted:,}",
        pct(counts.precision),
    ]


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def render(console: Console, sections: Sequence[Section]) -> None:
    for section in sections:
        table = Table(title=section.title, title_justify="left")
        for i, header in enumerate(section.headers):
            table.add_column(header, justify="right" if i and section.numeric else "left")
        for row in section.rows:
            table.add_row(*row)
        console.print(table)
        for note in section.notes:
            console.print(f"  [dim]{note}[/dim]")


def markdown(sections: Sequence[Section]) -> list[str]:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines: list[str] = []
    for section in sections:
        lines += ["", f"## {section.title}", ""]
        lines.append("| " + " | ".join(section.headers) + " |")
        rest = "---:" if section.numeric else "---"
        lines.append("|" + "|".join(["---"] + [rest] * (len(section.headers) - 1)) + "|")
        lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in section.rows]
        if section.notes:
            lines.append("")
            lines += [f"- {note}" for note in section.notes]
    return lines


# ---------------------------------------------------------------- sections


COUNT_HEADERS = ["subset", "truth", "found", "recall", "predicted", "precision"]


def phone_sections(haven: PhoneEval, baseline: PhoneEval) -> list[Section]:
    rows = []
    for name, ev in (("Haven", haven), ("phonenumbers VALID", baseline)):
        rows.append(counts_row(f"{name}: all phones", ev.overall))
        rows.append(counts_row(f"{name}: all, value + span overlap", ev.strict))
        rows.append(counts_row(f"{name}: obfuscated", ev.obfuscated))
        rows.append(counts_row(f"{name}: obfuscated, value + span", ev.obfuscated_strict))
        rows.append(counts_row(f"{name}: plain", ev.plain))
    main = Section(
        "Phones: E.164 value within the ad",
        COUNT_HEADERS,
        rows,
        [
            "found/recall: distinct E.164 values of an ad found among the distinct values "
            "predicted for it (a value is 'obfuscated' when every occurrence of it is); "
            "'value + span': every occurrence, matched one-to-one by value and overlapping "
            "span (an extractor that reports a repeated number once loses the repeats there).",
            "precision: predictions matching a truth phone / all predictions, over all ads; for "
            "'obfuscated' (and 'plain') over the ads whose phones are all obfuscated (all plain), "
            "so false positives in those ads count against it.",
        ],
    )
    fp = Section(
        "Phones: false positives",
        ["method", "on decoys (prices, heights, dates, refs, 24/7)", "elsewhere", "total"],
        [
            [name, f"{ev.fp_decoy:,}", f"{ev.fp_other:,}", f"{ev.fp_decoy + ev.fp_other:,}"]
            for name, ev in (("Haven", haven), ("phonenumbers VALID", baseline))
        ],
        ["'elsewhere' includes a wrong value read from a real phone's text."],
    )
    return [main, fp]


def style_section(haven: PhoneEval, baseline: PhoneEval, per_style: int) -> Section:
    rows = []
    for style in sorted(set(haven.styles) | set(baseline.styles)):
        h, b = haven.styles[style], baseline.styles[style]
        rows.append(
            [
                style,
                f"{h.truth:,}",
                pct(h.recall),
                pct(h.precision),
                pct(b.recall),
                pct(b.precision),
            ]
        )
    return Section(
        "Phones per obfuscation style (the generator's obfuscate_phone, one style at a time)",
        [
            "style",
            "numbers",
            "Haven recall",
            "Haven precision",
            "baseline recall",
            "baseline precision",
        ],
        rows,
        [
            f"{per_style} numbers per style, each alone in a one-line carrier in the ad's "
            "language (half with a contact keyword, half after 'Contact:'), spread over the "
            "corpus' (language, region) pairs; 20 % written in international form.",
            "A style that cannot apply to a digit leaves it as written (generator rule), so a "
            "style is not always fully hidden.",
        ],
    )


def entity_section(results: dict[str, tuple[Counts, Counts]]) -> Section:
    rows = []
    for kind, (loose, strict) in results.items():
        rows.append(
            [
                kind,
                f"{loose.truth:,}",
                f"{loose.predicted:,}",
                pct(loose.recall),
                pct(loose.precision),
                pct(strict.recall),
                pct(strict.precision),
            ]
        )
    return Section(
        "Other entities (Haven): distinct normalized values within the ad",
        [
            "type",
            "truth",
            "predicted",
            "recall",
            "precision",
            "recall (+span)",
            "precision (+span)",
        ],
        rows,
        [
            "'+span': every occurrence, matched one-to-one by value and overlapping span.",
            "'domain' predictions are not scored (the truth has URLs, not bare domains).",
        ],
    )


def indicator_section(results: dict[str, tuple[int, int, int]]) -> Section:
    rows = []
    for ident, (truth, predicted, both) in results.items():
        rows.append(
            [
                ident,
                f"{truth:,}",
                f"{predicted:,}",
                f"{both:,}",
                pct(both / predicted if predicted else None),
                pct(both / truth if truth else None),
            ]
        )
    return Section(
        "Indicators: agreement with the ids each ad was written to carry (informative)",
        ["indicator", "truth ads", "flagged ads", "both", "precision", "recall"],
        rows,
        [
            "The generator's ids say what the text was written to carry; an indicator the text "
            "happens to carry anyway counts as a false positive here.",
        ],
    )


def score_section(ads: Sequence[Any], assessments: Sequence[Any]) -> Section:
    by_kind: dict[str, list[float]] = defaultdict(list)
    for ad, assessment in zip(ads, assessments, strict=True):
        by_kind[ad.kind].append(float(assessment.score))
    rows = [
        [
            kind,
            f"{len(scores):,}",
            f"{statistics.fmean(scores):.1f}",
            f"{statistics.median(scores):.1f}",
        ]
        for kind, scores in sorted(by_kind.items())
    ]
    notes = []
    traf = by_kind.get("trafficking-like", [])
    for other in ("benign", "spam"):
        value = auc(traf, by_kind.get(other, []))
        if value is not None:
            notes.append(f"AUC of the ad score, trafficking-like vs {other}: {value:.3f}")
    return Section(
        "Ad score by ground-truth kind (informative)",
        ["kind", "ads", "mean", "median"],
        rows,
        notes,
    )


def timing_section(timings: Sequence[Timing], how: str, pinned: str) -> Section:
    rows = [
        [
            t.name,
            f"{t.items:,} {t.unit}",
            f"{t.best_cpu:.3f}",
            f"{t.rate:,.0f}",
            f"{t.cpu_us_per_item:,.1f}",
            f"{min(t.wall_s):.3f}",
        ]
        for t in timings
    ]
    return Section(
        "Throughput, one core",
        ["method", "items", "CPU s (best)", "items/s/core", "CPU µs/item", "wall s (best)"],
        rows,
        [
            f"Process {pinned}; best of the repeats (process CPU time), after a warm-up.",
            f"Texts: {how}.",
        ],
    )


def grooming_sections(chats: Sequence[Any], assessments: Sequence[Any]) -> list[Section]:
    from haven.text.grooming import STAGES

    per_stage = {stage: Counts() for stage in STAGES}
    for chat, assessment in zip(chats, assessments, strict=True):
        found: dict[int, set[str]] = defaultdict(set)
        for hit in assessment.hits:
            found[hit.message_index].add(hit.stage)
        for index, message in enumerate(chat.messages):
            truth = set(message.stages)
            for stage in STAGES:
                counts = per_stage[stage]
                counts.truth += stage in truth
                counts.predicted += stage in found[index]
                both = stage in truth and stage in found[index]
                counts.matched_truth += both
                counts.matched_predicted += both
    stage_rows = [
        [
            stage,
            f"{c.truth:,}",
            f"{c.predicted:,}",
            f"{c.matched_truth:,}",
            pct(c.precision),
            pct(c.recall),
        ]
        for stage, c in per_stage.items()
    ]
    stages = Section(
        "Grooming stages at message level (informative)",
        ["stage", "truth messages", "flagged messages", "both", "precision", "recall"],
        stage_rows,
        ["A message counts for a stage when any cue of that stage fires in it."],
    )
    groom = [a.risk for c, a in zip(chats, assessments, strict=True) if c.grooming]
    benign = [a.risk for c, a in zip(chats, assessments, strict=True) if not c.grooming]
    rows = []
    for label, risks in (("grooming", groom), ("benign", benign)):
        if not risks:
            continue
        rows.append(
            [
                label,
                f"{len(risks):,}",
                f"{statistics.fmean(risks):.1f}",
                f"{statistics.median(risks):.1f}",
                pct(sum(r >= 30 for r in risks) / len(risks)),
                pct(sum(r >= 60 for r in risks) / len(risks)),
            ]
        )
    by_scenario: dict[tuple[bool, str], list[float]] = defaultdict(list)
    for chat, assessment in zip(chats, assessments, strict=True):
        scenario = str(getattr(chat, "scenario", "") or ("grooming" if chat.grooming else "benign"))
        by_scenario[(not chat.grooming, scenario)].append(assessment.risk)
    for (benign_chat, scenario), risks in sorted(by_scenario.items()):
        if len(by_scenario) <= 2:
            break  # nothing finer than grooming vs benign
        rows.append(
            [
                f"  {'benign' if benign_chat else 'grooming'}: {scenario}",
                f"{len(risks):,}",
                f"{statistics.fmean(risks):.1f}",
                f"{statistics.median(risks):.1f}",
                pct(sum(r >= 30 for r in risks) / len(risks)),
                pct(sum(r >= 60 for r in risks) / len(risks)),
            ]
        )
    value = auc(groom, benign)
    conversation = Section(
        "Grooming risk per conversation (informative)",
        [
            "chats",
            "count",
            "mean risk",
            "median risk",
            "share >= 30 (medium)",
            "share >= 60 (high)",
        ],
        rows,
        [
            f"AUC of the risk, grooming vs benign: {'—' if value is None else f'{value:.3f}'}",
            "Triage aid, not detection: synthetic chats say nothing about real grooming.",
        ],
    )
    return [stages, conversation]


def spread(items: Sequence[Any], key: Callable[[Any], str], count: int) -> list[Any]:
    """Up to `count` items taken round-robin over the values of `key`, distinct texts only."""
    groups: dict[str, list[Any]] = defaultdict(list)
    for item in items:
        groups[key(item)].append(item)
    picked: list[Any] = []
    seen: set[str] = set()
    while len(picked) < count and any(groups.values()):
        for name in sorted(groups):
            while groups[name]:
                item = groups[name].pop(0)
                if repr(item[1].text) not in seen:
                    seen.add(repr(item[1].text))
                    picked.append(item)
                    break
            if len(picked) >= count:
                break
    return picked


def examples_section(haven: PhoneEval, styled: PhoneEval) -> Section:
    rows = []
    misses = spread(styled.misses, lambda m: str(m[1].style), 2 * EXAMPLES)
    misses += spread(haven.misses, lambda m: str(m[1].style), EXAMPLES)
    for ad_id, item, near in misses:
        got = "; ".join(f"{p.text!r} -> {p.normalized}" for p in near) or "nothing"
        rows.append(["missed", ad_id, item.style, repr(item.text), item.normalized, got])
    false = spread(haven.false, lambda f: str(f[2]), EXAMPLES)
    false += spread(styled.false, lambda f: str(f[2]), EXAMPLES // 2)
    for ad_id, guess, decoy, context in false:
        rows.append(
            [
                "false (decoy)" if decoy else "false",
                ad_id,
                "",
                repr(guess.text),
                guess.normalized,
                repr(context),
            ]
        )
    return Section(
        "Haven phone failures (first examples)",
        ["kind", "ad", "style", "text", "value", "Haven read here / context"],
        rows,
        [
            f"Corpus: {len(haven.misses):,} missed, {len(haven.false):,} false in all; per-style "
            f"set: {len(styled.misses):,} missed, {len(styled.false):,} false.",
            "style: exact for the per-style set (ids style-...); for corpus ads a guess from the "
            "written text, marked '~' (the corpus truth does not record the style).",
        ],
        numeric=False,
    )


# ---------------------------------------------------------------- main


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--ads", type=int, default=5000, help="synthetic ads (default 5000)")
    parser.add_argument("--chats", type=int, default=1000, help="synthetic chats (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="generator seed (default 0)")
    parser.add_argument(
        "--per-style", type=int, default=300, help="numbers per obfuscation style (default 300)"
    )
    parser.add_argument("--repeats", type=int, default=3, help="timing repeats (default 3)")
    parser.add_argument("--output", type=Path, default=RESULTS, help="Markdown report path")
    args = parser.parse_args(argv)
    if args.ads < 1 or args.chats < 0 or args.repeats < 1 or args.per_style < 1:
        parser.error("--ads, --per-style and --repeats must be positive, --chats non-negative")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    console = Console(width=None if sys.stdout.isatty() else 160)
    started_at = dt.datetime.now(dt.UTC)
    load_start = load_average()
    wall0 = time.perf_counter()
    pinned = pin_one_core()

    from haven.synth.ads import OBFUSCATION_STYLES, generate_ads, obfuscate_phone
    from haven.text.entities import extract_entities
    from haven.text.grooming import Message, assess_conversation
    from haven.text.indicators import assess_ad

    with console.status("generating synthetic ads"):
        ads = generate_ads(args.ads, seed=args.seed)
    phones_truth = [e for ad in ads for e in ad.entities if e.type == "phone"]
    corpus = (
        f"{len(ads):,} ads (seed {args.seed}; langs {dict(Counter(a.lang for a in ads))}, "
        f"regions {dict(Counter(a.region for a in ads))}, "
        f"kinds {dict(Counter(a.kind for a in ads))}); "
        f"{len(phones_truth):,} phones, {sum(e.obscured for e in phones_truth):,} obfuscated; "
        f"{sum(len(a.decoys) for a in ads):,} decoys; mean length "
        f"{statistics.fmean(len(a.text) for a in ads):.0f} chars"
    )
    console.log(corpus)

    with console.status("Haven: assess_ad on every ad"):
        assessments = [assess_ad(ad.text, lang=ad.lang, region=ad.region) for ad in ads]
    with console.status("baseline: PhoneNumberMatcher on every ad"):
        baseline = [baseline_phones(ad.text, ad.region) for ad in ads]
    haven_phone = evaluate_phones(ads, [haven_items(a.entities, "phone") for a in assessments])
    baseline_phone = evaluate_phones(ads, baseline)
    sections = phone_sections(haven_phone, baseline_phone)
    pairs = sorted({(ad.lang, ad.region) for ad in ads})
    cases = style_cases(obfuscate_phone, OBFUSCATION_STYLES, pairs, args.per_style, args.seed)
    with console.status(f"per-style set: {len(cases):,} numbers"):
        styled_haven = evaluate_phones(
            cases,
            [
                haven_items(extract_entities(c.text, region=c.region, lang=c.lang), "phone")
                for c in cases
            ],
        )
        styled_baseline = evaluate_phones(cases, [baseline_phones(c.text, c.region) for c in cases])
    sections.append(style_section(styled_haven, styled_baseline, args.per_style))
    sections.append(entity_section(evaluate_entities(ads, [a.entities for a in assessments])))
    sections.append(indicator_section(evaluate_indicators(ads, assessments)))
    sections.append(score_section(ads, assessments))

    chats: list[Any] = []
    chat_assessments: list[Any] = []
    conversations: list[list[Message]] = []
    if args.chats:
        from haven.synth.chats import generate_chats

        with console.status("generating synthetic chats and assessing them"):
            chats = generate_chats(args.chats, seed=args.seed)
            conversations = [
                [Message(m.sender, m.text, m.sent_at) for m in chat.messages] for chat in chats
            ]
            chat_assessments = [assess_conversation(c) for c in conversations]
        sections += grooming_sections(chats, chat_assessments)

    texts, how = timing_texts(ads)
    timings = []
    with console.status("timing on one core"):
        timings.append(
            time_it(
                "Haven assess_ad (extraction + indicators)",
                "ads",
                texts,
                lambda t: assess_ad(t[0], lang=t[1], region=t[2]),
                args.repeats,
            )
        )
        timings.append(
            time_it(
                "Haven extract_entities alone",
                "ads",
                texts,
                lambda t: extract_entities(t[0], region=t[2], lang=t[1]),
                args.repeats,
            )
        )
        timings.append(
            time_it(
                "phonenumbers PhoneNumberMatcher (VALID) alone",
                "ads",
                texts,
                lambda t: baseline_phones(t[0], t[2]),
                args.repeats,
            )
        )
        if conversations:
            timings.append(
                time_it(
                    "Haven grooming assess_conversation",
                    "chats",
                    conversations,
                    assess_conversation,
                    args.repeats,
                )
            )
    sections.append(timing_section(timings, how, pinned))
    sections.append(examples_section(haven_phone, styled_haven))

    haven_rate = timings[0].rate
    verdict = [
        f"{flag((haven_phone.obfuscated.recall or 0) >= TARGET_RECALL)} obfuscated phone recall "
        f"{pct(haven_phone.obfuscated.recall)} (target >= {TARGET_RECALL:.0%}; phonenumbers "
        f"{pct(baseline_phone.obfuscated.recall)})",
        f"{flag((haven_phone.obfuscated.precision or 0) >= TARGET_PRECISION)} obfuscated phone "
        f"precision {pct(haven_phone.obfuscated.precision)} (target >= {TARGET_PRECISION:.0%}; "
        f"phonenumbers {pct(baseline_phone.obfuscated.precision)})",
        f"{flag(haven_rate >= TARGET_RATE)} assess_ad throughput {haven_rate:,.0f} ads/s/core "
        f"(target >= {TARGET_RATE:,.0f}; PhoneNumberMatcher alone {timings[2].rate:,.0f})",
        f"info: all phones recall {pct(haven_phone.overall.recall)}, precision "
        f"{pct(haven_phone.overall.precision)}; false positives on decoys {haven_phone.fp_decoy:,} "
        f"(phonenumbers {baseline_phone.fp_decoy:,})",
    ]
    render(console, sections)
    for line in verdict:
        console.print(line)

    info = {**machine(), "phonenumbers": importlib.metadata.version("phonenumbers")}
    command = "python -m benchmarks.bench_text_extraction " + shlex.join(
        sys.argv[1:] if argv is None else list(argv)
    )
    header = [
        "# Text extraction: Haven vs phonenumbers, grooming triage",
        "",
        f"Generated by `benchmarks/bench_text_extraction.py` on {started_at:%Y-%m-%d %H:%M} UTC.",
        "",
        f"- Command: `{command.strip()}`",
        f"- Machine: nproc = {info['nproc']}, CPU: {info['cpu']}; Python {info['python']}, "
        f"phonenumbers {info['phonenumbers']}",
        f"- Load average {load_start} at start, {load_average()} at end; wall "
        f"{time.perf_counter() - wall0:.0f} s; {pinned}",
        f"- Corpus (synthetic, fictional number ranges): {corpus}",
        f"- Chats (synthetic): {len(chats):,}, of which grooming "
        f"{sum(bool(c.grooming) for c in chats):,}; "
        f"{sum(len(c.messages) for c in chats) / max(1, len(chats)):.1f} messages per chat",
        "",
        "## Verdict",
        "",
        *[f"- {line}" for line in verdict],
    ]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(header + markdown(sections)) + "\n", encoding="utf-8")
    console.log(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
