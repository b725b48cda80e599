"""The words the synthetic ad generator writes with: phrases, names, cities, number words.

Why a separate module: the generator (`haven.synth.ads`) holds the mechanics (spans,
clusters, obfuscation) and this module holds the language. Keeping them apart lets a
reviewer read every sentence the corpus can contain in one place and check the hard rules:
everything is benign-worded, nothing is explicit, nothing mentions a minor, and no phrase
here is shared with the extractor (`haven.text` is built and judged without these lists).

Templates use `{slot}` markers, filled in by the generator with tracked spans:
`{name}` persona name, `{age}` stated adult age, `{city}` / `{city2}` city names, `{price}` /
`{price2}` / `{rose}` prices, `{height}`, `{weight}`, `{date}`, `{time}`, `{ref}`, `{hours}`,
`{postcode}` phone-like noise (decoys), `{venue}` a fictional venue name.

Names are common first names only; venue names, e-mail domains and web hosts are fictional
(reserved `.example` names, example.com/.org/.net). US area codes are real ones (so that
numbers in the fictional 555-0100..0199 block parse as valid), matched to their cities.
"""

from __future__ import annotations

__all__ = [
    "BENIGN_TOPICS",
    "CITIES",
    "CLASSIFIED_EXTRAS",
    "CLASSIFIED_SECTIONS",
    "COMPANION_SECTIONS",
    "CONTACT_LEADS",
    "CUE_EXTRA_TAGS",
    "DECORATIVE_EMOJI",
    "EMAIL_DOMAINS",
    "EMAIL_WORDS",
    "EMOJI_SEPARATORS",
    "HANDLE_SUFFIXES",
    "HOURS_FORMS",
    "INDICATOR_CUES",
    "LANGS",
    "LEET_DIGITS",
    "MASSAGE_SECTIONS",
    "NAMES",
    "ODD_SEPARATORS",
    "PAYMENT_LEADS",
    "PLATFORM_KEYWORDS",
    "SPELLED_DIGITS",
    "SYNONYMS",
    "URL_FORMS",
    "US_AREA_CODES",
    "VENUES",
    "WALLET_LEADS",
    "spell_number",
]

LANGS = ("en", "fr", "es", "pt")

# --------------------------------------------------------------------------- number words

# digit -> the ways a digit is written out, digit by digit, in each language.
SPELLED_DIGITS: dict[str, tuple[tuple[str, ...], ...]] = {
    "en": (
        ("zero", "oh"),
        ("one",),
        ("two",),
        ("three",),
        ("four",),
        ("five",),
        ("six",),
        ("seven",),
        ("eight",),
        ("nine",),
    ),
    "fr": (
        ("zéro", "zero"),
        ("un",),
        ("deux",),
        ("trois",),
        ("quatre",),
        ("cinq",),
        ("six",),
        ("sept",),
        ("huit",),
        ("neuf",),
    ),
    "es": (
        ("cero",),
        ("uno",),
        ("dos",),
        ("tres",),
        ("cuatro",),
        ("cinco",),
        ("seis",),
        ("siete",),
        ("ocho",),
        ("nueve",),
    ),
    "pt": (
        ("zero",),
        ("um",),
        ("dois",),
        ("três", "tres"),
        ("quatro",),
        ("cinco",),
        ("seis", "meia"),
        ("sete",),
        ("oito",),
        ("nove",),
    ),
}

# digit -> what filter-dodgers write instead: homophones and digit-for-letter spellings.
LEET_DIGITS: dict[str, tuple[tuple[str, ...], ...]] = {
    "en": (
        ("oh", "o", "z3ro", "zer0"),
        ("won", "0ne", "1ne"),
        ("to", "too", "tw0"),
        ("thr33", "thre3"),
        ("for", "fore", "f0ur", "4our"),
        ("f1ve", "fiv3"),
        ("s1x", "5ix"),
        ("s3ven", "sev3n"),
        ("ate", "e1ght", "3ight"),
        ("n1ne", "nin3"),
    ),
    "fr": (
        ("z3ro", "zer0"),
        ("hun", "uhn"),
        ("d3ux", "deu"),
        ("tr0is", "troa"),
        ("kat", "qu4tre"),
        ("c1nq", "sink"),
        ("s1x", "sis"),
        ("s3pt", "cet"),
        ("hu1t", "wit"),
        ("n3uf", "neuff"),
    ),
    "es": (
        ("c3ro", "cer0"),
        ("un0", "unno"),
        ("d0s", "doz"),
        ("tr3s", "trez"),
        ("cuatr0", "kuatro"),
        ("c1nco", "sinko"),
        ("s3is", "seys"),
        ("s1ete", "siet3"),
        ("0cho", "och0"),
        ("nu3ve", "nuev3"),
    ),
    "pt": (
        ("z3ro", "zer0"),
        ("hum", "hume"),
        ("d0is", "doiz"),
        ("tr3s", "trez"),
        ("quatr0", "kuatro"),
        ("c1nco", "sinko"),
        ("s3is", "seys"),
        ("s3te", "set3"),
        ("0ito", "oit0"),
        ("n0ve", "nov3"),
    ),
}

_EN_TEENS = (
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
)
_EN_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_FR_UNITS = ("zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf")
_FR_TEENS = ("dix", "onze", "douze", "treize", "quatorze", "quinze", "seize")
_FR_TENS = ("", "", "vingt", "trente", "quarante", "cinquante", "soixante")
_ES_UNITS = ("cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve")
_ES_TEENS = (
    "diez",
    "once",
    "doce",
    "trece",
    "catorce",
    "quince",
    "dieciséis",
    "diecisiete",
    "dieciocho",
    "diecinueve",
)
_ES_TWENTIES = (
    "veinte",
    "veintiuno",
    "veintidós",
    "veintitrés",
    "veinticuatro",
    "veinticinco",
    "veintiséis",
    "veintisiete",
    "veintiocho",
    "veintinueve",
)
_ES_TENS = (
    "",
    "",
    "",
    "treinta",
    "cuarenta",
    "cincuenta",
    "sesenta",
    "setenta",
    "ochenta",
    "noventa",
)
_PT_UNITS = ("zero", "um", "dois", "três", "quatro", "cinco", "seis", "sete", "oito", "nove")
_PT_TEENS = (
    "dez",
    "onze",
    "doze",
    "treze",
    "catorze",
    "quinze",
    "dezesseis",
    "dezessete",
    "dezoito",
    "dezenove",
)
_PT_TENS = (
    "",
    "",
    "vinte",
    "trinta",
    "quarenta",
    "cinquenta",
    "sessenta",
    "setenta",
    "oitenta",
    "noventa",
)


def _spell_fr(n: int) -> str:
    if n < 10:
        return _FR_UNITS[n]
    if n < 17:
        return _FR_TEENS[n - 10]
    if n < 20:
        return "dix-" + _FR_UNITS[n - 10]
    tens, unit = divmod(n, 10)
    if tens == 7:
        return "soixante-et-onze" if unit == 1 else "soixante-" + _spell_fr(10 + unit)
    if tens == 8:
        return "quatre-vingts" if unit == 0 else "quatre-vingt-" + _spell_fr(unit)
    if tens == 9:
        return "quatre-vingt-" + _spell_fr(10 + unit)
    if unit == 0:
        return _FR_TENS[tens]
    return _FR_TENS[tens] + ("-et-un" if unit == 1 else "-" + _FR_UNITS[unit])


