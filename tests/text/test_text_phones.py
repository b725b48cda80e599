"""Phone numbers: formats, spelled digits, look-alikes, and decoys that are not phones.

Numbers come only from fictional ranges: US +1 NXX 555 01xx, AU +61 491 570 xxx,
FR +33 1 99 00 xx xx.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from haven.text.entities import EntityError, extract_entities
from haven.text.normalize import normalize
from haven.text.phones import PhoneError, find_phones

SPELLED = {
    "en": ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"],
    "fr": ["zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf"],
    "es": ["cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"],
    "pt": ["zero", "um", "dois", "três", "quatro", "cinco", "seis", "sete", "oito", "nove"],
}
LEET = {"four": "f0ur", "one": "0ne", "nine": "n1ne", "three": "thr33", "five": "f1ve"}


def phones(text: str, region: str = "US", lang: str | None = None) -> list[tuple[str, str, bool]]:
    folded = normalize(text)
    found = []
    for phone in find_phones(folded, region=region, lang=lang):
        start, end = folded.original_span(phone.start, phone.end)
        found.append((text[start:end], phone.e164, phone.obscured))
    return found


def fictional(rng: random.Random) -> tuple[str, str, list[str]]:
    """(region, E.164, national digit groups) from one of the three fictional ranges."""
    region = rng.choice(["US", "AU", "FR"])
    if region == "US":
        area = rng.choice(["202", "312", "415", "617", "713"])
        line = f"01{rng.randint(0, 99):02d}"
        return region, f"+1{area}555{line}", [area, "555", line]
    if region == "AU":
        tail = f"{rng.randint(0, 999):03d}"
        return region, f"+61491570{tail}", ["0491", "570", tail]
    pairs = [f"{rng.randint(0, 99):02d}", f"{rng.randint(0, 99):02d}"]
    return region, f"+3319900{''.join(pairs)}", ["01", "99", "00", *pairs]


@pytest.mark.parametrize(
    ("text", "region", "e164", "obscured"),
    [
        ("Call 202-555-0142 now", "US", "+12025550142", False),
        ("(202) 555-0142", "US", "+12025550142", False),
        ("+1 202 555 0142", "US", "+12025550142", False),
        ("1-202-555-0142", "US", "+12025550142", False),
        ("202.555.0142", "US", "+12025550142", False),
        ("2025550142", "US", "+12025550142", False),
        ("0491 570 123", "AU", "+61491570123", False),
        ("+61 491 570 123", "US", "+61491570123", False),
        ("01 99 00 12 34", "FR", "+33199001234", False),
        ("+33 (0)1 99 00 12 34", "FR", "+33199001234", False),
        ("0033 1 99 00 12 34", "US", "+33199001234", False),
        ("two 0 two five5five oh one f0ur two", "US", "+12025550142", True),
        ("2 0 2 5 5 5 0 1 4 2", "US", "+12025550142", True),
        ("②⓪② ５５５ ⓪①④②", "US", "+12025550142", True),
        ("2О2 555 О142", "US", "+12025550142", True),
        ("2o2 555 o1four2", "US", "+12025550142", True),
        ("two zero two. five five five. zero one forty two", "US", "+12025550142", True),
        ("zéro un quatre-vingt-dix-neuf zéro zéro douze trente-quatre", "FR", "+33199001234", True),
        (
            "zero un, quatre vingt dix neuf, zero zero, vingt et un, douze",
            "FR",
            "+33199002112",
            True,
        ),
        ("cero cuatro nueve uno cinco siete cero cero noventa y nueve", "AU", "+61491570099", True),
        ("zero quatro nove um cinco sete zero meia dois três", "AU", "+61491570623", True),
        ("plus one 202 555 0142", "US", "+12025550142", True),
        ("2 0 2 - 5 5 5 - double 0 1 2", "US", "+12025550012", True),
    ],
)
def test_numbers_are_found(text: str, region: str, e164: str, obscured: bool) -> None:
    assert [(e, o) for _, e, o in phones(text, region)] == [(e164, obscured)]


@pytest.mark.parametrize(
    "text",
    [
        "150/hr, $200 for two hours, 300 roses",
        "I am 5'6\" and 120 lbs",
        "Booked until 12/05/2026 and 2026-05-12",
        "available 24/7, 7j/7, 24h/24",
        "Ref 2026-5501-0142",
        "réf. 2026-5501-0142 annonce 20265501",
        "21 yo, 36-24-36",
        "zip 90210 and 75011 Paris",
        "for two nights for one hundred, two or three",
        "someone at one time, and twenty of them",
        "call me at 10:30 or 21h30",
        "order #2025550142",
    ],
)
def test_decoys_and_prose_are_not_phones(text: str) -> None:
    assert phones(text, "US") == []
    assert phones(text, "FR") == []


def test_numbers_side_by_side_are_split() -> None:
    found = phones("202 555 0142 o 202 555 0199 / 0491 570 123", "US")
    assert [e for _, e, _ in found] == ["+12025550142", "+12025550199"]
    found = phones("call 0491 570 123 or 0491 570 124", "AU")
    assert [e for _, e, _ in found] == ["+61491570123", "+61491570124"]


def test_national_number_needs_trunk_prefix_where_one_is_used() -> None:
    assert phones("numéro 199001234", "FR") == []
    assert phones("numéro 0199001234", "FR")[0][1] == "+33199001234"


def test_span_points_at_the_number_as_written() -> None:
    text = "Hi! Txt ②⓪② 555 0142 after 6pm"
    [(written, _, _)] = phones(text)
    assert written == "②⓪② 555 0142"


def test_language_narrows_the_word_tables() -> None:
    text = "zero quatro nove um cinco sete zero meia dois tres"
    assert phones(text, "AU", "pt")[0][1] == "+61491570623"
    assert phones(text, "AU", "fr") == []


def test_unknown_region_is_an_error() -> None:
    with pytest.raises(PhoneError, match="unknown region"):
        find_phones(normalize("202 555 0142"), region="XX")
    with pytest.raises(EntityError, match="unknown region"):
        extract_entities("202 555 0142", region="XX")


@settings(max_examples=300, deadline=None)
@given(st.randoms(use_true_random=False))
def test_plain_formats_round_trip(rng: random.Random) -> None:
    region, e164, groups = fictional(rng)
    separator = rng.choice([" ", "-", ".", ""])
    national = separator.join(groups)
    if region == "US" and rng.random() < 0.5:
        national = f"({groups[0]}) {groups[1]}-{groups[2]}"
    written = rng.choice([national, "+" + e164[1:2] + " " + national.lstrip("0")])
    if written.startswith("+") and region != "US":
        country = "61" if region == "AU" else "33"
        written = f"+{country} {separator.join([groups[0].lstrip('0'), *groups[1:]])}"
    text = f"Hello, call {written} today"
    assert phones(text, region) == [(written, e164, False)]


@settings(max_examples=300, deadline=None)
@given(st.randoms(use_true_random=False))
def test_obfuscated_digits_round_trip(rng: random.Random) -> None:
    region, e164, groups = fictional(rng)
    lang = rng.choice(list(SPELLED))
    tokens = []
    for digit in "".join(groups):
        style = rng.random()
        if style < 0.45:
            word = SPELLED[lang][int(digit)]
            tokens.append(LEET.get(word, word) if lang == "en" and rng.random() < 0.3 else word)
        elif style < 0.6:
            tokens.append("②⓪①③④⑤⑥⑦⑧⑨"[0:0] + "⓪①②③④⑤⑥⑦⑧⑨"[int(digit)])
        else:
            tokens.append(digit)
    joiner = rng.choice([" ", "-", ". ", " * ", ""])
    written = joiner.join(tokens)
    if all(token.isdigit() and token.isascii() for token in tokens) or joiner == "":
        written = " ".join(tokens)
    text = f"Text me {written} thanks"
    found = phones(text, region, rng.choice([lang, None]))
    assert [(e, o) for _, e, o in found] == [(e164, True)], text
    assert found[0][0] == written


WRITTEN_PLAINLY = {
    "Call 313-555-0170 más",
    "Contacto: +33199003670\nMás fotos",
    "Appelle 0491 570 123 même ce soir",
    "Call 01/9/90/07/38/7",
    "Ref 2026-5501-0142 call 202 555 0142",
}


@pytest.mark.parametrize(
    ("text", "region", "lang", "e164"),
    [
        # 1. an accented word right after the number is not a unit ("m" for metres)
        ("Call 313-555-0170 más", "US", "es", "+13135550170"),
        ("Contacto: +33199003670\nMás fotos", "FR", "es", "+33199003670"),
        ("Appelle 0491 570 123 même ce soir", "AU", "fr", "+61491570123"),
        # 2. emoji between digits are separators
        ("Call 0491 ⭐ 570 ⭐ 135", "AU", "en", "+61491570135"),
        ("Call 7💫1💫3💫5💫5💫5💫0💫1💫9💫7", "US", "en", "+17135550197"),
        ("Text 202 💋💋 555 🌹 0142", "US", None, "+12025550142"),
        # 3. look-alike letters for 0 and 1 inside digit runs
        ("Call 6І7 - 555 - οІ95", "US", "en", "+16175550195"),
        ("Call о49I 57ο 86О", "AU", "en", "+61491570860"),
        ("Call O49І - 57о - οl2", "AU", "en", "+61491570012"),
        ("txt 2o2 555 ol42", "US", None, "+12025550142"),
        # 4. leetspeak and stretched digit words
        ("Call s3ven 0ne thr33 - f1ve f1ve fiv3 - oh 0ne thr33 zer0", "US", "en", "+17135550130"),
        (
            "Llama cer0 cuatr0 nueve unno cinco siete cero cero ocho cinco",
            "AU",
            "es",
            "+61491570085",
        ),
        ("twoo zeero twoo fiiive 5 5 0 1 4 2", "US", "en", "+12025550142"),
        # 5. spelled pairs: a comma or slash ends a tens word
        ("Call oh four ninety-one, FIVE seventy, one eighty-one", "AU", "en", "+61491570181"),
        (
            "zero quatre quatre-vingt-onze, cinq soixante-dix, zéro douze",
            "AU",
            "fr",
            "+61491570012",
        ),
        ("cero cuatro noventa y uno, cinco setenta, cero doce", "AU", "es", "+61491570012"),
        ("zero quatro noventa e um, cinco setenta, zero doze", "AU", "pt", "+61491570012"),
        # 6. slashes between digits are not dates or "24/7"
        ("Call 01/9/90/07/38/7", "FR", "fr", "+33199007387"),
        ("+61 / 4 / 9 / 1 / 5 / 7 / 0 / 0 / 8 / 4", "AU", "en", "+61491570084"),
        # 7. words glued together or to digits
        ("Call oh491 - five sevenoh - sevenzerofive", "AU", "en", "+61491570705"),
        ("Call seven onethree 555 01fiveoh", "US", "en", "+17135550150"),
        # 8. spelled country code after "+", leet word right after digits
        (
            "Phone +sixty-one / four ninety-one / five seventy / four forty-seven",
            "AU",
            "en",
            "+61491570447",
        ),
        ("Call 6１５ - ５５5 - ０１00ne", "US", "en", "+16155550101"),
        ("Ref 2026-5501-0142 call 202 555 0142", "US", "en", "+12025550142"),
    ],
)
def test_obfuscation_classes_are_read(text: str, region: str, lang: str | None, e164: str) -> None:
    found = phones(text, region, lang)
    assert [e for _, e, _ in found] == [e164], text
    assert found[0][2] is (text not in WRITTEN_PLAINLY)


@pytest.mark.parametrize(
    "text",
    [
        "150/hr, $200 for two hours, 150 roses, 5'6\" and 1m68",
        "Booked 12/05/2026, 10:30 to 11:45, 24/7",
        "1 💋 2 💋 3 💋 4 💋 5 💋 6 💋 7",
        "5 ⭐ reviews, 100 ⭐ 200 ⭐ 300",
        "lol 10 o 5 lil 2011 i 1 oil 4 10l",
        "oh oh oh one two three four five six",
        "seven twenty-five, ninety nine, forty one",
        "2 girls 3 hours 4 friends 5 stars 6 nights 7 days 8 pm",
        "Ref 2026-5501-0142, for two nights, one or two",
    ],
)
def test_new_readings_keep_decoys_out(text: str) -> None:
    for region in ("US", "AU", "FR"):
        assert phones(text, region) == [], (region, text)


def test_trailing_oh_after_a_digit_group_is_not_a_digit() -> None:
    assert [e for _, e, _ in phones("Call 202 555 0142 oh and text")] == ["+12025550142"]
    [(written, _, _)] = phones("Call 202 555 0142 oh and text")
    assert written == "202 555 0142"


@pytest.mark.parametrize(
    ("text", "region", "lang", "e164"),
    [
        # leet digits inside words and sound-alike spellings
        (
            "Contacto: d0s c3ro tr3s, sinko c1nco cinko, cer0 unno doz kuatro",
            "US",
            "es",
            "+12035550124",
        ),
        ("Contact: zer0 katre n3uf hun sinq s3pt zer0 wit troa s1x", "AU", "fr", "+61491570836"),
        (
            "Contato: zer0 kuatro novi hum sinko set3 zer0 zer0 oitu doiz",
            "AU",
            "pt",
            "+61491570082",
        ),
        ("Contact: s3v3n wun thr33 / fiv fiv3 f1ve / 0 wun fower ait", "US", "en", "+17135550148"),
        # a weak sound-alike at the edge of a spelled run, used only when needed
        ("Contact: to zer0 too.fiv3 fiv3 f1ve.o 1ne fore e1ght", "US", "en", "+12025550148"),
        (
            "Contact: tr0is zer0 d3ux / c1nq sink c1nq / zer0 uhn s1x uhn",
            "US",
            "fr",
            "+13025550161",
        ),
        # look-alike letter tokens with no real digit, next to digit groups
        ("Contact: 2о2, 555, ОIІO", "US", "en", "+12025550110"),
        ("Contact: Оl 99 oО 61 27", "FR", "es", "+33199006127"),
        ("Contact: οІ.99.Оo.52.80", "FR", "fr", "+33199005280"),
        ("Contact: О49l, 57O, Оlο", "AU", "pt", "+61491570010"),
        # digit words glued to each other and to digits
        ("Contato: 0quatro noveum.5setezero.33Dois", "AU", "pt", "+61491570332"),
        ("Contact: oh four nine one - five7OH - eightnine six", "AU", "en", "+61491570896"),
        ("Contacto: doscero3 / cincocinco5 / cero1unoocho", "US", "es", "+12035550118"),
        ("Contacto: cero1 - nueve9-00-77 - ocho dos", "FR", "es", "+33199007782"),
        ("Contact: zeroun9 - 9zero0 - 12 34", "FR", "fr", "+33199001234"),
    ],
)
def test_leet_soundalike_lookalike_and_glued_words(
    text: str, region: str, lang: str | None, e164: str
) -> None:
    found = phones(text, region, lang)
    assert [e for _, e, _ in found] == [e164], text
    assert found[0][2] is True


@pytest.mark.parametrize(
    "text",
    [
        "I ate at two, to be or not to be, lol oh, for two nights, one or two",
        "hey hun, one two three, lol 555 oil 12, won four games, ate five",
        "tree to tree, one to one, two to two to two too, sink or swim, set of two",
        "Rates 150/hr, $200, 150 roses, 5'6\" and 1m68, open 24/7, 10:30 to 11:45",
        "Ref 2026-5501-0142 booked until 12/05/2026, postcode 75011",
        "oo la la 555 lol, wit and one nine, zero to one hundred in two weeks",
    ],
)
def test_soundalikes_and_letter_tokens_keep_prose_out(text: str) -> None:
    for lang in ("en", "fr", "es", "pt", None):
        for region in ("US", "AU", "FR"):
            assert phones(text, region, lang) == [], (region, lang, text)


def test_weak_edge_is_not_added_to_a_number_that_stands_alone() -> None:
    [(written, e164, obscured)] = phones("call me to 202 555 0142 to book", "US", "en")
    assert (written, e164, obscured) == ("202 555 0142", "+12025550142", False)


@pytest.mark.parametrize(
    ("text", "region", "lang", "expected"),
    [
        ("o for n1ne 1ne f1ve sev3n z3ro for s3ven fiv3", "AU", "en", "+61491570475"),
        ("too o tw0 f1ve f1ve f1ve z3ro 1ne thr33 f1ve", "US", "en", "+12025550135"),
        ("oh won - n1ne nin3 - o z3ro - z3ro to - thre3 3ight", "FR", "en", "+33199000238"),
        ("z3ro kat n3uf hun - sink cet zer0 - z3ro troa c1nq", "AU", "fr", "+61491570035"),
        ("d3ux zer0 d3ux / c1nq c1nq sink / z3ro uhn kat zer0", "US", "fr", "+12025550140"),
        ("c3ro kuatro nuev3 un0 sinko s1ete cer0 och0 siet3 seys", "AU", "es", "+61491570876"),
        ("oh for nin3 one - f1ve s3ven zer0 - won ate s1x", "AU", "en", "+61491570186"),
    ],
)
def test_weak_tokens_beside_spelled_digits(
    text: str, region: str, lang: str, expected: str
) -> None:
    assert [e164 for _, e164, _ in phones("Contact: " + text, region, lang)] == [expected]


@pytest.mark.parametrize(
    ("text", "region", "lang", "expected"),
    [
        # sound-alikes: pt "doiz" / "hum" / "hume" / "seys" / "trez", fr "sis" / "deu" / "hu1t"
        ("d0is z3ro doiz.sinko c1nco c1nco.zer0 hum seys doiz", "US", "pt", "+12025550162"),
        ("doiz zer0 d0is / c1nco sinko c1nco / z3ro hume seys seys", "US", "pt", "+12025550166"),
        ("zer0 quatr0 n0ve hume, c1nco s3te z3ro, trez hume set3", "AU", "pt", "+61491570317"),
        ("zer0 uhn - neuff neuff - z3ro zer0 - neuff c1nq - c1nq sis", "FR", "fr", "+33199009556"),
        ("zer0 hun - neuff n3uf - z3ro z3ro - hu1t sink - sis tr0is", "FR", "fr", "+33199008563"),
        ("zer0 kat neuff uhn / c1nq s3pt z3ro / hu1t sis sis", "AU", "fr", "+61491570866"),
        ("deu z3ro deu sink c1nq c1nq zer0 hun hun sis", "US", "fr", "+12025550116"),
        # en "4our" (a digit standing for "f"), trailing weak "to"
        ("z3ro f0ur n1ne won f1ve s3ven z3ro to 4our to", "AU", "en", "+61491570242"),
        ("tw0 z3ro tw0 f1ve f1ve f1ve z3ro 1ne 4our s1x", "US", "en", "+12025550146"),
        # glued digit words, any case, "oh" included, digits on either side
        ("04noveum / 5Sete0 / 7quatro5", "AU", "pt", "+61491570745"),
        ("0QUATROnove1 / cinco7ZERO / 1um2", "AU", "pt", "+61491570112"),
        ("2oh two 5Five5 zeroonethree4", "US", "en", "+12025550134"),
        ("zero one - 9nine - ZEROoh - eight9 - three Four", "FR", "en", "+33199008934"),
        ("ohone, nine NINE, zerooh, FOUR six, eight8", "FR", "en", "+33199004688"),
        ("zeroOne 99 OHzero 1two threethree", "FR", "en", "+33199001233"),
        # "11neuf" is 1 1 neuf, not 1 "1ne" + "uf"
        ("zéro4neufUN - 570-11neuf", "AU", "fr", "+61491570119"),
        # l / I / Cyrillic І tokens as 1s at the edge of a phone-shaped run
        ("Ol.99.OO.67.Il", "FR", "pt", "+33199006711"),
        ("oІ 99 oо 89 ІІ", "FR", "pt", "+33199008911"),
        ("01-99-00-45-Il", "FR", "fr", "+33199004511"),
        ("202/555/01/ll", "US", "en", "+12025550111"),
    ],
)
def test_soundalikes_glued_words_and_ones(text: str, region: str, lang: str, expected: str) -> None:
    found = phones("Contact: " + text, region, lang)
    assert [e164 for _, e164, _ in found] == [expected], text
    assert found[0][2] is True


@pytest.mark.parametrize(
    "text",
    [
        "ma sis est là, six ans, sis deux fois, merci ma sis",
        "hum, hume, deu, hum hum, seys, doiz, trez bien, hu1t",
        "I ate at two, oh no, oh oh, zerooh fun, 4our friends, to 4our",
        "il est là, il a 25 ans, il 12 34, li 99, 0612 il",
        "ONEONE heure, NINE hours, one2one chats, zeroone deal",
        "available 24/7 for you, 24/7quick chats, 0 / 7 days",
    ],
)
def test_new_soundalikes_and_ones_keep_prose_out(text: str) -> None:
    for lang in ("en", "fr", "es", "pt", None):
        for region in ("US", "AU", "FR"):
            assert phones(text, region, lang) == [], (region, lang, text)


def test_ones_token_needs_a_phone_shaped_neighbour() -> None:
    # "il" after a full number and beside one digit group stays a word
    assert [e for _, e, _ in phones("appelle 01 99 00 45 23 il répond", "FR", "fr")] == [
        "+33199004523"
    ]
    assert phones("il 45 ans il", "FR", "fr") == []


@pytest.mark.parametrize(
    ("text", "region", "expected"),
    [
        ("Call 202 555 0142 I am free tonight", "US", "+12025550142"),
        ("Text 202 555 0142 i will answer", "US", "+12025550142"),
        ("Appelle 01 99 00 67 41 il répond vite", "FR", "+33199006741"),
        ("Contact 01 99 00 67 Il", "FR", "+33199006711"),
    ],
)
def test_a_pronoun_after_a_number_is_not_a_digit(text: str, region: str, expected: str) -> None:
    phones = [e.normalized for e in extract_entities(text, region=region) if e.type == "phone"]
    assert phones == [expected]


@pytest.mark.parametrize(
    ("text", "region", "lang", "expected"),
    [
        # o / l / i tokens between digit runs, whatever the separator (emoji count as one)
        ("Text me: 3*l*3*5*5*5*o*І*І*9", "US", "en", "+13135550119"),
        ("Call 7 . 2 . 5 . 5 . 5 . 5 . O . l . O . 5\nThanks", "US", "en", "+17255550105"),
        ("Mensagem para 3▪️ο▪️5▪️5▪️5▪️5▪️O▪️I▪️2▪️3", "US", "pt", "+13055550123"),
        ("Contact : +33 / І / 99 / Oo / 4l / 93", "FR", "fr", "+33199004193"),
        # ... and between spelled digits
        ("Contato: 3 zero 5 cinco cinco cinco Zero l dois tres", "US", "pt", "+13055550123"),
        ("Contacto: Dos cero seis - cinco cinco cinco - οl ocho cinco", "US", "es", "+12065550185"),
        # at the edges of a run that holds no number without them
        ("Mensajes al Ο  49  I57  Ο  98  O - gracias", "AU", "es", "+61491570980"),
        ("Tel 6🌟I🌟2🌟5🌟5🌟5🌟ο🌟I🌟2🌟I", "US", "pt", "+16125550121"),
        ("Tél. οI🌟🌟99🌟🌟Оо🌟🌟ОO🌟🌟33", "FR", "fr", "+33199000033"),
        # glued to a digit word
        ("Me liga: 7oito6.cinco55.0lumsete", "US", "pt", "+17865550117"),
        ("Contato: 305 - 55cinco - 0IDOIS3", "US", "pt", "+13055550123"),
        ("SMS zérol..neuf NEUFО..0..98..63", "FR", "fr", "+33199009863"),
    ],
)
def test_lookalike_tokens_beside_digits_and_words(
    text: str, region: str, lang: str, expected: str
) -> None:
    found = phones(text, region, lang)
    assert [e for _, e, _ in found] == [expected], text
    assert found[0][2] is True


@pytest.mark.parametrize(
    ("text", "region", "lang", "expected"),
    [
        # "three3" is three then 3 (a stretched letter is not taken before its leet digit)
        ("Phone +three3 . 1nine . 900 . 2one . 8 . three", "FR", "en", "+33199002183"),
        # a number after "+" is completed by a weak edge rather than read nationally
        (
            "Text +thr33 thre3, 0ne, n1ne nin3, o oh, won n1ne, s1x to\nBye",
            "FR",
            "en",
            "+33199001962",
        ),
        # a national reading beats a foreign one that needs a weak word from the prose
        (
            "Call or text fore 0ne fiv3 - f1ve f1ve f1ve - o 1ne to zer0 for details.",
            "US",
            "en",
            "+14155550120",
        ),
        # weak tokens before a run that starts with "oh"
        ("Call too oh too fiv3 f1ve f1ve z3ro 0ne to fiv3", "US", "en", "+12025550125"),
        # a digit glued after a digit word is a digit, not the word's leet last letter
        ("Appelle +Un - 202 - 555 - 0un37", "US", "fr", "+12025550137"),
        ("Contato: zero4NOVE1 cinco sete0 8um4", "AU", "pt", "+61491570814"),
    ],
)
def test_readings_of_ambiguous_words_and_prefixes(
    text: str, region: str, lang: str, expected: str
) -> None:
    assert [e for _, e, _ in phones(text, region, lang)] == [expected], text


@pytest.mark.parametrize(
    ("text", "region", "expected"),
    [
        ("Add me on IG star52 - 916.555.0129", "US", "+19165550129"),
        ("Insta elenaofficial86 | 📱 ④𝟙𝟝 - ⑤𝟝⑤ - ⓪𝟙⓪𝟠", "US", "+14155550108"),
        ("user abc7l - 713 555 0133", "US", "+17135550133"),
        ("kik: claraofficial63 | ☎ oh491 - 570 - 292", "AU", "+61491570292"),
        ("KIK: @emmax81 - 📱 0199000637", "FR", "+33199000637"),
    ],
)
def test_digits_ending_a_name_do_not_start_a_number(text: str, region: str, expected: str) -> None:
    assert [e for _, e, _ in phones(text, region)] == [expected], text


@pytest.mark.parametrize(
    "text",
    [
        "de 10 o 5 personas, 2 o 3 horas, 1 o 2 chicas 555 o 0142",
        "2 o 3 chicas 📱 4 o 5 horas 🌟 1 o 2 noches",
        "one lone 5, I 2 o 3 l, il 12 34 il 56, lol 10 o 5 lil 2011 i 1 oil 4 10l",
        "Booked 01.01.2026 ol 99 00 12",
        "Le 01.01.2026 ol 99 00, 12/05/2026 o 13/05/2026",
        "5 ⭐ o 4 ⭐ reviews, 10 💋 i 20 💋 l 30",
    ],
)
def test_lookalike_tokens_keep_prose_and_dates_out(text: str) -> None:
    for lang in ("en", "fr", "es", "pt", None):
        for region in ("US", "AU", "FR"):
            assert phones(text, region, lang) == [], (region, lang, text)


LOOKALIKES = {"0": ["o", "O", "ο", "О"], "1": ["l", "I", "І"]}


@settings(max_examples=300, deadline=None)
@given(st.randoms(use_true_random=False))
def test_lookalike_digits_with_any_separator_round_trip(rng: random.Random) -> None:
    """0s and 1s as look-alike tokens, at most three in a row (what the reader joins)."""
    region, e164, groups = fictional(rng)
    tokens: list[str] = []
    in_a_row = 0
    for digit in "".join(groups):
        if digit in LOOKALIKES and in_a_row < 3 and rng.random() < 0.7:
            tokens.append(rng.choice(LOOKALIKES[digit]))
            in_a_row += 1
        else:
            tokens.append(digit)
            in_a_row = 0
    written = rng.choice([" ", "*", " . ", "🌟", "-", "~", " / ", "💎💎"]).join(tokens)
    text = f"Text me {written}.\nThanks"
    found = phones(text, region, rng.choice(["en", "fr", "es", "pt", None]))
    assert [e for _, e, _ in found] == [e164], text
