"""Country names -> ISO 3166-1 alpha-2, for the destination column and header fields.

Documents write a destination as `DE`, `DEU`, `Germany`, `GERMANY`, `德国`, `德国 Germany`,
`Hamburg, Germany` or `Germany (DE)`. The table covers the countries battery exports from
China go to; an unknown name is returned as None (and reported), never guessed.
"""

from __future__ import annotations

import re
import unicodedata

# alpha-2, alpha-3, English names (first is the display name), Chinese names
_COUNTRIES: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("AE", "ARE", ("United Arab Emirates", "UAE", "U.A.E."), ("阿联酋", "阿拉伯联合酋长国")),
    ("AR", "ARG", ("Argentina",), ("阿根廷",)),
    ("AT", "AUT", ("Austria",), ("奥地利",)),
    ("AU", "AUS", ("Australia",), ("澳大利亚", "澳洲")),
    ("BD", "BGD", ("Bangladesh",), ("孟加拉", "孟加拉国")),
    ("BE", "BEL", ("Belgium",), ("比利时",)),
    ("BG", "BGR", ("Bulgaria",), ("保加利亚",)),
    ("BR", "BRA", ("Brazil", "Brasil"), ("巴西",)),
    ("CA", "CAN", ("Canada",), ("加拿大",)),
    ("CH", "CHE", ("Switzerland",), ("瑞士",)),
    ("CL", "CHL", ("Chile",), ("智利",)),
    ("CN", "CHN", ("China", "P.R. China", "PRC"), ("中国",)),
    ("CO", "COL", ("Colombia",), ("哥伦比亚",)),
    ("CY", "CYP", ("Cyprus",), ("塞浦路斯",)),
    ("CZ", "CZE", ("Czech Republic", "Czechia"), ("捷克",)),
    ("DE", "DEU", ("Germany", "Deutschland"), ("德国",)),
    ("DK", "DNK", ("Denmark",), ("丹麦",)),
    ("EE", "EST", ("Estonia",), ("爱沙尼亚",)),
    ("EG", "EGY", ("Egypt",), ("埃及",)),
    ("ES", "ESP", ("Spain", "España"), ("西班牙",)),
    ("FI", "FIN", ("Finland",), ("芬兰",)),
    ("FR", "FRA", ("France",), ("法国",)),
    (
        "GB",
        "GBR",
        ("United Kingdom", "UK", "U.K.", "Great Britain", "England", "Britain"),
        ("英国",),
    ),
    ("GR", "GRC", ("Greece",), ("希腊",)),
    ("HK", "HKG", ("Hong Kong",), ("香港", "中国香港")),
    ("HR", "HRV", ("Croatia",), ("克罗地亚",)),
    ("HU", "HUN", ("Hungary",), ("匈牙利",)),
    ("ID", "IDN", ("Indonesia",), ("印度尼西亚", "印尼")),
    ("IE", "IRL", ("Ireland",), ("爱尔兰",)),
    ("IL", "ISR", ("Israel",), ("以色列",)),
    ("IN", "IND", ("India",), ("印度",)),
    ("IS", "ISL", ("Iceland",), ("冰岛",)),
    ("IT", "ITA", ("Italy", "Italia"), ("意大利",)),
    ("JO", "JOR", ("Jordan",), ("约旦",)),
    ("JP", "JPN", ("Japan",), ("日本",)),
    ("KE", "KEN", ("Kenya",), ("肯尼亚",)),
    ("KH", "KHM", ("Cambodia",), ("柬埔寨",)),
    ("KR", "KOR", ("South Korea", "Korea", "Republic of Korea", "Korea, Republic of"), ("韩国",)),
    ("KZ", "KAZ", ("Kazakhstan",), ("哈萨克斯坦",)),
    ("LK", "LKA", ("Sri Lanka",), ("斯里兰卡",)),
    ("LT", "LTU", ("Lithuania",), ("立陶宛",)),
    ("LU", "LUX", ("Luxembourg",), ("卢森堡",)),
    ("LV", "LVA", ("Latvia",), ("拉脱维亚",)),
    ("MA", "MAR", ("Morocco",), ("摩洛哥",)),
    ("MT", "MLT", ("Malta",), ("马耳他",)),
    ("MX", "MEX", ("Mexico", "México"), ("墨西哥",)),
    ("MY", "MYS", ("Malaysia",), ("马来西亚",)),
    ("NG", "NGA", ("Nigeria",), ("尼日利亚",)),
    ("NL", "NLD", ("Netherlands", "The Netherlands", "Holland"), ("荷兰",)),
    ("NO", "NOR", ("Norway",), ("挪威",)),
    ("NZ", "NZL", ("New Zealand",), ("新西兰",)),
    ("OM", "OMN", ("Oman",), ("阿曼",)),
    ("PE", "PER", ("Peru",), ("秘鲁",)),
    ("PH", "PHL", ("Philippines",), ("菲律宾",)),
    ("PK", "PAK", ("Pakistan",), ("巴基斯坦",)),
    ("PL", "POL", ("Poland", "Polska"), ("波兰",)),
    ("PT", "PRT", ("Portugal",), ("葡萄牙",)),
    ("QA", "QAT", ("Qatar",), ("卡塔尔",)),
    ("RO", "ROU", ("Romania",), ("罗马尼亚",)),
    ("RS", "SRB", ("Serbia",), ("塞尔维亚",)),
    ("RU", "RUS", ("Russia", "Russian Federation"), ("俄罗斯",)),
    ("SA", "SAU", ("Saudi Arabia", "KSA"), ("沙特阿拉伯", "沙特")),
    ("SE", "SWE", ("Sweden",), ("瑞典",)),
    ("SG", "SGP", ("Singapore",), ("新加坡",)),
    ("SI", "SVN", ("Slovenia",), ("斯洛文尼亚",)),
    ("SK", "SVK", ("Slovakia",), ("斯洛伐克",)),
    ("TH", "THA", ("Thailand",), ("泰国",)),
    ("TR", "TUR", ("Turkey", "Türkiye", "Turkiye"), ("土耳其",)),
    ("TW", "TWN", ("Taiwan",), ("台湾", "中国台湾")),
    ("UA", "UKR", ("Ukraine",), ("乌克兰",)),
    (
        "US",
        "USA",
        ("United States", "United States of America", "U.S.A.", "U.S.", "America"),
        ("美国",),
    ),
    ("UY", "URY", ("Uruguay",), ("乌拉圭",)),
    ("UZ", "UZB", ("Uzbekistan",), ("乌兹别克斯坦",)),
    ("VN", "VNM", ("Vietnam", "Viet Nam"), ("越南",)),
    ("ZA", "ZAF", ("South Africa",), ("南非",)),
)