def spell_number(n: int, lang: str) -> str:
    """0..99 written out in `lang` (hyphenated compounds in en and fr, 1990 French spelling).

    Used for the two-digit groups that French, Spanish and Portuguese speakers read phone
    numbers in ("quatre-vingt-dix-neuf" for 99). Raises ValueError outside 0..99 or for an
    unknown language.
    """
    if not 0 <= n <= 99:
        raise ValueError(f"spell_number takes 0..99, got {n}")
    if lang == "en":
        if n < 10:
            return SPELLED_DIGITS["en"][n][0]
        if n < 20:
            return _EN_TEENS[n - 10]
        tens, unit = divmod(n, 10)
        return _EN_TENS[tens] + ("" if unit == 0 else "-" + SPELLED_DIGITS["en"][unit][0])
    if lang == "fr":
        return _spell_fr(n)
    if lang == "es":
        if n < 10:
            return _ES_UNITS[n]
        if n < 20:
            return _ES_TEENS[n - 10]
        if n < 30:
            return _ES_TWENTIES[n - 20]
        tens, unit = divmod(n, 10)
        return _ES_TENS[tens] + ("" if unit == 0 else " y " + _ES_UNITS[unit])
    if lang == "pt":
        if n < 10:
            return _PT_UNITS[n]
        if n < 20:
            return _PT_TEENS[n - 10]
        tens, unit = divmod(n, 10)
        return _PT_TENS[tens] + ("" if unit == 0 else " e " + _PT_UNITS[unit])
    raise ValueError(f"unknown language {lang!r}")


# Separators put between digits or groups by the "separators" obfuscation style.
ODD_SEPARATORS = ("*", "~", "_", "|", " • ", "..", " / ", "/", ".", " . ", "-", " - ", "  ")
# Benign decorative emoji used between digits. Deliberately none of the coded emoji (rose,
# cherry, cherry blossom, growing heart, airplane, crown): those are indicators of their own.
EMOJI_SEPARATORS = ("⭐", "✨", "💫", "🔹", "💎", "➖", "▪️", "🌟")
DECORATIVE_EMOJI = ("✨", "💫", "🌟", "💎", "🥂", "☕", "🎶", "🌙")

# ------------------------------------------------------------------------------ places

# region -> (city, area codes). Area codes only matter for US numbers (AU mobiles and the
# French fictional block are national).
CITIES: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "US": (
        ("New York", ("212", "646", "718", "917")),
        ("Los Angeles", ("213", "310", "323")),
        ("Chicago", ("312", "773")),
        ("Houston", ("713", "832")),
        ("Phoenix", ("602", "480")),
        ("Philadelphia", ("215", "267")),
        ("San Antonio", ("210",)),
        ("San Diego", ("619", "858")),
        ("Dallas", ("214", "469", "972")),
        ("Miami", ("305", "786")),
        ("Atlanta", ("404", "678", "770")),
        ("Seattle", ("206",)),
        ("Denver", ("303", "720")),
        ("Boston", ("617", "857")),
        ("Las Vegas", ("702", "725")),
        ("Washington", ("202",)),
        ("Orlando", ("407", "321")),
        ("Nashville", ("615",)),
        ("Portland", ("503", "971")),
        ("Detroit", ("313",)),
        ("Minneapolis", ("612",)),
        ("Austin", ("512", "737")),
        ("San Francisco", ("415", "628")),
        ("Baltimore", ("410", "443")),
        ("New Orleans", ("504",)),
        ("Tampa", ("813",)),
        ("Salt Lake City", ("801", "385")),
        ("Kansas City", ("816",)),
        ("Sacramento", ("916",)),
        ("Honolulu", ("808",)),
    ),
    "AU": (
        ("Sydney", ()),
        ("Melbourne", ()),
        ("Brisbane", ()),
        ("Perth", ()),
        ("Adelaide", ()),
        ("Gold Coast", ()),
        ("Canberra", ()),
        ("Hobart", ()),
        ("Darwin", ()),
        ("Newcastle", ()),
        ("Cairns", ()),
        ("Geelong", ()),
    ),
    "FR": (
        ("Paris", ()),
        ("Marseille", ()),
        ("Lyon", ()),
        ("Toulouse", ()),
        ("Nice", ()),
        ("Nantes", ()),
        ("Strasbourg", ()),
        ("Montpellier", ()),
        ("Bordeaux", ()),
        ("Lille", ()),
        ("Rennes", ()),
        ("Reims", ()),
        ("Toulon", ()),
        ("Grenoble", ()),
        ("Dijon", ()),
        ("Nîmes", ()),
        ("Cannes", ()),
        ("Clermont-Ferrand", ()),
    ),
}

# Every US geographic area code in which libphonenumber accepts the fictional 555-0100..0199
# block (toll-free, premium and personal-communications codes left out): advertisers keep
# numbers from elsewhere, and the larger range lets big corpora give every advertiser its own.
US_AREA_CODES: tuple[str, ...] = (
    "201",
    "202",
    "203",
    "205",
    "206",
    "207",
    "208",
    "209",
    "210",
    "212",
    "213",
    "214",
    "215",
    "216",
    "217",
    "218",
    "219",
    "220",
    "223",
    "224",
    "225",
    "227",
    "228",
    "229",
    "231",
    "234",
    "235",
    "239",
    "240",
    "248",
    "251",
    "252",
    "253",
    "254",
    "256",
    "260",
    "262",
    "267",
    "269",
    "270",
    "272",
    "274",
    "276",
    "279",
    "281",
    "283",
    "301",
    "302",
    "303",
    "304",
    "305",
    "307",
    "308",
    "309",
    "310",
    "312",
    "313",
    "314",
    "315",
    "316",
    "317",
    "318",
    "319",
    "320",
    "321",
    "323",
    "324",
    "325",
    "326",
    "327",
    "329",
    "330",
    "331",
    "332",
    "334",
    "336",
    "337",
    "339",
    "341",
    "346",
    "347",
    "350",
    "351",
    "352",
    "353",
    "360",
    "361",
    "363",
    "364",
    "369",
    "380",
    "385",
    "386",
    "401",
    "402",
    "404",
    "405",
    "406",
    "407",
    "408",
    "409",
    "410",
    "412",
    "413",
    "414",
    "415",
    "417",
    "419",
    "423",
    "424",
    "425",
    "430",
    "432",
    "434",
    "435",
    "440",
    "442",
    "443",
    "445",
    "447",
    "448",
    "458",
    "463",
    "464",
    "469",
    "470",
    "472",
    "475",
    "478",
    "479",
    "480",
    "484",
    "501",
    "502",
    "503",
    "504",
    "505",
    "507",
    "508",
    "509",
    "510",
    "512",
    "513",
    "515",
    "516",
    "517",
    "518",
    "520",
    "530",
    "531",
    "534",
    "539",
    "540",
    "541",
    "551",
    "557",
    "559",
    "561",
    "562",
    "563",
    "564",
    "567",
    "570",
    "571",
    "572",
    "573",
    "574",
    "575",
    "580",
    "582",
    "585",
    "586",
    "601",
    "602",
    "603",
    "605",
    "606",
    "607",
    "608",
    "609",
    "610",
    "612",
    "614",
    "615",
    "616",
    "617",
    "618",
    "619",
    "620",
    "623",
    "626",
    "628",
    "629",
    "630",
    "631",
    "636",
    "640",
    "641",
    "645",
    "646",
    "650",
    "651",
    "656",
    "657",
    "659",
    "660",
    "661",
    "662",
    "667",
    "669",
    "678",
    "680",
    "681",
    "682",
    "686",
    "689",
    "701",
    "702",
    "703",
    "704",
    "706",
    "707",
    "708",
    "712",
    "713",
    "714",
    "715",
    "716",
    "717",
    "718",
    "719",
    "720",
    "724",
    "725",
    "726",
    "727",
    "728",
    "730",
    "731",
    "732",
    "734",
    "737",
    "738",
    "740",
    "743",
    "747",
    "748",
    "754",
    "757",
    "760",
    "762",
    "763",
    "765",
    "769",
    "770",
    "771",
    "772",
    "773",
    "774",
    "775",
    "779",
    "781",
    "785",
    "786",
    "801",
    "802",
    "803",
    "804",
    "805",
    "806",
    "808",
    "810",
    "812",
    "813",
    "814",
    "815",
    "816",
    "817",
    "818",
    "820",
    "821",
    "826",
    "828",
    "830",
    "831",
    "832",
    "835",
    "838",
    "839",
    "840",
    "843",
    "845",
    "847",
    "848",
    "850",
    "854",
    "856",
    "857",
    "858",
    "859",
    "860",
    "862",
    "863",
    "864",
    "865",
    "870",
    "872",
    "878",
    "901",
    "903",
    "904",
    "906",
    "907",
    "908",
    "909",
    "910",
    "912",
    "913",
    "914",
    "915",
    "916",
    "917",
    "918",
    "919",
    "920",
    "925",
    "928",
    "929",
    "930",
    "931",
    "934",
    "936",
    "937",
    "938",
    "940",
    "941",
    "943",
    "945",
    "947",
    "948",
    "949",
    "951",
    "952",
    "954",
    "956",
    "959",
    "970",
    "971",
    "972",
    "973",
    "975",
    "978",
    "979",
    "980",
    "983",
    "984",
    "985",
    "986",
    "989",
)

