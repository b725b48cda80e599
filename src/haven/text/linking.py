"""Link ads into advertiser clusters: shared contacts, shared photos and shared templates.

Why: one ad says little; the network says more. An operation posts the same template with
different names slotted in, moves the same phone across cities, reuses one photo. This
module joins ads that share a normalized phone, e-mail, handle, wallet or URL (the
entities are extracted beforehand, e.g. by `haven.text.entities`), the same photo (PDQ,
exact or within a small Hamming distance) or near-identical text (MinHash LSH over token
shingles that keep digits and emoji, verified by exact Jaccard), and summarises each
cluster for a reviewer: contacts, names seen in template slots, cities, dates, indicator
profile, risk, and both readings of it. A cluster that spans many cities or many phones is
often spam rather than trafficking; the summary says so next to the trafficking-like
signals instead of choosing silently. A cluster is evidence for a human, never a verdict.

Two safeguards against the chaining that single-linkage clustering is prone to:
- a contact value shared by more than `max_value_ads` ads (a platform's help line, a
  placeholder) joins nothing and is reported; above `common_value_ads` it still links but
  the link and the cluster are flagged;
- a text link between two groups that each already have their own contacts (and share
  none) needs the stricter `contact_threshold`, or several similar pairs between the two
  groups (`contact_support`): one pair of look-alike ads with different phones is more
  often shared boilerplate than one advertiser; many such pairs is an operation rotating
  its phones.

Deterministic: the same records in the same order and the same config give the same
clusters, whatever `workers` is.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import multiprocessing
import re
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Protocol, cast

import numpy as np
from numpy.typing import NDArray

from haven.text.minhash import (
    MinHasher,
    ShingleSets,
    candidate_pairs,
    estimate_jaccard,
    shingle_sets,
)
from haven.text.templates import Template, TemplateError, detect_template, tokenize

__all__ = [
    "LINKABLE_TYPES",
    "READINGS",
    "AdRecord",
    "Cluster",
    "ClusterSummary",
    "EntityLike",
    "Link",
    "LinkConfig",
    "Linking",
    "LinkingError",
    "UnionFind",
    "link_ads",
    "summarize_cluster",
]

LINKABLE_TYPES = ("phone", "email", "handle", "wallet", "url")
READINGS = ("spam-like", "trafficking-like", "unclear")
_LABELS = {
    "phone": "phone",
    "email": "e-mail",
    "handle": "handle",
    "wallet": "wallet",
    "url": "URL",
}
_PDQ_RE = re.compile(r"[0-9a-f]{64}")
_CONTACT_TYPES = ("phone", "email", "handle")


class LinkingError(ValueError):
    """Bad records or configuration for linking."""


class EntityLike(Protocol):
    """Anything with a type and a normalized value (`haven.text.Entity`, `TruthEntity`)."""

    @property
    def type(self) -> str: ...

    @property
    def normalized(self) -> str: ...


def _parse_time(value: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise LinkingError(f"posted_at is not ISO 8601: {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


@dataclass(frozen=True)
class AdRecord:
    """One ad as linking needs it; entities are (type, normalized) pairs or entity objects.

    After construction `entities` always holds (type, normalized) pairs, lower-case types.
    """

    id: str
    text: str
    entities: tuple[EntityLike | tuple[str, str], ...] = ()
    city: str | None = None
    posted_at: str | None = None
    image_pdq: str | None = None
    score: float = 0.0
    indicator_ids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise LinkingError(f"ad id must be a non-empty str, got {self.id!r}")
        if not isinstance(self.text, str):
            raise LinkingError(f"ad {self.id}: text must be a str")
        pairs: list[tuple[str, str]] = []
        for entity in self.entities:
            if isinstance(entity, tuple):
                if len(entity) != 2 or not all(isinstance(x, str) for x in entity):
                    raise LinkingError(f"ad {self.id}: entity pairs must be (type, normalized)")
                kind, value = entity
            else:
                kind, value = entity.type, entity.normalized
            if value:
                pairs.append((kind.lower(), value))
        object.__setattr__(self, "entities", tuple(pairs))
        if self.image_pdq is not None:
            pdq = self.image_pdq.strip().lower()
            if not _PDQ_RE.fullmatch(pdq):
                raise LinkingError(f"ad {self.id}: image_pdq must be 64 hex digits")
            object.__setattr__(self, "image_pdq", pdq)
        if self.posted_at is not None:
            _parse_time(self.posted_at)
        if not isinstance(self.score, int | float) or not math.isfinite(self.score):
            raise LinkingError(f"ad {self.id}: score must be a finite number")
        object.__setattr__(self, "indicator_ids", tuple(self.indicator_ids))

    @property
    def entity_pairs(self) -> tuple[tuple[str, str], ...]:
        return cast("tuple[tuple[str, str], ...]", self.entities)


@dataclass(frozen=True)
class LinkConfig:
    """Every knob of `link_ads`; the defaults are the ones benchmarked."""

    shingle_size: int = 3
    num_perm: int = 128
    bands: int = 25
    rows: int = 5
    threshold: float = 0.5  # exact Jaccard of shingle sets for a template link
    contact_threshold: float = 0.7  # ... between two groups that have different contacts
    contact_support: int = 3  # ... unless this many of their pairs pass `threshold`
    contact_support_share: float = 0.2  # ... and at least this share of the smaller group
    estimate_slack: float = 0.1  # LSH candidates whose estimate is this far below are dropped
    link_types: tuple[str, ...] = LINKABLE_TYPES
    use_text: bool = True
    use_entities: bool = True
    use_images: bool = True
    image_radius: int = 0  # PDQ Hamming radius for photo links; 0 = identical hashes only
    common_value_ads: int = 100  # a value in more ads links, but is flagged
    max_value_ads: int = 5000  # a value in more ads is ignored and reported
    max_bucket: int = 64
    window: int = 8
    template_share: float = 0.6
    max_template_members: int = 50
    min_template_coverage: float = 0.3
    spam_cities: int = 10
    spam_phones: int = 5
    burst_ads: int = 10
    burst_hours: float = 24.0
    travel_days: float = 30.0
    risk_threshold: float = 50.0
    seed: int = 0
    workers: int = 1

    def __post_init__(self) -> None:
        if self.bands * self.rows > self.num_perm:
            raise LinkingError("bands x rows must not exceed num_perm")
        if not 0.0 < self.threshold <= 1.0 or not 0.0 < self.contact_threshold <= 1.0:
            raise LinkingError("thresholds must be in (0, 1]")
        if self.workers < 1:
            raise LinkingError("workers must be >= 1")
        if not 0 <= self.image_radius <= 64:
            raise LinkingError("image_radius must be 0..64")
        if self.common_value_ads < 2 or self.max_value_ads < self.common_value_ads:
            raise LinkingError("need 2 <= common_value_ads <= max_value_ads")


@dataclass(frozen=True)
class Link:
    """One reason two ads are in the same cluster."""

    a: str
    b: str
    kind: str  # "phone" | "email" | "handle" | "wallet" | "url" | "image" | "template"
    value: str  # the shared value, the PDQ hash, or "" for templates
    similarity: float  # 1.0 for shared values; Jaccard for templates; 1 - d/256 for photos
    reason: str
    common: bool = False  # the value is shared by more than `common_value_ads` ads


@dataclass(frozen=True)
class ClusterSummary:
    """What a reviewer sees first about a cluster; both readings are always given."""

    size: int
    phones: tuple[str, ...]
    emails: tuple[str, ...]
    handles: tuple[str, ...]
    other_contacts: tuple[str, ...]  # wallets and URLs, as "type:value"
    names: tuple[str, ...]  # names seen in template slots (heuristic)
    cities: tuple[tuple[str, int], ...]  # (city, ads), most ads first
    first_posted: str | None
    last_posted: str | None
    span_days: float | None
    indicator_profile: tuple[tuple[str, int], ...]  # (indicator id, ads carrying it)
    risk_max: float
    risk_mean: float
    signals: tuple[str, ...]  # network signals found (indicators.md, per cluster)
    spam_reasons: tuple[str, ...]
    trafficking_reasons: tuple[str, ...]
    reading: str  # one of READINGS
    template: Template | None


@dataclass(frozen=True)
class Cluster:
    id: str
    ad_ids: tuple[str, ...]
    links: tuple[Link, ...]
    summary: ClusterSummary


@dataclass(frozen=True)
class Linking:
    """The result of `link_ads`: clusters of two or more ads; every other ad is alone."""

    clusters: tuple[Cluster, ...]
    ads: int
    ignored_values: tuple[tuple[str, str, int], ...]  # (type, value, ads) too common to link
    held_back: int  # similar pairs not linked: their groups have different contacts
    config: LinkConfig
    timings: tuple[tuple[str, float], ...] = field(default=(), compare=False)

    @property
    def singletons(self) -> int:
        return self.ads - sum(len(c.ad_ids) for c in self.clusters)

    def labels(self, ad_ids: Iterable[str]) -> dict[str, str]:
        """Cluster id of each ad; an ad in no cluster is labelled with its own id."""
        of = {ad: c.id for c in self.clusters for ad in c.ad_ids}
        return {ad: of.get(ad, ad) for ad in ad_ids}

    def cluster_of(self, ad_id: str) -> Cluster | None:
        for cluster in self.clusters:
            if ad_id in cluster.ad_ids:
                return cluster
        return None


class UnionFind:
    """Disjoint sets over 0..n-1 with union by size and path halving."""

    __slots__ = ("parent", "size")

    def __init__(self, n: int) -> None:
        if n < 0:
            raise LinkingError(f"size must be >= 0, got {n}")
        self.parent = list(range(n))
        self.size = [1] * n

    def find(self, x: int) -> int:
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, a: int, b: int) -> int:
        """Merge the sets of a and b; returns the root of the merged set."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return ra
        if self.size[ra] < self.size[rb]:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]
        return ra

    def labels(self) -> list[int]:
        return [self.find(x) for x in range(len(self.parent))]


