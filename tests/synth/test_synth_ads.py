"""The synthetic ad corpus: exact ground truth, fictional numbers only, reproducible.

The checks here are independent of the generator wherever they can be: phone numbers are
verified with libphonenumber, wallets with a checksum decoder written here, number words
with text2num. The obfuscated phones are read back by a decoder written in this file.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import subprocess
import sys
import unicodedata
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from text_to_num import text2num

from haven.synth import ad_vocabulary as vocab
from haven.synth.ads import (
    AD_KINDS,
    CATEGORIES,
    ENTITY_TYPES,
    OBFUSCATION_STYLES,
    SynthError,
    SyntheticAd,
    ad_record,
    base58check_encode,
    bech32_segwit_encode,
    generate_ads,
    make_wallet,
    obfuscate_email,
    obfuscate_phone,
    write_jsonl,
)

INDICATOR_IDS = {
    "trust",
    "obscured_contact",
    "youth",
    "ethnicity",
    "third_party",
    "many_people",
    "risky_services",
    "restricted_movement",
    "venue",
    "event_targeting",
    "availability",
    "emoji_code",
    "movement",
    "stated_age_low",
    "screening",
}
FICTIONAL_E164 = re.compile(r"\+1[2-9]\d\d55501\d\d|\+61491570\d{3}|\+3319900\d{4}")
FICTIONAL_DIGITS = re.compile(r"55501\d\d|491570\d|19900\d")
CC = {"US": "1", "AU": "61", "FR": "33"}
UNKNOWN_TO_TEXT2NUM = {("en", "oh"), ("pt", "meia"), ("fr", "zero"), ("pt", "tres")}


@pytest.fixture(scope="module")
def ads() -> list[SyntheticAd]:
    return generate_ads(4000, seed=11)


# ----------------------------------------------------------------- an independent decoder

_FOLD = str.maketrans(
    {"о": "o", "О": "o", "Ο": "o", "ο": "o", "І": "i", "\ufe0f": None, "\u20e3": None}
)


def _decoder_keys(lang: str) -> list[tuple[str, str]]:
    keys: dict[str, str] = {"o": "0", "l": "1", "i": "1"}
    for d in range(10):
        for w in vocab.SPELLED_DIGITS[lang][d] + vocab.LEET_DIGITS[lang][d]:
            keys[w.casefold()] = str(d)
    for n in range(10, 100):
        keys[vocab.spell_number(n, lang)] = str(n)
    return sorted(keys.items(), key=lambda kv: -len(kv[0]))


_KEYS = {lang: _decoder_keys(lang) for lang in vocab.LANGS}


def decode_digits(text: str, lang: str) -> str:
    """Read the digits back: number words, look-alikes and odd digits, separators ignored."""
    s = text.translate(_FOLD).casefold()
    out: list[str] = []
    i = 0
    while i < len(s):
        for key, value in _KEYS[lang]:
            if s.startswith(key, i):
                out.append(value)
                i += len(key)
                break
        else:
            digit = unicodedata.digit(s[i], None)
            if digit is not None:
                out.append(str(digit))
            elif s[i] == "+":
                out.append("+")
            i += 1
    return "".join(out)


def test_number_words_are_correct_according_to_text2num() -> None:
    for lang in vocab.LANGS:
        for n in range(100):
            assert text2num(vocab.spell_number(n, lang), lang) == n, (lang, n)
        for d in range(10):
            for word in vocab.SPELLED_DIGITS[lang][d]:
                # colloquial or unaccented forms that text2num does not know
                if (lang, word) not in UNKNOWN_TO_TEXT2NUM:
                    assert text2num(word, lang) == d, (lang, word)
    with pytest.raises(ValueError):
        vocab.spell_number(100, "en")
    with pytest.raises(ValueError):
        vocab.spell_number(5, "de")


# ------------------------------------------------------------------------ reproducibility


def test_same_seed_same_ads_and_other_seed_other_ads() -> None:
    a, b = generate_ads(300, seed=5), generate_ads(300, seed=5)
    assert a == b
    assert [ad_record(x) for x in a] == [ad_record(x) for x in b]
    assert [x.text for x in generate_ads(300, seed=6)] != [x.text for x in a]
    assert len(generate_ads(0)) == 0
    assert len(generate_ads(1, seed=3)) == 1


def _digest_in_subprocess(hashseed: str) -> str:
    code = (
        "import hashlib, json; from haven.synth.ads import generate_ads, ad_record;"
        "print(hashlib.sha256(json.dumps([ad_record(a) for a in generate_ads(400, seed=9)])"
        ".encode()).hexdigest())"
    )
    env = {**os.environ, "PYTHONHASHSEED": hashseed}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def test_output_does_not_depend_on_string_hashing() -> None:
    assert _digest_in_subprocess("1") == _digest_in_subprocess("2")


def test_bad_arguments_raise_clear_errors() -> None:
    with pytest.raises(SynthError, match="count"):
        generate_ads(-1)
    with pytest.raises(SynthError, match="count"):
        generate_ads(2.5)  # type: ignore[arg-type]
    with pytest.raises(SynthError, match="seed"):
        generate_ads(3, seed="x")  # type: ignore[arg-type]
    rng = random.Random(0)
    with pytest.raises(SynthError, match="digits"):
        obfuscate_phone("12a4567", "en", rng)
    with pytest.raises(SynthError, match="digits"):
        obfuscate_phone("٢٠٢٥٥٥٠١٤٢", "en", rng)
    with pytest.raises(SynthError, match="language"):
        obfuscate_phone("2025550142", "xx", rng)
    with pytest.raises(SynthError, match="styles"):
        obfuscate_phone("2025550142", "en", rng, styles=["rot13"])
    with pytest.raises(SynthError):
        obfuscate_email("no-at-sign", "en", rng)
    with pytest.raises(SynthError):
        make_wallet(rng, "p2tr")


# ------------------------------------------------------------------------- shape of an ad


def test_ads_are_marked_synthetic_and_well_formed(ads: list[SyntheticAd]) -> None:
    cities = {region: {c for c, _ in cs} for region, cs in vocab.CITIES.items()}
    previous = ""
    for n, ad in enumerate(ads, 1):
        assert ad.id == f"synth-ad-{n:07d}"
        assert ad.synthetic is True
        assert ad.lang in vocab.LANGS and ad.region in ("US", "AU", "FR")
        assert ad.kind in AD_KINDS and ad.category in CATEGORIES
        assert ad.city in cities[ad.region]
        assert datetime.strptime(ad.posted_at, "%Y-%m-%dT%H:%M:%SZ")
        assert ad.posted_at >= previous  # sorted by posting time
        previous = ad.posted_at
        assert ad.image_pdq is None or re.fullmatch(r"[0-9a-f]{64}", ad.image_pdq)
        assert set(ad.indicators) <= INDICATOR_IDS
        assert list(ad.indicators) == sorted(set(ad.indicators))


def test_entity_spans_are_exact(ads: list[SyntheticAd]) -> None:
    for ad in ads:
        for e in ad.entities:
            assert e.type in ENTITY_TYPES
            start, end = e.span
            assert 0 <= start < end <= len(ad.text)
            assert ad.text[start:end] == e.text
            assert e.text == e.text.strip()
        for start, end in ad.decoys:
            assert 0 <= start < end <= len(ad.text)


def test_ad_length_and_language_mix(ads: list[SyntheticAd]) -> None:
    lengths = sorted(len(ad.text) for ad in ads)
    mean = sum(lengths) / len(lengths)
    assert 500 <= mean <= 700, mean
    assert lengths[len(lengths) // 50] >= 230 and lengths[-len(lengths) // 50] <= 1000
    assert max(lengths) <= 1100
    langs = Counter(ad.lang for ad in ads)
    assert set(langs) == set(vocab.LANGS) and min(langs.values()) > len(ads) * 0.05
    assert {ad.region for ad in ads if ad.lang in ("es", "pt")} >= {"US", "FR", "AU"}
    assert Counter(ad.category for ad in ads)["classified"] > len(ads) * 0.1


def test_every_entity_type_occurs(ads: list[SyntheticAd]) -> None:
    types = Counter(e.type for ad in ads for e in ad.entities)
    assert set(types) == set(ENTITY_TYPES)
    per_ad = Counter(sum(e.type == "phone" for e in ad.entities) for ad in ads)
    assert per_ad[0] > 0 and per_ad[1] > 0 and per_ad[2] > 0


# ------------------------------------------------------------------------------- phones


def test_city_area_codes_are_known_us_codes() -> None:
    codes = set(vocab.US_AREA_CODES)
    assert all(set(cs) <= codes for _, cs in vocab.CITIES["US"])
    for code in vocab.US_AREA_CODES:
        for last in ("00", "99"):
            number = phonenumbers.parse(f"+1{code}55501{last}")
            assert phonenumbers.is_valid_number(number), code
            assert phonenumbers.region_code_for_number(number) == "US"


def test_phones_are_fictional_and_their_e164_is_right(ads: list[SyntheticAd]) -> None:
    plain = obscured = 0
    for ad in ads:
        for e in ad.entities:
            if e.type != "phone":
                continue
            assert FICTIONAL_E164.fullmatch(e.normalized), e.normalized
            number = phonenumbers.parse(e.normalized)
            assert phonenumbers.is_valid_number(number)
            assert phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) == (
                e.normalized
            )
            if e.obscured:
                obscured += 1
                digits = decode_digits(e.text, ad.lang)
                if digits.startswith("+"):
                    assert digits == e.normalized, (e.text, digits)
                else:
                    national = digits if ad.region == "US" else digits[1:]
                    assert "+" + CC[ad.region] + national == e.normalized, (e.text, digits)
            else:
                plain += 1
                parsed = phonenumbers.parse(e.text, ad.region)
                e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
                assert e164 == e.normalized, (e.text, ad.region)
    assert plain > 500 and obscured > 300


def test_no_phone_number_outside_the_phone_spans(ads: list[SyntheticAd]) -> None:
    for ad in ads[:1200]:
        spans = [e.span for e in ad.entities if e.type == "phone"]
        for match in phonenumbers.PhoneNumberMatcher(
            ad.text, ad.region, leniency=phonenumbers.Leniency.VALID
        ):
            assert any(s <= match.start and match.end <= t for s, t in spans), (
                ad.id,
                match.raw_string,
            )


def test_decoys_are_never_phones(ads: list[SyntheticAd]) -> None:
    seen = Counter()
    for ad in ads:
        phones = [e.span for e in ad.entities if e.type == "phone"]
        for start, end in ad.decoys:
            assert all(end <= s or t <= start for s, t in phones)
            text = ad.text[start:end]
            assert not FICTIONAL_DIGITS.search(re.sub(r"\D", "", text)), text
            for region in ("US", "AU", "FR"):
                matches = phonenumbers.PhoneNumberMatcher(
                    text, region, leniency=phonenumbers.Leniency.VALID
                )
                assert not list(matches), (text, region)
            seen["24/7" if "24" in text and ("/" in text or "h" in text) else "other"] += 1
            if re.search(r"\d{2,4}[- ]\d{2,4}[- ]\d{2,4}", text):
                seen["phone-shaped"] += 1
    assert seen["24/7"] > 20 and seen["phone-shaped"] > 50


def test_phones_are_never_shared_between_advertisers(ads: list[SyntheticAd]) -> None:
    owner: dict[str, str] = {}
    for ad in ads:
        who = ad.cluster or ad.id
        for e in ad.entities:
            if e.type in ("phone", "email", "handle", "url", "wallet"):
                assert owner.setdefault(e.normalized, who) == who, e


# ---------------------------------------------------------------------- other entities


def test_emails_urls_and_handles_use_reserved_names(ads: list[SyntheticAd]) -> None:
    domains = set(vocab.EMAIL_DOMAINS)
    platforms = set(vocab.PLATFORM_KEYWORDS)
    obscured_emails = 0
    for ad in ads:
        for e in ad.entities:
            if e.type == "email":
                local, _, domain = e.normalized.partition("@")
                assert domain in domains and re.fullmatch(r"[a-z0-9._]+", local)
                if e.obscured:
                    obscured_emails += 1
                    assert "@" not in e.text or " " in e.text
                    assert e.text.lower().startswith(local)
                else:
                    assert e.text.lower() == e.normalized
            elif e.type == "url":
                host = re.sub(r"^https?://", "", e.normalized).split("/")[0]
                assert host.endswith((".example", "example.com", "example.org", "example.net"))
                assert e.normalized.lower() == e.text.lower()
            elif e.type == "handle":
                platform, _, name = e.normalized.partition(":")
                assert platform in platforms
                assert e.text.lstrip("@").lower() == name
                before = ad.text[max(0, e.span[0] - 14) : e.span[0]]
                assert any(k in before for k in vocab.PLATFORM_KEYWORDS[platform]), before
    assert obscured_emails > 10


def _b58decode(s: str) -> bytes:
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    n = 0
    for ch in s:
        n = n * 58 + alphabet.index(ch)
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return b"\0" * (len(s) - len(s.lstrip("1"))) + body


def _bech32_ok(addr: str) -> bool:
    charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
    hrp, _, data = addr.rpartition("1")
    values = [charset.index(c) for c in data]
    chk = 1
    for v in [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp] + values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i, g in enumerate((0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)):
            chk ^= g if (top >> i) & 1 else 0
    program_bits = (len(values) - 7) * 5
    return hrp == "bc" and chk == 1 and values[0] == 0 and program_bits // 8 in (20, 32)


def _wallet_ok(addr: str) -> bool:
    if addr.startswith("bc1"):
        return _bech32_ok(addr)
    raw = _b58decode(addr)
    payload, check = raw[:-4], raw[-4:]
    good = hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] == check
    return good and len(payload) == 21 and payload[0] in (0x00, 0x05)


def test_wallet_encoders_match_published_vectors() -> None:
    assert base58check_encode(0, bytes(20)) == "1111111111111111111114oLvT2"
    program = bytes.fromhex("751e76e8199196d454941c45d1b3a323f1433bd6")
    assert bech32_segwit_encode("bc", 0, program) == "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
    assert not _wallet_ok("1111111111111111111114oLvT3")
    assert not _bech32_ok("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5")


def test_wallets_pass_their_checksums(ads: list[SyntheticAd]) -> None:
    rng = random.Random(4)
    kinds = Counter()
    for _ in range(200):
        addr = make_wallet(rng)
        assert _wallet_ok(addr), addr
        kinds[addr[0] if addr[0] in "13" else addr[:4]] += 1
    assert set(kinds) == {"1", "3", "bc1q"}
    in_ads = [e for ad in ads for e in ad.entities if e.type == "wallet"]
    assert in_ads and all(_wallet_ok(e.text) and e.text == e.normalized for e in in_ads)


def test_prices_ages_and_cities(ads: list[SyntheticAd]) -> None:
    currency = {"US": "USD", "AU": "AUD", "FR": "EUR"}
    for ad in ads:
        ages = []
        for e in ad.entities:
            if e.type == "price":
                amount, cur = e.normalized.split(" ")
                assert cur == currency[ad.region] and amount in e.text
                assert e.span in ad.decoys
            elif e.type == "age":
                assert e.text == e.normalized and 18 <= int(e.text) <= 60
                ages.append(int(e.text))
            elif e.type == "city":
                assert e.text == e.normalized
        assert ("stated_age_low" in ad.indicators) == any(18 <= a <= 23 for a in ages)
        if ad.category == "classified":
            assert not ages


# --------------------------------------------------------------------------- indicators


def test_indicators_follow_the_text(ads: list[SyntheticAd]) -> None:
    counts = Counter(i for ad in ads for i in ad.indicators)
    assert set(counts) == INDICATOR_IDS
    for ad in ads:
        hidden = any(e.obscured for e in ad.entities)
        assert ("obscured_contact" in ad.indicators) == hidden
        if ad.category == "classified":
            assert set(ad.indicators) <= {"obscured_contact"}
        if "emoji_code" in ad.indicators:
            assert any(ch in ad.text for ch in ("🌹", "✈", "👑", "roses", "rosas"))
    by_kind = defaultdict(list)
    for ad in ads:
        by_kind[ad.kind].append(len(set(ad.indicators) - {"obscured_contact", "stated_age_low"}))
    assert sum(by_kind["trafficking-like"]) / len(by_kind["trafficking-like"]) > 1.5
    assert sum(by_kind["benign"]) / len(by_kind["benign"]) < 1.0


def test_nothing_about_minors_and_no_coded_minor_emoji(ads: list[SyntheticAd]) -> None:
    banned = re.compile(
        r"\b(teen|school|child|kid|minor|barely|schoolgirl|lycée|collège|écolière|menor|niña|"
        r"colegio|escola|criança|menina|novinha)\w*",
        re.IGNORECASE,
    )
    for ad in ads:
        assert not banned.search(ad.text), ad.text
        assert not any(ch in ad.text for ch in ("💗", "🍒", "🌸"))


# ----------------------------------------------------------------------------- clusters


def test_cluster_ground_truth_is_consistent(ads: list[SyntheticAd]) -> None:
    clusters: dict[str, list[SyntheticAd]] = defaultdict(list)
    for ad in ads:
        if ad.cluster is not None:
            clusters[ad.cluster].append(ad)
    sizes = Counter(len(v) for v in clusters.values())
    assert min(sizes) >= 2
    singletons = sum(ad.cluster is None for ad in ads)
    assert singletons > len(ads) * 0.25
    assert sum(n for size, n in sizes.items() if size <= 5) > sum(
        n for size, n in sizes.items() if size > 5
    )
    assert max(sizes) >= 30
    spam = 0
    for members in clusters.values():
        assert len({(a.kind, a.lang, a.region, a.category) for a in members}) == 1
        if members[0].kind == "spam":
            spam += 1
            cities = {a.city for a in members}
            phones = {e.normalized for a in members for e in a.entities if e.type == "phone"}
            assert len(cities) > 10 or len(phones) > 5
    assert spam >= 2
    images: dict[str, set[str | None]] = defaultdict(set)
    for ad in ads:
        if ad.image_pdq:
            images[ad.image_pdq].add(ad.cluster or ad.id)
    assert all(len(owners) == 1 for owners in images.values())
    assert any(len([a for a in ads if a.image_pdq == h]) > 3 for h in list(images)[:200])


def _shingles(text: str) -> set[str]:
    words = re.findall(r"\w+", text.lower())
    return {" ".join(words[i : i + 3]) for i in range(len(words) - 2)}


def test_operation_templates_are_near_duplicates_not_copies(ads: list[SyntheticAd]) -> None:
    ops: dict[str, list[SyntheticAd]] = defaultdict(list)
    for ad in ads:
        if ad.cluster and ad.cluster.startswith("synth-op-"):
            ops[ad.cluster].append(ad)
    big = [v for v in ops.values() if len(v) >= 8][:10]
    assert big
    moving = 0
    for members in big:
        texts = [a.text for a in members]
        assert len(set(texts)) > len(texts) // 2  # not exact copies
        base = _shingles(texts[0])
        similar = [len(base & _shingles(t)) / len(base | _shingles(t)) for t in texts[1:]]
        assert sum(s > 0.3 for s in similar) >= len(similar) * 0.7
        if len({a.city for a in members}) > 1:
            moving += 1
    assert moving >= 1
    # unrelated ads are much less alike than ads of one template
    a, b = big[0][0].text, big[1][0].text
    assert len(_shingles(a) & _shingles(b)) / len(_shingles(a) | _shingles(b)) < 0.3


# ------------------------------------------------------------------------- obfuscation

_NATIONAL = st.one_of(
    st.builds(
        lambda a, x: f"{a}55501{x:02d}",
        st.sampled_from(vocab.US_AREA_CODES),
        st.integers(0, 99),
    ),
    st.builds(lambda x: f"0491570{x:03d}", st.integers(0, 999)),
    st.builds(lambda x: f"019900{x:04d}", st.integers(0, 9999)),
)


def _as_international(national: str) -> str:
    if national.startswith("04"):
        return "+61" + national[1:]
    if national.startswith("0"):
        return "+33" + national[1:]
    return "+1" + national


@settings(max_examples=400, deadline=None)
@given(
    national=_NATIONAL,
    international=st.booleans(),
    styles=st.sets(st.sampled_from(OBFUSCATION_STYLES)),
    lang=st.sampled_from(vocab.LANGS),
    seed=st.integers(0, 2**32),
)
def test_obfuscate_phone_reads_back_and_flags_consistently(
    national: str, international: bool, styles: set[str], lang: str, seed: int
) -> None:
    digits = _as_international(national) if international else national
    text, obscured = obfuscate_phone(digits, lang, random.Random(seed), styles=sorted(styles))
    assert obscured == bool(styles)
    assert decode_digits(text, lang) == digits, text
    assert text == text.strip() and "\n" not in text
    region = (
        "US"
        if digits.startswith("+1") or not digits.startswith("0")
        else ("AU" if national.startswith("04") else "FR")
    )
    plain_groups = re.findall(r"\d+", obfuscate_phone(digits, lang, random.Random(0), styles=())[0])
    if not obscured:
        parsed = phonenumbers.parse(text, region)
        assert phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == (
            _as_international(national)
        )
    elif re.fullmatch(r"[0-9 ().+\-]+", text):
        # only ASCII digits and ordinary punctuation: the grouping itself must be unusual
        assert re.findall(r"\d+", text) != plain_groups, text


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32), lang=st.sampled_from(vocab.LANGS))
def test_random_style_mixes_always_obscure(seed: int, lang: str) -> None:
    text, obscured = obfuscate_phone("+12025550142", lang, random.Random(seed))
    assert obscured and decode_digits(text, lang) == "+12025550142"
    if re.fullmatch(r"[0-9 ().+\-]+", text):
        assert re.findall(r"\d+", text) != ["1", "202", "555", "0142"], text


def test_every_style_alone_changes_the_text() -> None:
    for style in OBFUSCATION_STYLES:
        for lang in vocab.LANGS:
            text, obscured = obfuscate_phone("0199001234", lang, random.Random(1), styles=[style])
            assert obscured and text not in ("01 99 00 12 34", "0199001234"), (style, text)
            assert decode_digits(text, lang) == "0199001234", (style, lang, text)


def test_french_pairs_are_written_the_french_way() -> None:
    texts = {
        obfuscate_phone("0199001234", "fr", random.Random(s), styles=["spelled_pairs"])[0]
        for s in range(30)
    }
    assert any("quatre-vingt-dix-neuf" in t for t in texts)
    assert any("trente-quatre" in t for t in texts)


def test_obfuscated_emails_keep_the_address_readable() -> None:
    rng = random.Random(3)
    for lang in vocab.LANGS:
        for _ in range(20):
            text = obfuscate_email("bella22@mail.example", lang, rng)
            assert "@mail.example" not in text and text.startswith("bella22")
            squeezed = re.sub(r"[\s()\[\]]", "", text.lower())
            for at in ("arobase", "arroba", "at"):
                squeezed = squeezed.replace(at, "@", 1) if "@" not in squeezed else squeezed
            for dot in ("point", "punto", "ponto", "dot"):
                squeezed = squeezed.replace(dot, ".")
            assert squeezed == "bella22@mail.example", text


# -------------------------------------------------------------------------------- export


def test_jsonl_round_trip(ads: list[SyntheticAd], tmp_path: Path) -> None:
    path = tmp_path / "ads.jsonl"
    assert write_jsonl(ads[:50], path) == 50
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 50
    for line, ad in zip(lines, ads[:50], strict=True):
        record = json.loads(line)
        assert record == ad_record(ad)
        assert record["synthetic"] is True and record["id"] == ad.id
        assert set(record["truth"]) >= {"entities", "indicators", "decoys", "cluster", "kind"}
        for e in record["truth"]["entities"]:
            assert ad.text[e["span"][0] : e["span"][1]] == e["text"]