# Persona names: common first names; none is also a city or an everyday word.
NAMES = (
    "Bella",
    "Mia",
    "Sofia",
    "Chloé",
    "Camila",
    "Luna",
    "Jade",
    "Emma",
    "Lola",
    "Nina",
    "Valentina",
    "Ana",
    "Lucía",
    "Gabriela",
    "Yasmin",
    "Clara",
    "Elena",
    "Inès",
    "Léa",
    "Manon",
    "Zoé",
    "Amelia",
    "Isabela",
    "Mariana",
    "Alice",
    "Daniela",
    "Paola",
    "Bianca",
    "Lana",
    "Kira",
    "Naomi",
    "Vanessa",
    "Alina",
    "Tessa",
    "Noor",
    "Selena",
    "Livia",
    "Maya",
    "Eva",
    "Rosa",
    "Julia",
    "Carla",
    "Olivia",
    "Leila",
    "Sara",
    "Mila",
    "Ruby",
    "Ivy",
)
# Fictional venue names (none is a real business as far as the authors know).
VENUES = (
    "Lotus Garden Wellness",
    "Blue Orchid Relaxation",
    "Golden Bamboo Studio",
    "Jade Moon Retreat",
    "Silver Lantern Lounge",
    "Velvet Pearl House",
    "Maison Azur",
    "Casa Serena",
    "Oasis Tranquilo",
    "Zen Harbour Rooms",
)
EMAIL_DOMAINS = (
    "example.com",
    "example.org",
    "example.net",
    "mail.example",
    "inbox.example",
    "post.example.com",
)
EMAIL_WORDS = ("vip", "rose", "sweet", "city", "love", "star", "moon", "pearl", "angel", "gold")
HANDLE_SUFFIXES = ("_vip", ".official", "_xo", "official", "_love", ".star", "_", "x")
# How a web address is written; {slug} is lower-case letters, digits and dashes.
URL_FORMS = (
    "https://{slug}.example",
    "https://www.{slug}.example/profile",
    "www.{slug}.example",
    "http://{slug}.example.com",
    "https://example.net/{slug}",
    "{slug}.example.org",
    "https://book.example.com/{slug}",
)

# platform (normalized name) -> the keywords ads write before a handle.
PLATFORM_KEYWORDS: dict[str, tuple[str, ...]] = {
    "snapchat": ("snap", "sc", "Snapchat", "SC", "Snap"),
    "instagram": ("ig", "IG", "insta", "Instagram"),
    "kik": ("kik", "Kik", "KIK"),
    "telegram": ("tg", "telegram", "Telegram", "TG"),
    "onlyfans": ("OF", "onlyfans", "OnlyFans"),
    "twitter": ("twitter", "Twitter"),
}

HOURS_FORMS: dict[str, tuple[str, ...]] = {
    "en": ("24/7", "24 / 7", "24-7", "24hrs"),
    "fr": ("24h/24", "24h/24 7j/7", "24/7", "7j/7"),
    "es": ("24/7", "24 horas", "24h"),
    "pt": ("24/7", "24 horas", "24h"),
}

# ----------------------------------------------------------------------- contact leads

# kind -> lang -> lead-ins; the generator appends the entity after the lead.
CONTACT_LEADS: dict[str, dict[str, tuple[str, ...]]] = {
    "phone": {
        "en": ("Call or text ", "📱 ", "Text me: ", "Contact: ", "Phone ", "Text only ", "☎ "),
        "fr": ("Appelez-moi au ", "📱 ", "Tél. ", "SMS au ", "Contact : ", "Joignable au "),
        "es": ("Llámame al ", "📱 ", "Tel: ", "Mensajes al ", "Contacto: ", "Escríbeme al "),
        "pt": ("Me liga: ", "📱 ", "Tel: ", "Mensagem para ", "Contato: ", "Chama no "),
    },
    "whatsapp": {
        "en": ("WhatsApp ", "WhatsApp: ", "wa ", "WA: "),
        "fr": ("WhatsApp ", "WhatsApp : ", "wa "),
        "es": ("WhatsApp ", "WhatsApp: ", "wa: "),
        "pt": ("WhatsApp ", "Zap: ", "wa "),
    },
    "email": {
        "en": ("Email: ", "Write to me at ", "✉ ", "Mail "),
        "fr": ("E-mail : ", "Écrivez-moi : ", "✉ ", "Mail : "),
        "es": ("Correo: ", "Escríbeme a ", "✉ ", "Email: "),
        "pt": ("E-mail: ", "Escreva para ", "✉ ", "Email: "),
    },
    "url": {
        "en": ("More photos: ", "Book online: ", "Website: ", "Profile "),
        "fr": ("Plus de photos : ", "Réservation en ligne : ", "Site : "),
        "es": ("Más fotos: ", "Reserva en línea: ", "Web: "),
        "pt": ("Mais fotos: ", "Reserve online: ", "Site: "),
    },
    "handle": {
        "en": ("", "Add me on ", "Find me on "),
        "fr": ("", "Ajoute-moi sur ", "Retrouve-moi sur "),
        "es": ("", "Agrégame en ", "Búscame en "),
        "pt": ("", "Me adiciona no ", "Me segue no "),
    },
}

# Wallet lines: the screening cue (a deposit) comes with them.
WALLET_LEADS: dict[str, tuple[str, ...]] = {
    "en": ("Deposit in BTC to confirm: ", "BTC deposit: ", "Deposit (bitcoin) "),
    "fr": ("Acompte en BTC pour confirmer : ", "Acompte bitcoin : "),
    "es": ("Depósito en BTC para confirmar: ", "Depósito bitcoin: "),
    "pt": ("Depósito em BTC para confirmar: ", "Depósito bitcoin: "),
}

# Payment lines in benign classifieds: a wallet without a deposit demand (no screening cue).
PAYMENT_LEADS: dict[str, tuple[str, ...]] = {
    "en": ("Bitcoin accepted: ", "BTC welcome: "),
    "fr": ("Bitcoin accepté : ", "BTC accepté : "),
    "es": ("Acepto bitcoin: ", "BTC aceptado: "),
    "pt": ("Aceito bitcoin: ", "BTC aceito: "),
}

# --------------------------------------------------------------------------- ad sections

Sections = dict[str, dict[str, tuple[str, ...]]]