# ------------------------------------------------------------------------------- text


def _text_block(args: tuple[list[str], int, int, int]) -> tuple[ShingleSets, NDArray[np.uint32]]:
    texts, k, num_perm, seed = args
    sets = shingle_sets((tokenize(t) for t in texts), k)
    return sets, MinHasher(num_perm, seed).signatures(sets)


def _text_sets(texts: Sequence[str], config: LinkConfig) -> tuple[ShingleSets, NDArray[np.uint32]]:
    k, perms, seed = config.shingle_size, config.num_perm, config.seed
    if config.workers == 1 or len(texts) < 4000:
        return _text_block((list(texts), k, perms, seed))
    step = max(2000, math.ceil(len(texts) / (config.workers * 8)))
    jobs = [(list(texts[i : i + step]), k, perms, seed) for i in range(0, len(texts), step)]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=config.workers, mp_context=context) as pool:
        parts = list(pool.map(_text_block, jobs))
    return ShingleSets.concat([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


# ------------------------------------------------------------------------------ linking


@dataclass
class _Edges:
    """Links recorded while merging: only edges that joined two groups are kept."""

    a: list[int] = field(default_factory=list)
    b: list[int] = field(default_factory=list)
    links: list[tuple[str, str, float, bool]] = field(default_factory=list)


def _link_values(
    records: Sequence[AdRecord],
    config: LinkConfig,
    uf: UnionFind,
    contact: list[bool],
    edges: _Edges,
) -> list[tuple[str, str, int]]:
    wanted = frozenset(config.link_types)
    by_value: dict[tuple[str, str], list[int]] = {}
    for i, record in enumerate(records):
        for kind, value in dict.fromkeys(record.entity_pairs):
            if kind in wanted:
                by_value.setdefault((kind, value), []).append(i)
        if config.use_images and record.image_pdq is not None:
            by_value.setdefault(("image", record.image_pdq), []).append(i)
    ignored: list[tuple[str, str, int]] = []
    for (kind, value), ads in by_value.items():
        if len(ads) > config.max_value_ads:
            ignored.append((kind, value, len(ads)))
            continue
        for i in ads:
            contact[i] = True
        if len(ads) < 2:
            continue
        common = len(ads) > config.common_value_ads
        anchor = ads[0]
        for other in ads[1:]:
            if uf.find(anchor) != uf.find(other):
                uf.union(anchor, other)
                edges.a.append(anchor)
                edges.b.append(other)
                edges.links.append((kind, value, 1.0, common))
    if config.use_images and config.image_radius > 0:
        _link_near_images(records, config, uf, edges)
    return ignored


def _link_near_images(
    records: Sequence[AdRecord], config: LinkConfig, uf: UnionFind, edges: _Edges
) -> None:
    from haven.index import MultiIndexHash  # only needed for near-photo links

    first: dict[str, int] = {}
    for i, record in enumerate(records):
        if record.image_pdq is not None:
            first.setdefault(record.image_pdq, i)
    if len(first) < 2:
        return
    hexes = list(first)
    raw = np.frombuffer(bytes.fromhex("".join(hexes)), dtype=np.uint8).reshape(-1, 32)
    matches = MultiIndexHash(raw).search(raw, config.image_radius)
    for q, s, d in zip(
        matches.query.tolist(), matches.slot.tolist(), matches.distance.tolist(), strict=True
    ):
        if q < s:
            a, b = first[hexes[q]], first[hexes[s]]
            if uf.find(a) != uf.find(b):
                uf.union(a, b)
                edges.a.append(a)
                edges.b.append(b)
                edges.links.append(("image", hexes[s], 1.0 - d / 256, False))


def _link_text(
    sets: ShingleSets,
    signatures: NDArray[np.uint32],
    config: LinkConfig,
    uf: UnionFind,
    contact: list[bool],
    edges: _Edges,
) -> int:
    pairs = candidate_pairs(
        signatures,
        bands=config.bands,
        rows=config.rows,
        max_bucket=config.max_bucket,
        window=config.window,
    )
    estimate = estimate_jaccard(signatures, pairs)
    keep = estimate >= config.threshold - config.estimate_slack
    pairs, estimate = pairs[keep], estimate[keep]
    order = np.lexsort((pairs[:, 1], pairs[:, 0], -estimate))
    held = 0
    find, jaccard, size = uf.find, sets.jaccard, uf.size
    support: dict[tuple[int, int], int] = {}
    for i, j in pairs[order].tolist():
        ri, rj = find(i), find(j)
        if ri == rj:
            continue
        similarity = jaccard(i, j)
        if similarity < config.threshold:
            continue
        if contact[ri] and contact[rj] and similarity < config.contact_threshold:
            # enough similar pairs between the two groups make the merge anyway: one
            # operation rotating phones, not two advertisers sharing boilerplate
            key = (ri, rj) if ri < rj else (rj, ri)
            votes = support.get(key, 0) + 1
            support[key] = votes
            need = max(config.contact_support, math.ceil(
                config.contact_support_share * min(size[ri], size[rj])
            ))  # fmt: skip
            if votes < need:
                held += 1
                continue
        root = uf.union(ri, rj)
        contact[root] = contact[ri] or contact[rj]
        edges.a.append(i)
        edges.b.append(j)
        edges.links.append(("template", "", similarity, False))
    return held


def _reason(kind: str, value: str, similarity: float, common: bool) -> str:
    if kind == "template":
        return f"template {similarity:.2f} similar"
    if kind == "image":
        if similarity < 1.0:
            return f"near-identical image (PDQ {value[:12]}…, {similarity:.2f})"
        return f"same image (PDQ {value[:12]}…)"
    text = f"shared {_LABELS.get(kind, kind)} {value}"
    return f"{text} (common value: possibly spam or a shared service)" if common else text


def link_ads(ads: Iterable[AdRecord], config: LinkConfig | None = None) -> Linking:
    """Cluster ads by shared contacts, photos and templates, and summarise each cluster."""
    config = config or LinkConfig()
    records = list(ads)
    for record in records:
        if not isinstance(record, AdRecord):
            raise LinkingError(f"expected AdRecord, got {type(record).__name__}")
    seen: set[str] = set()
    for record in records:
        if record.id in seen:
            raise LinkingError(f"duplicate ad id {record.id!r}")
        seen.add(record.id)
    timings: list[tuple[str, float]] = []
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings.append((stage, now - clock))
        clock = now

    n = len(records)
    uf = UnionFind(n)
    contact = [False] * n
    edges = _Edges()
    ignored: list[tuple[str, str, int]] = []
    if config.use_entities or config.use_images:
        value_config = config if config.use_entities else _images_only(config)
        ignored = _link_values(records, value_config, uf, contact, edges)
        lap("entity and image links")
    held = 0
    if config.use_text and n > 1:
        sets, signatures = _text_sets([r.text for r in records], config)
        lap("tokens, shingles, MinHash")
        held = _link_text(sets, signatures, config, uf, contact, edges)
        del sets, signatures
        lap("LSH and verification")

    roots = uf.labels()
    members: dict[int, list[int]] = {}
    for i, root in enumerate(roots):
        members.setdefault(root, []).append(i)
    groups = [m for m in members.values() if len(m) > 1]
    groups.sort(key=lambda m: m[0])
    index_of = {root: k for k, root in enumerate(roots[m[0]] for m in groups)}
    cluster_links: list[list[Link]] = [[] for _ in groups]
    for a, b, (kind, value, similarity, common) in zip(edges.a, edges.b, edges.links, strict=True):
        k = index_of[roots[a]]
        cluster_links[k].append(
            Link(
                records[a].id,
                records[b].id,
                kind,
                value,
                similarity,
                _reason(kind, value, similarity, common),
                common,
            )
        )
    clusters = tuple(
        Cluster(
            id=f"cluster-{k + 1:06d}",
            ad_ids=tuple(records[i].id for i in group),
            links=tuple(cluster_links[k]),
            summary=summarize_cluster([records[i] for i in group], config, links=cluster_links[k]),
        )
        for k, group in enumerate(groups)
    )
    lap("clusters and summaries")
    return Linking(
        clusters=clusters,
        ads=n,
        ignored_values=tuple(ignored),
        held_back=held,
        config=config,
        timings=tuple(timings),
    )


def _images_only(config: LinkConfig) -> LinkConfig:
    return replace(config, link_types=())


# ---------------------------------------------------------------------------- summaries


def _consecutive_phones(phones: Sequence[str]) -> list[tuple[str, str]]:
    numbers = sorted((len(p), int(p[1:]), p) for p in phones if p[1:].isdigit())
    return [
        (a[2], b[2]) for a, b in itertools.pairwise(numbers) if a[0] == b[0] and b[1] - a[1] == 1
    ]


def _burst(times: Sequence[dt.datetime], hours: float) -> int:
    """Most ads posted inside any window of `hours`."""
    ordered = sorted(times)
    best, lo = 0, 0
    width = dt.timedelta(hours=hours)
    for hi, t in enumerate(ordered):
        while t - ordered[lo] > width:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def _template(
    records: Sequence[AdRecord], config: LinkConfig, places: Iterable[str]
) -> Template | None:
    sample = records[: config.max_template_members]
    if len(sample) < 2:
        return None
    try:
        template = detect_template(
            [tokenize(r.text) for r in sample], share=config.template_share, known_places=places
        )
    except TemplateError:
        return None
    if template.fixed_tokens == 0 or template.coverage < config.min_template_coverage:
        return None
    return template


def _written_names(template: Template | None, records: Sequence[AdRecord]) -> tuple[str, ...]:
    """Template names that some ad writes capitalised, as names are."""
    if template is None:
        return ()
    return tuple(
        name
        for name in template.names
        if any(re.search(rf"(?<!\w){re.escape(name)}(?!\w)", r.text) for r in records)
    )


def summarize_cluster(
    records: Sequence[AdRecord],
    config: LinkConfig | None = None,
    *,
    links: Sequence[Link] = (),
) -> ClusterSummary:
    """Contacts, names, cities, dates, indicators, risk, network signals and both readings."""
    config = config or LinkConfig()
    if not records:
        raise LinkingError("a cluster needs at least one ad")
    by_type: dict[str, dict[str, list[int]]] = {}
    for i, record in enumerate(records):
        for kind, value in record.entity_pairs:
            by_type.setdefault(kind, {}).setdefault(value, []).append(i)
    city_counts: Counter[str] = Counter()
    ad_cities: list[str | None] = []
    for record in records:
        city = record.city
        if city is None:
            named = [v for k, v in record.entity_pairs if k == "city"]
            city = named[0] if named else None
        ad_cities.append(city)
        if city:
            city_counts[city] += 1
    times = [_parse_time(r.posted_at) if r.posted_at else None for r in records]
    known = [t for t in times if t is not None]
    first = min(known) if known else None
    last = max(known) if known else None
    indicators: Counter[str] = Counter()
    for record in records:
        indicators.update(set(record.indicator_ids))
    scores = [float(r.score) for r in records]
    phones = sorted(by_type.get("phone", {}))
    template = _template(records, config, city_counts)
    names = _written_names(template, records[: config.max_template_members])

    signals: list[str] = []
    travel: list[tuple[int, str]] = []
    for kind in _CONTACT_TYPES:
        for value, ads in by_type.get(kind, {}).items():
            where = {ad_cities[i] for i in ads if ad_cities[i]}
            when = [t for t in (times[i] for i in ads) if t is not None]
            if len(where) >= 3 and when:
                days = (max(when) - min(when)).total_seconds() / 86400
                if days <= config.travel_days:
                    travel.append(
                        (
                            len(where),
                            f"same {_LABELS[kind]} {value} in {len(where)} cities "
                            f"within {days:.0f} days",
                        )
                    )
    travel.sort(key=lambda t: (-t[0], t[1]))
    signals.extend(text for _, text in travel[:3])
    if len(phones) >= 3:
        signals.append(f"{len(phones)} phones in one cluster")
    consecutive = _consecutive_phones(phones)
    if consecutive:
        shown = ", ".join(f"{a}/{b}" for a, b in consecutive[:3])
        signals.append(f"consecutive phone numbers: {shown}")
    if len(names) >= 2:
        signals.append(f"same template with {len(names)} different names slotted in")
    images: dict[str, list[int]] = {}
    for i, record in enumerate(records):
        if record.image_pdq:
            images.setdefault(record.image_pdq, []).append(i)
    for value, ads in images.items():
        where = {ad_cities[i] for i in ads if ad_cities[i]}
        if len(ads) >= 2 and (len(where) >= 2 or len(names) >= 2):
            signals.append(
                f"same image in {len(ads)} ads across {len(where)} cities (PDQ {value[:12]}…)"
            )
            break
    burst = _burst(known, config.burst_hours) if known else 0
    if burst >= config.burst_ads:
        signals.append(f"burst: {burst} ads within {config.burst_hours:g} h")

    spam: list[str] = []
    if len(city_counts) > config.spam_cities:
        spam.append(
            f"ads in {len(city_counts)} cities (more than {config.spam_cities}: often spam)"
        )
    if len(phones) > config.spam_phones:
        spam.append(f"{len(phones)} phones (more than {config.spam_phones}: often spam)")
    common = sorted({link.value for link in links if link.common})
    if common:
        spam.append(f"contact shared by very many ads: {', '.join(common[:3])}")
    trafficking: list[str] = [s for s in signals if not s.startswith("burst")]
    if "many_people" in indicators or len(names) > 3:
        trafficking.append("several people advertised by one poster or cluster (many_people)")
    if scores and max(scores) >= config.risk_threshold:
        trafficking.append(f"highest ad score {max(scores):.0f} (>= {config.risk_threshold:g})")
    # one weak network signal alone is not a reading; a high ad score or two signals are
    strong = bool(scores) and max(scores) >= config.risk_threshold
    if spam:
        reading = "spam-like"
    elif strong or len(trafficking) >= 2:
        reading = "trafficking-like"
    else:
        reading = "unclear"
    return ClusterSummary(
        size=len(records),
        phones=tuple(phones),
        emails=tuple(sorted(by_type.get("email", {}))),
        handles=tuple(sorted(by_type.get("handle", {}))),
        other_contacts=tuple(
            f"{kind}:{value}"
            for kind in ("wallet", "url")
            for value in sorted(by_type.get(kind, {}))
        ),
        names=names,
        cities=tuple(sorted(city_counts.items(), key=lambda kv: (-kv[1], kv[0]))),
        first_posted=first.isoformat().replace("+00:00", "Z") if first else None,
        last_posted=last.isoformat().replace("+00:00", "Z") if last else None,
        span_days=(last - first).total_seconds() / 86400 if first and last else None,
        indicator_profile=tuple(sorted(indicators.items(), key=lambda kv: (-kv[1], kv[0]))),
        risk_max=max(scores),
        risk_mean=sum(scores) / len(scores),
        signals=tuple(signals),
        spam_reasons=tuple(spam),
        trafficking_reasons=tuple(trafficking),
        reading=reading,
        template=template,
    )
