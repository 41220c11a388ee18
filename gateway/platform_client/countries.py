"""Country names and codes as registry exports write them -> ISO 3166-1 alpha-2."""

from __future__ import annotations

import unicodedata

# Every officially assigned ISO 3166-1 alpha-2 code.
_ALPHA2_TEXT = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
    BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM
    DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS
    GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN
    KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ
    MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM
    PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
    SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI
    VN VU WF WS YE YT ZA ZM ZW
"""
ALPHA2 = frozenset(_ALPHA2_TEXT.split())

# Names and alpha-3 codes of the destinations battery exports go to most; alpha-2 first.
COUNTRY_NAMES: dict[str, tuple[str, ...]] = {
    "AE": ("ARE", "united arab emirates", "uae", "阿联酋", "阿拉伯联合酋长国"),
    "AR": ("ARG", "argentina", "阿根廷"),
    "AT": ("AUT", "austria", "奥地利"),
    "AU": ("AUS", "australia", "澳大利亚"),
    "BE": ("BEL", "belgium", "比利时"),
    "BG": ("BGR", "bulgaria", "保加利亚"),
    "BR": ("BRA", "brazil", "巴西"),
    "CA": ("CAN", "canada", "加拿大"),
    "CH": ("CHE", "switzerland", "瑞士"),
    "CL": ("CHL", "chile", "智利"),
    "CN": ("CHN", "china", "中国"),
    "CO": ("COL", "colombia", "哥伦比亚"),
    "CY": ("CYP", "cyprus", "塞浦路斯"),
    "CZ": ("CZE", "czech republic", "czechia", "捷克"),
    "DE": ("DEU", "germany", "德国"),
    "DK": ("DNK", "denmark", "丹麦"),
    "EE": ("EST", "estonia", "爱沙尼亚"),
    "EG": ("EGY", "egypt", "埃及"),
    "ES": ("ESP", "spain", "西班牙"),
    "FI": ("FIN", "finland", "芬兰"),
    "FR": ("FRA", "france", "法国"),
    "GB": ("GBR", "united kingdom", "uk", "great britain", "英国"),
    "GR": ("GRC", "greece", "希腊"),
    "HK": ("HKG", "hong kong", "香港", "中国香港"),
    "HR": ("HRV", "croatia", "克罗地亚"),
    "HU": ("HUN", "hungary", "匈牙利"),
    "ID": ("IDN", "indonesia", "印度尼西亚", "印尼"),
    "IE": ("IRL", "ireland", "爱尔兰"),
    "IL": ("ISR", "israel", "以色列"),
    "IN": ("IND", "india", "印度"),
    "IT": ("ITA", "italy", "意大利"),
    "JP": ("JPN", "japan", "日本"),
    "KR": ("KOR", "south korea", "korea", "republic of korea", "韩国"),
    "KZ": ("KAZ", "kazakhstan", "哈萨克斯坦"),
    "LT": ("LTU", "lithuania", "立陶宛"),
    "LU": ("LUX", "luxembourg", "卢森堡"),
    "LV": ("LVA", "latvia", "拉脱维亚"),
    "MA": ("MAR", "morocco", "摩洛哥"),
    "MT": ("MLT", "malta", "马耳他"),
    "MX": ("MEX", "mexico", "墨西哥"),
    "MY": ("MYS", "malaysia", "马来西亚"),
    "NG": ("NGA", "nigeria", "尼日利亚"),
    "NL": ("NLD", "netherlands", "the netherlands", "holland", "荷兰"),
    "NO": ("NOR", "norway", "挪威"),
    "NZ": ("NZL", "new zealand", "新西兰"),
    "PE": ("PER", "peru", "秘鲁"),
    "PH": ("PHL", "philippines", "菲律宾"),
    "PK": ("PAK", "pakistan", "巴基斯坦"),
    "PL": ("POL", "poland", "波兰"),
    "PT": ("PRT", "portugal", "葡萄牙"),
    "RO": ("ROU", "romania", "罗马尼亚"),
    "RU": ("RUS", "russia", "russian federation", "俄罗斯"),
    "SA": ("SAU", "saudi arabia", "沙特阿拉伯", "沙特"),
    "SE": ("SWE", "sweden", "瑞典"),
    "SG": ("SGP", "singapore", "新加坡"),
    "SI": ("SVN", "slovenia", "斯洛文尼亚"),
    "SK": ("SVK", "slovakia", "斯洛伐克"),
    "TH": ("THA", "thailand", "泰国"),
    "TR": ("TUR", "turkey", "türkiye", "turkiye", "土耳其"),
    "TW": ("TWN", "taiwan", "中国台湾", "台湾"),
    "UA": ("UKR", "ukraine", "乌克兰"),
    "US": ("USA", "united states", "united states of america", "美国"),
    "UZ": ("UZB", "uzbekistan", "乌兹别克斯坦"),
    "VN": ("VNM", "vietnam", "viet nam", "越南"),
    "ZA": ("ZAF", "south africa", "南非"),
}
_LOOKUP: dict[str, str] = {}
for _alpha2, _aliases in COUNTRY_NAMES.items():
    for _alias in _aliases:
        _LOOKUP[_alias.casefold()] = _alpha2


def to_alpha2(value: str) -> str | None:
    """The ISO 3166-1 alpha-2 code of a country name, alpha-2 or alpha-3 code; None if unknown.

    >>> to_alpha2("德国"), to_alpha2("deu"), to_alpha2(" Netherlands "), to_alpha2("XX")
    ('DE', 'DE', 'NL', None)
    """
    text = " ".join(unicodedata.normalize("NFKC", value).split())
    # "德国 Germany" or "Germany (DE)": try each part
    candidates = [text, *text.replace("(", " ").replace(")", " ").replace("/", " ").split()]
    for candidate in candidates:
        upper = candidate.upper()
        if len(upper) == 2 and upper in ALPHA2:
            return upper
        hit = _LOOKUP.get(candidate.casefold())
        if hit is not None:
            return hit
    return None