COMPANION_SECTIONS: Sections = {
    "headline": {
        "en": (
            "{deco} {name} {deco} Sweet company in {city}",
            "{name}, elegant companion for {city} gentlemen {deco}",
            "{deco} Charming {name} in {city} {deco}",
            "Dinner dates and good conversation with {name} | {city}",
            "{city}: warm, classy and discreet {name} {deco}",
        ),
        "fr": (
            "{deco} {name} {deco} Douce compagnie à {city}",
            "{name}, accompagnatrice élégante sur {city} {deco}",
            "{deco} Charmante {name} à {city} {deco}",
            "Dîners et belles conversations avec {name} | {city}",
        ),
        "es": (
            "{deco} {name} {deco} Dulce compañía en {city}",
            "{name}, acompañante elegante en {city} {deco}",
            "{deco} Encantadora {name} en {city} {deco}",
            "Cenas y buena conversación con {name} | {city}",
        ),
        "pt": (
            "{deco} {name} {deco} Doce companhia em {city}",
            "{name}, acompanhante elegante em {city} {deco}",
            "{deco} Encantadora {name} em {city} {deco}",
            "Jantares e boa conversa com {name} | {city}",
        ),
    },
    "intro": {
        "en": (
            "Hello gentlemen, my name is {name} and I am {age} years old.",
            "Hi there, I'm {name}, {age}, a warm and easy-going lady.",
            "Hey, {name} here ({age}), curious, cheerful and always on time.",
            "Good evening, I'm {name}. I'm {age} and I love meeting interesting people.",
        ),
        "fr": (
            "Bonjour messieurs, je m'appelle {name} et j'ai {age} ans.",
            "Coucou, moi c'est {name}, {age} ans, douce et souriante.",
            "Bonsoir, je suis {name}, {age} ans, curieuse et toujours ponctuelle.",
            "Enchantée, {name}, {age} ans, j'adore les rencontres intéressantes.",
        ),
        "es": (
            "Hola caballeros, me llamo {name} y tengo {age} años.",
            "Hola, soy {name}, {age} años, cariñosa y tranquila.",
            "Buenas noches, soy {name}, tengo {age} años y me encanta conocer gente.",
            "Encantada, {name}, {age} años, alegre y siempre puntual.",
        ),
        "pt": (
            "Olá cavalheiros, meu nome é {name} e tenho {age} anos.",
            "Oi, sou a {name}, {age} anos, carinhosa e tranquila.",
            "Boa noite, sou {name}, tenho {age} anos e adoro conhecer pessoas.",
            "Prazer, {name}, {age} anos, alegre e sempre pontual.",
        ),
    },
    "about": {
        "en": (
            "I enjoy fine dining, jazz bars and long walks by the water.",
            "Good conversation, a glass of wine and a relaxed evening are my favourite things.",
            "I am well travelled, love art galleries and can talk about almost anything.",
            "My friends describe me as funny, attentive and a great listener.",
            "I like cooking, reading novels and discovering little cafés around the city.",
        ),
        "fr": (
            "J'aime les bons restaurants, les bars à jazz et les promenades au bord de l'eau.",
            "Une belle conversation, un verre de vin et une soirée détendue, voilà ce que j'aime.",
            "J'ai beaucoup voyagé, j'adore les musées et je peux parler de presque tout.",
            "Mes amies me disent drôle, attentive et à l'écoute.",
            "J'aime cuisiner, lire des romans et découvrir les petits cafés de la ville.",
        ),
        "es": (
            "Me gustan los buenos restaurantes, los bares de jazz y pasear junto al mar.",
            "Una buena charla, una copa de vino y una noche tranquila son mis cosas favoritas.",
            "He viajado mucho, me encantan los museos y puedo hablar de casi todo.",
            "Mis amigas dicen que soy divertida, atenta y que sé escuchar.",
            "Me gusta cocinar, leer novelas y descubrir cafeterías por la ciudad.",
        ),
        "pt": (
            "Gosto de bons restaurantes, bares de jazz e passeios à beira-mar.",
            "Uma boa conversa, uma taça de vinho e uma noite tranquila são o que mais gosto.",
            "Já viajei muito, adoro museus e converso sobre quase tudo.",
            "Minhas amigas dizem que sou divertida, atenciosa e boa ouvinte.",
            "Gosto de cozinhar, ler romances e descobrir cafés pela cidade.",
        ),
    },
    "looks": {
        "en": (
            "{height}, {weight}, long dark hair and a bright smile.",
            "Brunette, {height}, green eyes and a sense of style.",
            "{height} and {weight}, curly hair, always elegantly dressed.",
        ),
        "fr": (
            "{height}, {weight}, longs cheveux bruns et un grand sourire.",
            "Brune, {height}, yeux verts et toujours élégante.",
            "{height} pour {weight}, cheveux bouclés, style raffiné.",
        ),
        "es": (
            "{height}, {weight}, pelo largo y oscuro y una gran sonrisa.",
            "Morena, {height}, ojos verdes y mucho estilo.",
            "{height} y {weight}, pelo rizado, siempre elegante.",
        ),
        "pt": (
            "{height}, {weight}, cabelos longos e escuros e um lindo sorriso.",
            "Morena, {height}, olhos verdes e muito estilo.",
            "{height} e {weight}, cabelos cacheados, sempre elegante.",
        ),
    },
    "service": {
        "en": (
            "I offer warm companionship for dinners, events and quiet evenings.",
            "Perfect company for a business dinner, a concert or a walk around town.",
            "Let me be your date for the evening: drinks, dinner and lots of laughs.",
            "Relaxing massage and pleasant company to help you forget a long day.",
        ),
        "fr": (
            "Je propose une compagnie chaleureuse pour dîners, sorties et soirées calmes.",
            "Compagnie idéale pour un dîner d'affaires, un concert ou une balade en ville.",
            "Je serai votre cavalière d'un soir : un verre, un dîner et des éclats de rire.",
            "Massage relaxant et agréable compagnie pour oublier une longue journée.",
        ),
        "es": (
            "Ofrezco compañía cálida para cenas, eventos y noches tranquilas.",
            "Compañía perfecta para una cena de negocios, un concierto o un paseo.",
            "Seré tu cita de la noche: copas, cena y muchas risas.",
            "Masaje relajante y compañía agradable para olvidar un día largo.",
        ),
        "pt": (
            "Ofereço companhia calorosa para jantares, eventos e noites tranquilas.",
            "Companhia perfeita para um jantar de negócios, um show ou um passeio.",
            "Serei seu par da noite: drinks, jantar e muitas risadas.",
            "Massagem relaxante e companhia agradável para esquecer um dia longo.",
        ),
    },
    "rates": {
        "en": (
            "Rates: {price} for 30 min, {price2} for the hour.",
            "Donation {price} half hour / {price2} hour.",
            "{price} per half hour, {price2} per hour, dinner dates on request.",
        ),
        "fr": (
            "Tarifs : {price} la demi-heure, {price2} l'heure.",
            "Cadeau {price} 30 min / {price2} 1h.",
            "{price} la demi-heure, {price2} l'heure, dîner sur demande.",
        ),
        "es": (
            "Tarifas: {price} media hora, {price2} la hora.",
            "Donativo {price} 30 min / {price2} 1 hora.",
            "{price} media hora, {price2} la hora, cenas a consultar.",
        ),
        "pt": (
            "Valores: {price} meia hora, {price2} a hora.",
            "Cachê {price} 30 min / {price2} 1 hora.",
            "{price} meia hora, {price2} a hora, jantares sob consulta.",
        ),
    },
    "schedule": {
        "en": (
            "Hours: {time}.",
            "Booking for {date} is open, {time}.",
            "You can see me {time}, message first.",
        ),
        "fr": (
            "Horaires : {time}.",
            "Réservations ouvertes pour le {date}, {time}.",
            "Rendez-vous {time}, envoyez un message avant.",
        ),
        "es": (
            "Horario: {time}.",
            "Reservas abiertas para el {date}, {time}.",
            "Citas {time}, escribe primero.",
        ),
        "pt": (
            "Horário: {time}.",
            "Reservas abertas para {date}, {time}.",
            "Atendo {time}, mande mensagem antes.",
        ),
    },
    "ref": {
        "en": ("Ad {ref}.", "Listing {ref}", "({ref})"),
        "fr": ("Annonce {ref}.", "({ref})"),
        "es": ("Anuncio {ref}.", "({ref})"),
        "pt": ("Anúncio {ref}.", "({ref})"),
    },
    "closing": {
        "en": (
            "Polite gentlemen only. See you soon, {name} {deco}",
            "Looking forward to meeting you. xoxo {name}",
            "Respectful messages get quick answers. {name}",
            "No rush, no pressure, just a lovely time. {deco}",
        ),
        "fr": (
            "Messieurs courtois uniquement. À bientôt, {name} {deco}",
            "Au plaisir de vous rencontrer. Bisous, {name}",
            "Les messages polis reçoivent une réponse rapide. {name}",
        ),
        "es": (
            "Solo caballeros educados. Hasta pronto, {name} {deco}",
            "Será un placer conocerte. Besos, {name}",
            "Los mensajes respetuosos tienen respuesta rápida. {name}",
        ),
        "pt": (
            "Somente cavalheiros educados. Até breve, {name} {deco}",
            "Será um prazer te conhecer. Beijos, {name}",
            "Mensagens respeitosas têm resposta rápida. {name}",
        ),
    },
}