def _fold(text: str) -> str:
    """Case-fold, strip accents and punctuation, so `U.S.A.` and `usa` meet."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"[^0-9a-z\u4e00-\u9fff]+", " ", text.casefold()).strip()


_BY_NAME: dict[str, str] = {}
_ALPHA2: set[str] = set()
for _a2, _a3, _en, _zh in _COUNTRIES:
    _ALPHA2.add(_a2)
    _BY_NAME[_a3.casefold()] = _a2
    for _name in (*_en, *_zh):
        _BY_NAME[_fold(_name)] = _a2
# Codes in running text are ambiguous with words ("NO", "IN", "IT"), so a bare two-letter code
# is accepted only as the whole value, never inside a longer phrase.
_ZH_NAMES = sorted((n for _, _, _, zh in _COUNTRIES for n in zh), key=len, reverse=True)
_ZH_RE = re.compile("|".join(map(re.escape, _ZH_NAMES)))
_LONGEST_WORDS = max(len(k.split()) for k in _BY_NAME)


def normalize_country(value: str | None) -> str | None:
    """Return the ISO 3166-1 alpha-2 code for a destination as written, or None.

    >>> normalize_country("德国 Germany"), normalize_country("Hamburg, Germany")
    ('DE', 'DE')
    """
    if value is None:
        return None
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text:
        return None
    if len(text) == 2 and text.isascii() and text.isalpha() and text.upper() in _ALPHA2:
        return text.upper()
    folded = _fold(text)
    if folded in _BY_NAME:
        return _BY_NAME[folded]
    # "Germany (DE)", "DE - Germany": a code in brackets or before a dash
    m = re.search(r"\(([A-Za-z]{2})\)|^([A-Za-z]{2})\s*[-/]", text)
    if m:
        code = (m.group(1) or m.group(2)).upper()
        if code in _ALPHA2:
            return code
    zh = _ZH_RE.search(text)
    if zh:
        return _BY_NAME[_fold(zh.group(0))]
    # "Hamburg, Germany", "Port of Rotterdam Netherlands": the longest known name at the end,
    # then anywhere in the text
    words = folded.split()
    for size in range(min(_LONGEST_WORDS, len(words)), 0, -1):
        tail = " ".join(words[-size:])
        if tail in _BY_NAME and (size > 1 or len(tail) > 3):
            return _BY_NAME[tail]
    for size in range(min(_LONGEST_WORDS, len(words)), 0, -1):
        for start in range(len(words) - size + 1):
            chunk = " ".join(words[start : start + size])
            if chunk in _BY_NAME and len(chunk) > 3:
                return _BY_NAME[chunk]
    return None