MASSAGE_SECTIONS: Sections = {
    "headline": {
        "en": (
            "{deco} Relaxing massage in {city} with {name} {deco}",
            "Full body relaxation massage | {city}",
            "{name}'s massage: calm, warm and professional in {city}",
        ),
        "fr": (
            "{deco} Massage relaxant à {city} avec {name} {deco}",
            "Massage détente du corps entier | {city}",
            "Les massages de {name} : calme et douceur à {city}",
        ),
        "es": (
            "{deco} Masaje relajante en {city} con {name} {deco}",
            "Masaje de relajación de cuerpo entero | {city}",
            "Los masajes de {name}: calma y calidez en {city}",
        ),
        "pt": (
            "{deco} Massagem relaxante em {city} com {name} {deco}",
            "Massagem relaxante corpo inteiro | {city}",
            "As massagens da {name}: calma e carinho em {city}",
        ),
    },
    "intro": {
        "en": (
            "Hi, I'm {name}, {age}, a trained masseuse with years of practice.",
            "My name is {name} and I have been giving massages for a long time.",
            "I'm {name} ({age}), gentle hands and a quiet, warm room.",
        ),
        "fr": (
            "Bonjour, je suis {name}, {age} ans, masseuse diplômée et expérimentée.",
            "Je m'appelle {name} et je masse depuis de nombreuses années.",
            "Moi c'est {name} ({age} ans), des mains douces et une pièce calme.",
        ),
        "es": (
            "Hola, soy {name}, {age} años, masajista con años de práctica.",
            "Me llamo {name} y doy masajes desde hace mucho tiempo.",
            "Soy {name} ({age}), manos suaves y una sala tranquila.",
        ),
        "pt": (
            "Oi, sou a {name}, {age} anos, massagista com anos de prática.",
            "Meu nome é {name} e faço massagens há muito tempo.",
            "Sou a {name} ({age}), mãos suaves e uma sala tranquila.",
        ),
    },
    "about": {
        "en": (
            "Swedish, deep tissue, hot stones and aromatherapy oils.",
            "Soft music, warm towels and a clean, calm room.",
            "Ideal after sport, travel or a stressful week at work.",
            "Shower available, tea offered after every session.",
        ),
        "fr": (
            "Suédois, massage profond, pierres chaudes et huiles aromatiques.",
            "Musique douce, serviettes chaudes et pièce propre et calme.",
            "Idéal après le sport, un voyage ou une semaine stressante.",
            "Douche à disposition, thé offert après chaque séance.",
        ),
        "es": (
            "Sueco, tejido profundo, piedras calientes y aceites aromáticos.",
            "Música suave, toallas calientes y una sala limpia y tranquila.",
            "Ideal después del deporte, un viaje o una semana estresante.",
            "Ducha disponible, té después de cada sesión.",
        ),
        "pt": (
            "Sueca, profunda, pedras quentes e óleos aromáticos.",
            "Música suave, toalhas quentes e uma sala limpa e tranquila.",
            "Ideal depois do esporte, de uma viagem ou de uma semana estressante.",
            "Chuveiro disponível, chá depois de cada sessão.",
        ),
    },
    "looks": COMPANION_SECTIONS["looks"],
    "service": {
        "en": (
            "Sessions of 30, 60 or 90 minutes, by appointment.",
            "Couples welcome, gift vouchers available.",
            "Appointments on the hour, please arrive on time.",
        ),
        "fr": (
            "Séances de 30, 60 ou 90 minutes, sur rendez-vous.",
            "Couples bienvenus, bons cadeaux disponibles.",
            "Rendez-vous à l'heure pile, merci d'être ponctuel.",
        ),
        "es": (
            "Sesiones de 30, 60 o 90 minutos, con cita previa.",
            "Parejas bienvenidas, vales de regalo disponibles.",
            "Citas a la hora en punto, por favor sé puntual.",
        ),
        "pt": (
            "Sessões de 30, 60 ou 90 minutos, com hora marcada.",
            "Casais bem-vindos, vale-presente disponível.",
            "Horários fechados, por favor chegue no horário.",
        ),
    },
    "rates": COMPANION_SECTIONS["rates"],
    "schedule": COMPANION_SECTIONS["schedule"],
    "ref": COMPANION_SECTIONS["ref"],
    "closing": COMPANION_SECTIONS["closing"],
}

# Benign classified topics: sections per topic (headline, body, price line, closing).
BENIGN_TOPICS = ("tutoring", "furniture", "room", "bicycle", "dog_walking", "cleaning", "lessons")

CLASSIFIED_SECTIONS: dict[str, Sections] = {
    "tutoring": {
        "headline": {
            "en": ("Maths and physics tutoring in {city}", "{deco} Private tutor, {city} area"),
            "fr": (
                "Cours particuliers de maths et physique à {city}",
                "{deco} Soutien scolaire adulte, {city}",
            ),
            "es": (
                "Clases particulares de matemáticas en {city}",
                "{deco} Profesor particular, {city}",
            ),
            "pt": (
                "Aulas particulares de matemática em {city}",
                "{deco} Professor particular, {city}",
            ),
        },
        "body": {
            "en": (
                "Graduate student helping university students and adults with maths and physics.",
                "Exam preparation, statistics, calculus and study methods.",
                "Lessons at the library or online, materials included.",
                "Patient, clear explanations and weekly progress notes.",
            ),
            "fr": (
                "Doctorant, j'aide les étudiants et les adultes en maths et en physique.",
                "Préparation aux examens, statistiques, analyse et méthodes de travail.",
                "Cours à la bibliothèque ou en ligne, supports fournis.",
                "Explications patientes et claires, suivi chaque semaine.",
            ),
            "es": (
                "Estudiante de posgrado, ayudo a universitarios y adultos con matemáticas.",
                "Preparación de exámenes, estadística, cálculo y técnicas de estudio.",
                "Clases en la biblioteca o en línea, materiales incluidos.",
                "Explicaciones pacientes y claras, seguimiento semanal.",
            ),
            "pt": (
                "Sou pós-graduando e ajudo universitários e adultos com matemática e física.",
                "Preparação para provas, estatística, cálculo e técnicas de estudo.",
                "Aulas na biblioteca ou online, material incluso.",
                "Explicações pacientes e claras, acompanhamento semanal.",
            ),
        },
        "price": {
            "en": (
                "{price} per hour, first lesson half price.",
                "Rate: {price}/hr, packages available.",
            ),
            "fr": (
                "{price} de l'heure, premier cours à moitié prix.",
                "Tarif : {price}/h, forfaits possibles.",
            ),
            "es": (
                "{price} la hora, primera clase a mitad de precio.",
                "Tarifa: {price}/h, paquetes disponibles.",
            ),
            "pt": (
                "{price} a hora, primeira aula pela metade.",
                "Valor: {price}/h, pacotes disponíveis.",
            ),
        },
    },
    "furniture": {
        "headline": {
            "en": (
                "Sofa and oak table for sale, {city}",
                "{deco} Moving sale: furniture in {city}",
            ),
            "fr": (
                "Vends canapé et table en chêne, {city}",
                "{deco} Déménagement : meubles à vendre à {city}",
            ),
            "es": (
                "Vendo sofá y mesa de roble, {city}",
                "{deco} Venta por mudanza: muebles en {city}",
            ),
            "pt": (
                "Vendo sofá e mesa de carvalho, {city}",
                "{deco} Venda por mudança: móveis em {city}",
            ),
        },
        "body": {
            "en": (
                "Three-seat grey sofa, very comfortable, no pets, no smoke.",
                "Solid oak dining table with four chairs, {height} long.",
                "Pick up only, you will need a van and a friend to carry.",
                "Bought in {date}, hardly used, selling because we are moving abroad.",
            ),
            "fr": (
                "Canapé gris trois places, très confortable, pas d'animaux, non-fumeur.",
                "Table en chêne massif avec quatre chaises, longueur {height}.",
                "À enlever sur place, prévoir une camionnette et deux personnes.",
                "Acheté le {date}, très peu servi, vendu pour cause de départ à l'étranger.",
            ),
            "es": (
                "Sofá gris de tres plazas, muy cómodo, sin mascotas, no fumadores.",
                "Mesa de roble macizo con cuatro sillas, {height} de largo.",
                "Recogida en mano, hace falta una furgoneta y dos personas.",
                "Comprado el {date}, casi sin uso, lo vendo porque nos mudamos.",
            ),
            "pt": (
                "Sofá cinza de três lugares, muito confortável, sem animais, não fumantes.",
                "Mesa de carvalho maciço com quatro cadeiras, {height} de comprimento.",
                "Retirar no local, precisa de uma van e duas pessoas.",
                "Comprado em {date}, quase sem uso, vendo porque vamos mudar.",
            ),
        },
        "price": {
            "en": (
                "Sofa {price}, table {price2}, or both for a little less.",
                "Asking {price} for everything.",
            ),
            "fr": (
                "Canapé {price}, table {price2}, un peu moins pour le tout.",
                "Le tout pour {price}.",
            ),
            "es": ("Sofá {price}, mesa {price2}, un poco menos por todo.", "Todo por {price}."),
            "pt": ("Sofá {price}, mesa {price2}, um pouco menos pelos dois.", "Tudo por {price}."),
        },
    },
    "room": {
        "headline": {
            "en": (
                "Room to let in a quiet flat, {city}",
                "{deco} Furnished room available in {city}",
            ),
            "fr": (
                "Chambre à louer dans un appartement calme, {city}",
                "{deco} Chambre meublée à {city}",
            ),
            "es": (
                "Habitación en alquiler en piso tranquilo, {city}",
                "{deco} Habitación amueblada en {city}",
            ),
            "pt": (
                "Quarto para alugar em apartamento tranquilo, {city}",
                "{deco} Quarto mobiliado em {city}",
            ),
        },
        "body": {
            "en": (
                "Bright double room in a shared flat with two working professionals.",
                "Close to the metro, supermarket and a big park.",
                "Bills and fast internet included, washing machine in the flat.",
                "Free from {date}, minimum stay six months, postcode {postcode}.",
            ),
            "fr": (
                "Chambre lumineuse en colocation avec deux jeunes actifs.",
                "Proche du métro, d'un supermarché et d'un grand parc.",
                "Charges et internet inclus, lave-linge dans l'appartement.",
                "Libre à partir du {date}, six mois minimum, code postal {postcode}.",
            ),
            "es": (
                "Habitación luminosa en piso compartido con dos profesionales.",
                "Cerca del metro, del supermercado y de un parque grande.",
                "Gastos e internet incluidos, lavadora en el piso.",
                "Libre desde el {date}, estancia mínima seis meses, código postal {postcode}.",
            ),
            "pt": (
                "Quarto claro em apartamento dividido com dois profissionais.",
                "Perto do metrô, do supermercado e de um parque grande.",
                "Contas e internet incluídas, máquina de lavar no apartamento.",
                "Livre a partir de {date}, mínimo seis meses, código postal {postcode}.",
            ),
        },
        "price": {
            "en": ("Rent {price} per month plus deposit.", "{price}/month, all bills included."),
            "fr": ("Loyer {price} par mois, caution demandée.", "{price}/mois charges comprises."),
            "es": ("Alquiler {price} al mes más fianza.", "{price}/mes con gastos incluidos."),
            "pt": ("Aluguel {price} por mês mais caução.", "{price}/mês com contas incluídas."),
        },
    },
    "bicycle": {
        "headline": {
            "en": ("Road bike for sale, {city}", "{deco} City bicycle, great condition, {city}"),
            "fr": (
                "Vélo de route à vendre, {city}",
                "{deco} Vélo de ville en très bon état, {city}",
            ),
            "es": (
                "Bicicleta de carretera en venta, {city}",
                "{deco} Bici urbana en muy buen estado, {city}",
            ),
            "pt": (
                "Bicicleta de estrada à venda, {city}",
                "{deco} Bicicleta urbana em ótimo estado, {city}",
            ),
        },
        "body": {
            "en": (
                "Aluminium frame, 22 gears, new tyres fitted last spring.",
                "Frame size fits riders from {height} and up.",
                "Comes with lights, a lock and a small saddle bag.",
                "Test rides welcome on weekends.",
            ),
            "fr": (
                "Cadre aluminium, 22 vitesses, pneus neufs au printemps dernier.",
                "Taille de cadre adaptée à partir de {height}.",
                "Vendu avec éclairage, antivol et une petite sacoche.",
                "Essai possible le week-end.",
            ),
            "es": (
                "Cuadro de aluminio, 22 marchas, ruedas cambiadas la primavera pasada.",
                "Talla de cuadro para ciclistas a partir de {height}.",
                "Incluye luces, candado y una bolsa pequeña.",
                "Se puede probar los fines de semana.",
            ),
            "pt": (
                "Quadro de alumínio, 22 marchas, pneus trocados na última primavera.",
                "Tamanho de quadro para ciclistas a partir de {height}.",
                "Vem com luzes, cadeado e uma bolsa pequena.",
                "Pode testar nos fins de semana.",
            ),
        },
        "price": {
            "en": ("Price {price}, firm.", "{price} or best offer."),
            "fr": ("Prix {price}, ferme.", "{price} à débattre."),
            "es": ("Precio {price}, fijo.", "{price} negociable."),
            "pt": ("Preço {price}, fixo.", "{price} negociável."),
        },
    },
    "dog_walking": {
        "headline": {
            "en": ("Friendly dog walker in {city}", "{deco} Dog walking and pet sitting, {city}"),
            "fr": ("Promeneuse de chiens à {city}", "{deco} Garde et promenade d'animaux, {city}"),
            "es": ("Paseadora de perros en {city}", "{deco} Paseo y cuidado de mascotas, {city}"),
            "pt": ("Passeadora de cães em {city}", "{deco} Passeio e cuidado de pets, {city}"),
        },
        "body": {
            "en": (
                "Daily walks of 30 or 60 minutes, small groups of calm dogs.",
                "Insured, first aid trained, photos sent after every walk.",
                "Weekend and holiday pet sitting at your home.",
                "Meet and greet before the first walk, no charge.",
            ),
            "fr": (
                "Promenades de 30 ou 60 minutes, petits groupes de chiens calmes.",
                "Assurée, formée aux premiers secours, photos après chaque sortie.",
                "Garde à domicile le week-end et pendant les vacances.",
                "Rencontre gratuite avant la première promenade.",
            ),
            "es": (
                "Paseos diarios de 30 o 60 minutos, grupos pequeños de perros tranquilos.",
                "Con seguro, formación en primeros auxilios y fotos después de cada paseo.",
                "Cuidado a domicilio en fines de semana y vacaciones.",
                "Primera visita para conocernos sin coste.",
            ),
            "pt": (
                "Passeios diários de 30 ou 60 minutos, grupos pequenos de cães calmos.",
                "Com seguro, curso de primeiros socorros e fotos depois de cada passeio.",
                "Cuidado em casa nos fins de semana e feriados.",
                "Primeira visita para nos conhecermos sem custo.",
            ),
        },
        "price": {
            "en": ("{price} per walk, {price2} for a full day of sitting.",),
            "fr": ("{price} la promenade, {price2} la journée de garde.",),
            "es": ("{price} por paseo, {price2} el día completo.",),
            "pt": ("{price} por passeio, {price2} a diária.",),
        },
    },
    "cleaning": {
        "headline": {
            "en": ("House cleaning service, {city}", "{deco} Office and home cleaning in {city}"),
            "fr": ("Ménage à domicile, {city}", "{deco} Nettoyage de bureaux et maisons à {city}"),
            "es": (
                "Servicio de limpieza de casas, {city}",
                "{deco} Limpieza de oficinas y hogares en {city}",
            ),
            "pt": (
                "Serviço de limpeza residencial, {city}",
                "{deco} Limpeza de escritórios e casas em {city}",
            ),
        },
        "body": {
            "en": (
                "Weekly or one-off cleaning, eco-friendly products supplied.",
                "Emergency call-outs {hours}, move-out cleans a speciality.",
                "Reliable team, references from long-term clients.",
                "Office contracts from {date}, quote {ref}.",
            ),
            "fr": (
                "Ménage hebdomadaire ou ponctuel, produits écologiques fournis.",
                "Interventions urgentes {hours}, spécialiste des fins de bail.",
                "Équipe fiable, recommandée par des clients fidèles.",
                "Contrats de bureaux à partir du {date}, devis {ref}.",
            ),
            "es": (
                "Limpieza semanal o puntual, productos ecológicos incluidos.",
                "Urgencias {hours}, especialistas en limpiezas de mudanza.",
                "Equipo de confianza, referencias de clientes de años.",
                "Contratos de oficina desde el {date}, presupuesto {ref}.",
            ),
            "pt": (
                "Limpeza semanal ou avulsa, produtos ecológicos inclusos.",
                "Urgências {hours}, especialistas em limpeza de mudança.",
                "Equipe de confiança, referências de clientes antigos.",
                "Contratos de escritório a partir de {date}, orçamento {ref}.",
            ),
        },
        "price": {
            "en": ("From {price} per visit.", "{price} per hour, materials included."),
            "fr": ("À partir de {price} la visite.", "{price} de l'heure, matériel compris."),
            "es": ("Desde {price} por visita.", "{price} la hora, material incluido."),
            "pt": ("A partir de {price} por visita.", "{price} a hora, material incluso."),
        },
    },
    "lessons": {
        "headline": {
            "en": ("Guitar and piano lessons for adults, {city}", "{deco} Music lessons in {city}"),
            "fr": (
                "Cours de guitare et piano pour adultes, {city}",
                "{deco} Cours de musique à {city}",
            ),
            "es": (
                "Clases de guitarra y piano para adultos, {city}",
                "{deco} Clases de música en {city}",
            ),
            "pt": (
                "Aulas de violão e piano para adultos, {city}",
                "{deco} Aulas de música em {city}",
            ),
        },
        "body": {
            "en": (
                "Conservatory-trained teacher, beginners and returning players welcome.",
                "Learn the songs you love, with or without reading music.",
                "Lessons in my studio or at your home, evenings {time}.",
                "Trial lesson on {date}, bring your own instrument if you have one.",
            ),
            "fr": (
                "Professeur diplômé du conservatoire, débutants bienvenus.",
                "Apprenez les morceaux que vous aimez, avec ou sans solfège.",
                "Cours chez moi ou à domicile, le soir {time}.",
                "Cours d'essai le {date}, apportez votre instrument si vous en avez un.",
            ),
            "es": (
                "Profesor titulado del conservatorio, principiantes bienvenidos.",
                "Aprende las canciones que te gustan, con o sin solfeo.",
                "Clases en mi estudio o a domicilio, por la tarde {time}.",
                "Clase de prueba el {date}, trae tu instrumento si tienes.",
            ),
            "pt": (
                "Professor formado em conservatório, iniciantes bem-vindos.",
                "Aprenda as músicas que você ama, com ou sem partitura.",
                "Aulas no meu estúdio ou em domicílio, à noite {time}.",
                "Aula experimental em {date}, traga seu instrumento se tiver.",
            ),
        },
        "price": {
            "en": ("{price} per lesson, {price2} for a block of five.",),
            "fr": ("{price} le cours, {price2} les cinq cours.",),
            "es": ("{price} la clase, {price2} el bono de cinco.",),
            "pt": ("{price} a aula, {price2} o pacote de cinco.",),
        },
    },
}

CLASSIFIED_CLOSINGS: dict[str, tuple[str, ...]] = {
    "en": (
        "Thanks for looking!",
        "Serious enquiries only, please.",
        "Message any time, I reply in the evening.",
    ),
    "fr": ("Merci d'avoir lu !", "Pas sérieux s'abstenir.", "Écrivez-moi, je réponds le soir."),
    "es": (
        "¡Gracias por mirar!",
        "Solo interesados de verdad.",
        "Escríbeme cuando quieras, respondo por la tarde.",
    ),
    "pt": ("Obrigado por olhar!", "Somente interessados.", "Mande mensagem, respondo à noite."),
}
CLASSIFIED_EXTRAS: dict[str, tuple[str, ...]] = {
    "en": (
        "I live close to the main station and can meet there during the week.",
        "Cash or bank transfer accepted, receipt on request.",
        "Please say which ad you are answering, I have a few listed.",
        "More details and photos on request, just send a short message.",
        "I usually answer within a day, sooner on weekends.",
    ),
    "fr": (
        "J'habite près de la gare et je peux vous y retrouver en semaine.",
        "Paiement en espèces ou par virement, facture sur demande.",
        "Merci de préciser l'annonce qui vous intéresse, j'en ai plusieurs.",
        "Plus de détails et de photos sur demande, envoyez un petit message.",
        "Je réponds en général dans la journée, plus vite le week-end.",
    ),
    "es": (
        "Vivo cerca de la estación y puedo quedar allí entre semana.",
        "Pago en efectivo o por transferencia, recibo si lo necesitas.",
        "Indica qué anuncio te interesa, tengo varios publicados.",
        "Más detalles y fotos si lo pides, manda un mensaje corto.",
        "Suelo responder en el día, más rápido los fines de semana.",
    ),
    "pt": (
        "Moro perto da estação e posso encontrar lá durante a semana.",
        "Pagamento em dinheiro ou transferência, recibo se precisar.",
        "Diga qual anúncio te interessa, tenho vários publicados.",
        "Mais detalhes e fotos a pedido, mande uma mensagem curta.",
        "Costumo responder no mesmo dia, mais rápido nos fins de semana.",
    ),
}
for _topic in CLASSIFIED_SECTIONS.values():
    _topic["closing"] = CLASSIFIED_CLOSINGS
    _topic["extra"] = CLASSIFIED_EXTRAS

# ------------------------------------------------------------------------ indicator cues

# indicator id (shared/reference/indicators.md) -> lang -> cue sentences. Mild and benign:
# these mimic the wording of the cue, never anything explicit and never a minor.
INDICATOR_CUES: dict[str, dict[str, tuple[str, ...]]] = {
    "trust": {
        "en": (
            "100% real pics, no surprises.",
            "Real, verified and discreet.",
            "Legit ad, what you see is what you get.",
            "Safe and genuine, no fake photos.",
        ),
        "fr": (
            "Photos 100% réelles, aucune mauvaise surprise.",
            "Annonce vérifiée et sérieuse.",
            "Vraie personne, photos authentiques.",
        ),
        "es": (
            "Fotos 100% reales, sin sorpresas.",
            "Anuncio verificado y seguro.",
            "Chica real, fotos auténticas.",
        ),
        "pt": (
            "Fotos 100% reais, sem surpresas.",
            "Anúncio verificado e seguro.",
            "Pessoa real, fotos autênticas.",
        ),
    },
    "youth": {
        "en": (
            "Young and sweet with a playful smile.",
            "Fresh face and youthful energy.",
            "Just turned {age} and excited to meet you.",
        ),
        "fr": (
            "Jeune et douce, toujours souriante.",
            "Visage frais et énergie de jeunesse.",
            "Tout juste {age} ans, pleine d'énergie.",
        ),
        "es": (
            "Joven y dulce, siempre sonriente.",
            "Cara fresca y energía juvenil.",
            "Recién cumplí {age} años.",
        ),
        "pt": (
            "Jovem e doce, sempre sorridente.",
            "Rosto novo e energia jovem.",
            "Acabei de fazer {age} anos.",
        ),
    },
    "ethnicity": {
        "en": (
            "100% Latina, sweet and warm.",
            "Exotic Asian beauty, new to the country.",
            "I speak little English, text me please.",
        ),
        "fr": (
            "100% brésilienne, douce et chaleureuse.",
            "Beauté exotique, je parle un peu français.",
            "Nouvelle dans le pays, je parle peu français.",
        ),
        "es": (
            "100% colombiana, cariñosa y alegre.",
            "Belleza exótica, hablo poco inglés.",
            "Recién llegada al país, mejor por mensaje.",
        ),
        "pt": (
            "100% brasileira, carinhosa e alegre.",
            "Beleza exótica, falo pouco inglês.",
            "Nova no país, prefira mensagem.",
        ),
    },
    "third_party": {
        "en": (
            "She will make you feel welcome.",
            "Call us to book with our girls.",
            "Our ladies are waiting, ask the receptionist.",
        ),
        "fr": (
            "Elle saura vous accueillir.",
            "Contactez-nous pour réserver avec nos filles.",
            "Nos hôtesses vous attendent, demandez à l'accueil.",
        ),
        "es": (
            "Ella te recibirá con una sonrisa.",
            "Llámanos para reservar con nuestras chicas.",
            "Nuestras señoritas te esperan, pregunta en recepción.",
        ),
        "pt": (
            "Ela vai te receber com carinho.",
            "Ligue para nós e reserve com nossas moças.",
            "Nossas acompanhantes te esperam, fale com a recepção.",
        ),
    },
    "many_people": {
        "en": ("New girls every week, ask who is in today.", "Several ladies to choose from."),
        "fr": ("Nouvelles filles chaque semaine.", "Plusieurs hôtesses au choix."),
        "es": ("Chicas nuevas cada semana.", "Varias señoritas para elegir."),
        "pt": ("Moças novas toda semana.", "Várias acompanhantes para escolher."),
    },
    "risky_services": {
        "en": ("Special rates for regulars.", "Low donation, ask about specials."),
        "fr": ("Tarifs spéciaux pour les habitués.", "Petit cadeau, demandez les offres."),
        "es": (
            "Tarifas especiales para clientes frecuentes.",
            "Donativo bajo, pregunta por las promociones.",
        ),
        "pt": ("Preços especiais para clientes fiéis.", "Cachê baixo, pergunte pelas promoções."),
    },
    "restricted_movement": {
        "en": ("Incall only, no outcall.", "In-house only, sorry no outcalls."),
        "fr": (
            "Reçoit uniquement, pas de déplacement.",
            "Uniquement chez moi, je ne me déplace pas.",
        ),
        "es": ("Solo en mi apartamento, no hago salidas.", "Solo recibo, sin desplazamientos."),
        "pt": ("Somente no local, não faço saídas.", "Só atendo no local, sem deslocamento."),
    },
    "venue": {
        "en": ("Come see us at {venue}.", "Visit our spa, {venue}, open every day."),
        "fr": ("Venez nous voir au {venue}.", "Notre institut {venue} vous accueille."),
        "es": ("Visítanos en {venue}.", "Nuestro spa {venue} te espera."),
        "pt": ("Venha nos visitar no {venue}.", "Nosso spa {venue} te espera."),
    },
    "event_targeting": {
        "en": (
            "Military friendly, truckers welcome.",
            "Close to the highway exit, easy parking for trucks.",
            "Game weekend special.",
        ),
        "fr": ("Spécial week-end du match.", "Routiers bienvenus, près de la sortie d'autoroute."),
        "es": ("Bienvenidos militares y camioneros.", "Especial fin de semana de partido."),
        "pt": ("Militares e caminhoneiros bem-vindos.", "Especial fim de semana de jogo."),
    },
    "availability": {
        "en": ("Available {hours}.", "Party friendly and up day and night.", "420 friendly."),
        "fr": ("Disponible {hours}.", "Disponible jour et nuit, ambiance festive."),
        "es": ("Disponible {hours}.", "Disponible día y noche, ambiente de fiesta."),
        "pt": ("Disponível {hours}.", "Disponível dia e noite, clima de festa."),
    },
    "emoji_code": {
        "en": (
            "✈️ Visiting {city} this week only.",
            "👑 VIP experience.",
            "Donation: {rose}.",
        ),
        "fr": (
            "✈️ De passage à {city} cette semaine.",
            "👑 Expérience VIP.",
            "Cadeau : {rose}.",
        ),
        "es": (
            "✈️ De visita en {city} esta semana.",
            "👑 Experiencia VIP.",
            "Donativo: {rose}.",
        ),
        "pt": ("✈️ Visitando {city} esta semana.", "👑 Experiência VIP.", "Cachê: {rose}."),
    },
    "movement": {
        "en": (
            "New in town!",
            "Just arrived in {city}, leaving {date}.",
            "Only here a few days, then off to {city2}.",
        ),
        "fr": (
            "Nouvelle en ville !",
            "Tout juste arrivée à {city}, je repars le {date}.",
            "De passage quelques jours, ensuite direction {city2}.",
        ),
        "es": (
            "¡Nueva en la ciudad!",
            "Recién llegada a {city}, me voy el {date}.",
            "Solo unos días aquí, luego me voy a {city2}.",
        ),
        "pt": (
            "Novidade na cidade!",
            "Acabei de chegar em {city}, vou embora dia {date}.",
            "Só alguns dias aqui, depois vou para {city2}.",
        ),
    },
    "screening": {
        "en": (
            "Screening required for first-time visitors.",
            "References or ID required, deposit to confirm.",
        ),
        "fr": (
            "Vérification demandée pour une première rencontre.",
            "Acompte demandé pour confirmer.",
        ),
        "es": (
            "Se requiere verificación para la primera cita.",
            "Referencias y depósito para confirmar.",
        ),
        "pt": ("Exijo verificação no primeiro encontro.", "Referências e depósito para confirmar."),
    },
}

# cue sentence -> further indicator ids it carries besides its own list's.
CUE_EXTRA_TAGS: dict[str, tuple[str, ...]] = {
    "✈️ Visiting {city} this week only.": ("movement",),
    "✈️ De passage à {city} cette semaine.": ("movement",),
    "✈️ De visita en {city} esta semana.": ("movement",),
    "✈️ Visitando {city} esta semana.": ("movement",),
    "Exotic Asian beauty, new to the country.": ("movement",),
    "Call us to book with our girls.": ("many_people",),
    "Contactez-nous pour réserver avec nos filles.": ("many_people",),
    "Llámanos para reservar con nuestras chicas.": ("many_people",),
    "Ligue para nós e reserve com nossas moças.": ("many_people",),
    "Visit our spa, {venue}, open every day.": ("third_party",),
    "Come see us at {venue}.": ("third_party",),
    "Venez nous voir au {venue}.": ("third_party",),
    "Notre institut {venue} vous accueille.": ("third_party",),
    "Visítanos en {venue}.": ("third_party",),
    "Nuestro spa {venue} te espera.": ("third_party",),
    "Venha nos visitar no {venue}.": ("third_party",),
    "Nosso spa {venue} te espera.": ("third_party",),
}

# Word swaps for near-duplicate template variants: (word, replacement) per language.
SYNONYMS: dict[str, tuple[tuple[str, str], ...]] = {
    "en": (
        ("gentlemen", "gents"),
        ("lovely", "wonderful"),
        ("warm", "friendly"),
        ("elegant", "classy"),
        ("evening", "night"),
        ("Rates", "Prices"),
        ("message", "text"),
        ("hour", "hr"),
        ("Looking forward to", "Can't wait for"),
        ("quiet", "calm"),
        ("love", "adore"),
        ("always", "ever"),
    ),
    "fr": (
        ("messieurs", "gentlemen"),
        ("douce", "tendre"),
        ("élégante", "raffinée"),
        ("Tarifs", "Prix"),
        ("message", "SMS"),
        ("l'heure", "1h"),
        ("calmes", "tranquilles"),
        ("J'aime", "J'adore"),
        ("toujours", "souvent"),
    ),
    "es": (
        ("caballeros", "señores"),
        ("cariñosa", "dulce"),
        ("elegante", "refinada"),
        ("noche", "velada"),
        ("Tarifas", "Precios"),
        ("escribe", "manda mensaje"),
        ("tranquilas", "relajadas"),
        ("Me gusta", "Me encanta"),
        ("siempre", "muy"),
    ),
    "pt": (
        ("cavalheiros", "senhores"),
        ("carinhosa", "doce"),
        ("elegante", "refinada"),
        ("noite", "noitada"),
        ("Valores", "Preços"),
        ("mensagem", "msg"),
        ("tranquilas", "calmas"),
        ("Gosto", "Adoro"),
        ("sempre", "muito"),
    ),
}
