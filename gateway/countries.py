"""ISO 3166-1 countries: codes, English and Chinese names, and the forms documents use.

One table for the whole gateway. Manifests, registry exports and platform answers write a
country as `DE`, `DEU`, `Germany`, `GERMANY`, `Federal Republic of Germany`, `德国`,
`德国 Germany`, `Hamburg, Germany` or `Germany (DE)`; `normalize_country` turns each into
the ISO 3166-1 alpha-2 code, and returns None for anything it does not know (never a guess).

The table covers every officially assigned ISO 3166-1 code (249). English names are the ISO
short names, the common and official names, and the variants seen on shipping documents;
Chinese names are the common name first (as written on Chinese packing lists), then the
full official name.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Final


@dataclass(frozen=True, slots=True)
class Country:
    """One ISO 3166-1 country."""

    alpha2: str
    alpha3: str
    names: tuple[str, ...]  # English; the first is the ISO short name
    zh: tuple[str, ...]  # Chinese (simplified); the first is the common name


# alpha-2, alpha-3, English names, Chinese names
_TABLE: Final[tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...]] = (
    ("AD", "AND", ("Andorra", "Principality of Andorra"), ("安道尔", "安道尔公国")),
    ("AE", "ARE", ("United Arab Emirates", "UAE", "U.A.E."), ("阿拉伯联合酋长国", "阿联酋")),
    (
        "AF",
        "AFG",
        ("Afghanistan", "Islamic Republic of Afghanistan"),
        ("阿富汗", "阿富汗伊斯兰共和国"),
    ),
    ("AG", "ATG", ("Antigua and Barbuda",), ("安提瓜和巴布达",)),
    ("AI", "AIA", ("Anguilla",), ("安圭拉",)),
    ("AL", "ALB", ("Albania", "Republic of Albania"), ("阿尔巴尼亚", "阿尔巴尼亚共和国")),
    ("AM", "ARM", ("Armenia", "Republic of Armenia"), ("亚美尼亚", "亚美尼亚共和国")),
    ("AO", "AGO", ("Angola", "Republic of Angola"), ("安哥拉", "安哥拉共和国")),
    ("AQ", "ATA", ("Antarctica",), ("南极洲",)),
    ("AR", "ARG", ("Argentina", "Argentine Republic"), ("阿根廷", "阿根廷共和国")),
    ("AS", "ASM", ("American Samoa",), ("美属萨摩亚",)),
    ("AT", "AUT", ("Austria", "Republic of Austria"), ("奥地利", "奥地利共和国")),
    ("AU", "AUS", ("Australia",), ("澳大利亚", "澳洲")),
    ("AW", "ABW", ("Aruba",), ("阿鲁巴",)),
    ("AX", "ALA", ("Åland Islands",), ("奥兰群岛",)),
    ("AZ", "AZE", ("Azerbaijan", "Republic of Azerbaijan"), ("阿塞拜疆", "阿塞拜疆共和国")),
    (
        "BA",
        "BIH",
        ("Bosnia and Herzegovina", "Republic of Bosnia and Herzegovina"),
        ("波斯尼亚和黑塞哥维那", "波斯尼亚和黑塞哥维那共和国"),
    ),
    ("BB", "BRB", ("Barbados",), ("巴巴多斯",)),
    (
        "BD",
        "BGD",
        ("Bangladesh", "People's Republic of Bangladesh"),
        ("孟加拉", "孟加拉国", "孟加拉人民共和国"),
    ),
    ("BE", "BEL", ("Belgium", "Kingdom of Belgium"), ("比利时", "比利时王国")),
    ("BF", "BFA", ("Burkina Faso",), ("布基纳法索",)),
    ("BG", "BGR", ("Bulgaria", "Republic of Bulgaria"), ("保加利亚", "保加利亚共和国")),
    ("BH", "BHR", ("Bahrain", "Kingdom of Bahrain"), ("巴林", "巴林王国")),
    ("BI", "BDI", ("Burundi", "Republic of Burundi"), ("布隆迪", "布隆迪共和国")),
    ("BJ", "BEN", ("Benin", "Republic of Benin"), ("贝宁", "贝宁共和国")),
    ("BL", "BLM", ("Saint Barthélemy",), ("圣巴泰勒米岛",)),
    ("BM", "BMU", ("Bermuda",), ("百慕大",)),
    ("BN", "BRN", ("Brunei Darussalam",), ("文莱",)),
    (
        "BO",
        "BOL",
        ("Bolivia, Plurinational State of", "Bolivia", "Plurinational State of Bolivia"),
        ("玻利维亚共和国", "波利维亚"),
    ),
    ("BQ", "BES", ("Bonaire, Sint Eustatius and Saba",), ("博奈尔、圣尤斯特歇斯岛和萨巴",)),
    (
        "BR",
        "BRA",
        ("Brazil", "Federative Republic of Brazil", "Brasil"),
        ("巴西", "巴西联邦共和国"),
    ),
    ("BS", "BHS", ("Bahamas", "Commonwealth of the Bahamas"), ("巴哈马", "巴哈马国")),
    ("BT", "BTN", ("Bhutan", "Kingdom of Bhutan"), ("不丹", "不丹王国")),
    ("BV", "BVT", ("Bouvet Island",), ("布维群岛",)),
    ("BW", "BWA", ("Botswana", "Republic of Botswana"), ("博兹瓦那", "博兹瓦那共和国")),
    ("BY", "BLR", ("Belarus", "Republic of Belarus"), ("白俄罗斯", "白俄罗斯共和国")),
    ("BZ", "BLZ", ("Belize",), ("伯利兹",)),
    ("CA", "CAN", ("Canada",), ("加拿大",)),
    ("CC", "CCK", ("Cocos (Keeling) Islands",), ("科科斯群岛",)),
    ("CD", "COD", ("Congo, The Democratic Republic of the",), ("刚果民主共和国",)),
    ("CF", "CAF", ("Central African Republic",), ("中非",)),
    ("CG", "COG", ("Congo", "Republic of the Congo"), ("刚果", "刚果共和国")),
    ("CH", "CHE", ("Switzerland", "Swiss Confederation"), ("瑞士", "瑞士联邦")),
    ("CI", "CIV", ("Côte d'Ivoire", "Republic of Côte d'Ivoire"), ("科特迪瓦", "科特迪瓦共和国")),
    ("CK", "COK", ("Cook Islands",), ("库克群岛",)),
    ("CL", "CHL", ("Chile", "Republic of Chile"), ("智利", "智利共和国")),
    ("CM", "CMR", ("Cameroon", "Republic of Cameroon"), ("喀麦隆", "喀麦隆共和国")),
    (
        "CN",
        "CHN",
        ("China", "People's Republic of China", "P.R. China", "PRC"),
        ("中国", "中华人民共和国"),
    ),
    ("CO", "COL", ("Colombia", "Republic of Colombia"), ("哥伦比亚", "哥伦比亚共和国")),
    ("CR", "CRI", ("Costa Rica", "Republic of Costa Rica"), ("哥斯达黎加", "哥斯达黎加共和国")),
    ("CU", "CUB", ("Cuba", "Republic of Cuba"), ("古巴", "古巴共和国")),
    ("CV", "CPV", ("Cabo Verde", "Republic of Cabo Verde"), ("佛得角", "佛得角共和国")),
    ("CW", "CUW", ("Curaçao",), ("库拉索",)),
    ("CX", "CXR", ("Christmas Island",), ("圣诞岛",)),
    ("CY", "CYP", ("Cyprus", "Republic of Cyprus"), ("塞浦路斯", "塞浦路斯共和国")),
    ("CZ", "CZE", ("Czechia", "Czech Republic"), ("捷克",)),
    (
        "DE",
        "DEU",
        ("Germany", "Federal Republic of Germany", "Deutschland"),
        ("德国", "德意志联邦共和国"),
    ),
    ("DJ", "DJI", ("Djibouti", "Republic of Djibouti"), ("吉布提", "吉布提共和国")),
    ("DK", "DNK", ("Denmark", "Kingdom of Denmark"), ("丹麦", "丹麦王国")),
    ("DM", "DMA", ("Dominica", "Commonwealth of Dominica"), ("多米尼克", "米尼克共和国")),
    ("DO", "DOM", ("Dominican Republic",), ("多米尼加共和国",)),
    (
        "DZ",
        "DZA",
        ("Algeria", "People's Democratic Republic of Algeria"),
        ("阿尔及利亚", "阿尔及利亚人民民主共和国"),
    ),
    ("EC", "ECU", ("Ecuador", "Republic of Ecuador"), ("厄瓜多尔", "厄瓜多尔共和国")),
    ("EE", "EST", ("Estonia", "Republic of Estonia"), ("爱沙尼亚", "爱沙尼亚共和国")),
    ("EG", "EGY", ("Egypt", "Arab Republic of Egypt"), ("埃及", "阿拉伯埃及共和国")),
    ("EH", "ESH", ("Western Sahara",), ("西撒哈拉",)),
    ("ER", "ERI", ("Eritrea", "the State of Eritrea"), ("厄立特里亚", "厄立特里亚国")),
    ("ES", "ESP", ("Spain", "Kingdom of Spain", "España"), ("西班牙", "西班牙王国")),
    (
        "ET",
        "ETH",
        ("Ethiopia", "Federal Democratic Republic of Ethiopia"),
        ("埃塞俄比亚", "埃塞俄比亚联邦民主共和国"),
    ),
    ("FI", "FIN", ("Finland", "Republic of Finland"), ("芬兰", "芬兰共和国")),
    ("FJ", "FJI", ("Fiji", "Republic of Fiji"), ("斐济", "斐济共和国")),
    ("FK", "FLK", ("Falkland Islands (Malvinas)",), ("福克兰群岛(马尔维纳斯)",)),
    (
        "FM",
        "FSM",
        ("Micronesia, Federated States of", "Federated States of Micronesia"),
        ("密克罗尼西亚", "密克罗尼西亚联邦"),
    ),
    ("FO", "FRO", ("Faroe Islands",), ("法罗群岛",)),
    ("FR", "FRA", ("France", "French Republic"), ("法国", "法兰西共和国")),
    ("GA", "GAB", ("Gabon", "Gabonese Republic"), ("加蓬", "加蓬共和国")),
    (
        "GB",
        "GBR",
        (
            "United Kingdom",
            "United Kingdom of Great Britain and Northern Ireland",
            "UK",
            "U.K.",
            "Great Britain",
            "England",
            "Britain",
        ),
        ("英国", "大不列颠及北爱尔兰联合王国"),
    ),
    ("GD", "GRD", ("Grenada",), ("格林纳达",)),
    ("GE", "GEO", ("Georgia",), ("格鲁吉亚",)),
    ("GF", "GUF", ("French Guiana",), ("法属圭亚那",)),
    ("GG", "GGY", ("Guernsey",), ("根西岛",)),
    ("GH", "GHA", ("Ghana", "Republic of Ghana"), ("加纳", "加纳共和国")),
    ("GI", "GIB", ("Gibraltar",), ("直布罗陀",)),
    ("GL", "GRL", ("Greenland",), ("格陵兰",)),
    ("GM", "GMB", ("Gambia", "Republic of the Gambia"), ("冈比亚", "冈比亚共和国")),
    ("GN", "GIN", ("Guinea", "Republic of Guinea"), ("几内亚", "几内亚共和国")),
    ("GP", "GLP", ("Guadeloupe",), ("瓜德罗普",)),
    (
        "GQ",
        "GNQ",
        ("Equatorial Guinea", "Republic of Equatorial Guinea"),
        ("赤道几内亚", "赤道几内亚共和国"),
    ),
    ("GR", "GRC", ("Greece", "Hellenic Republic"), ("希腊", "希腊共和国")),
    ("GS", "SGS", ("South Georgia and the South Sandwich Islands",), ("南乔治亚岛和南桑德韦奇岛",)),
    ("GT", "GTM", ("Guatemala", "Republic of Guatemala"), ("瓜地马拉", "瓜地马拉共和国")),
    ("GU", "GUM", ("Guam",), ("关岛",)),
    (
        "GW",
        "GNB",
        ("Guinea-Bissau", "Republic of Guinea-Bissau"),
        ("几内亚比绍", "几内亚比绍共和国"),
    ),
    ("GY", "GUY", ("Guyana", "Republic of Guyana"), ("圭亚那", "圭亚那共和国")),
    (
        "HK",
        "HKG",
        ("Hong Kong", "Hong Kong Special Administrative Region of China"),
        ("中国香港", "香港", "中国香港特别行政区"),
    ),
    ("HM", "HMD", ("Heard Island and McDonald Islands",), ("赫德岛与麦克唐纳群岛",)),
    ("HN", "HND", ("Honduras", "Republic of Honduras"), ("洪都拉斯", "洪都拉斯共和国")),
    ("HR", "HRV", ("Croatia", "Republic of Croatia"), ("克罗地亚", "克罗地亚共和国")),
    ("HT", "HTI", ("Haiti", "Republic of Haiti"), ("海地", "海地共和国")),
    ("HU", "HUN", ("Hungary",), ("匈牙利",)),
    (
        "ID",
        "IDN",
        ("Indonesia", "Republic of Indonesia"),
        ("印尼", "印度尼西亚", "印度尼西亚共和国"),
    ),
    ("IE", "IRL", ("Ireland",), ("爱尔兰",)),
    ("IL", "ISR", ("Israel", "State of Israel"), ("以色列", "以色列国")),
    ("IM", "IMN", ("Isle of Man",), ("曼岛",)),
    ("IN", "IND", ("India", "Republic of India"), ("印度", "印度共和国")),
    ("IO", "IOT", ("British Indian Ocean Territory",), ("英属印度洋领地",)),
    ("IQ", "IRQ", ("Iraq", "Republic of Iraq"), ("伊拉克", "伊拉克共和国")),
    (
        "IR",
        "IRN",
        ("Iran, Islamic Republic of", "Iran", "Islamic Republic of Iran"),
        ("伊朗伊斯兰共和国", "伊朗"),
    ),
    ("IS", "ISL", ("Iceland", "Republic of Iceland"), ("冰岛", "冰岛共和国")),
    ("IT", "ITA", ("Italy", "Italian Republic", "Italia"), ("意大利", "意大利共和国")),
    ("JE", "JEY", ("Jersey",), ("泽西岛",)),
    ("JM", "JAM", ("Jamaica",), ("牙买加",)),
    ("JO", "JOR", ("Jordan", "Hashemite Kingdom of Jordan"), ("约旦", "约旦哈希姆王国")),
    ("JP", "JPN", ("Japan",), ("日本",)),
    ("KE", "KEN", ("Kenya", "Republic of Kenya"), ("肯尼亚", "肯尼亚共和国")),
    ("KG", "KGZ", ("Kyrgyzstan", "Kyrgyz Republic"), ("吉尔吉斯坦", "吉尔吉斯共和国")),
    ("KH", "KHM", ("Cambodia", "Kingdom of Cambodia"), ("柬埔寨", "柬埔塞", "柬埔塞王国")),
    ("KI", "KIR", ("Kiribati", "Republic of Kiribati"), ("基里巴斯", "基里巴斯共和国")),
    ("KM", "COM", ("Comoros", "Union of the Comoros"), ("科摩罗", "科摩罗联邦")),
    ("KN", "KNA", ("Saint Kitts and Nevis",), ("圣基茨和尼维斯",)),
    (
        "KP",
        "PRK",
        (
            "Korea, Democratic People's Republic of",
            "North Korea",
            "Democratic People's Republic of Korea",
        ),
        ("朝鲜民主主义人民共和国", "朝鲜"),
    ),
    (
        "KR",
        "KOR",
        ("Korea, Republic of", "South Korea", "Korea", "Republic of Korea"),
        ("韩国", "大韩民国"),
    ),
    ("KW", "KWT", ("Kuwait", "State of Kuwait"), ("科威特", "科威特国")),
    ("KY", "CYM", ("Cayman Islands",), ("开曼群岛",)),
    ("KZ", "KAZ", ("Kazakhstan", "Republic of Kazakhstan"), ("哈萨克斯坦", "哈萨克斯坦共和国")),
    ("LA", "LAO", ("Lao People's Democratic Republic", "Laos"), ("老挝人民民主共和国", "老挝")),
    ("LB", "LBN", ("Lebanon", "Lebanese Republic"), ("黎巴嫩", "黎巴嫩共和国")),
    ("LC", "LCA", ("Saint Lucia",), ("圣路西亚",)),
    (
        "LI",
        "LIE",
        ("Liechtenstein", "Principality of Liechtenstein"),
        ("列支敦士登", "列支敦士登公国"),
    ),
    (
        "LK",
        "LKA",
        ("Sri Lanka", "Democratic Socialist Republic of Sri Lanka"),
        ("斯里兰卡", "斯里兰卡民主社会主义共和国"),
    ),
    ("LR", "LBR", ("Liberia", "Republic of Liberia"), ("利比里亚", "利比里亚共和国")),
    ("LS", "LSO", ("Lesotho", "Kingdom of Lesotho"), ("莱索托", "莱索托王国")),
    ("LT", "LTU", ("Lithuania", "Republic of Lithuania"), ("立陶宛", "立陶宛共和国")),
    ("LU", "LUX", ("Luxembourg", "Grand Duchy of Luxembourg"), ("卢森堡", "卢森堡大公国")),
    ("LV", "LVA", ("Latvia", "Republic of Latvia"), ("拉脱维亚", "拉脱维亚共和国")),
    ("LY", "LBY", ("Libya",), ("利比亚",)),
    ("MA", "MAR", ("Morocco", "Kingdom of Morocco"), ("摩洛哥", "摩洛哥王国")),
    ("MC", "MCO", ("Monaco", "Principality of Monaco"), ("摩纳哥", "摩纳哥公国")),
    (
        "MD",
        "MDA",
        ("Moldova, Republic of", "Moldova", "Republic of Moldova"),
        ("摩尔多瓦共和国", "摩尔多瓦"),
    ),
    ("ME", "MNE", ("Montenegro",), ("黑山",)),
    ("MF", "MAF", ("Saint Martin (French part)",), ("法属圣马丁",)),
    ("MG", "MDG", ("Madagascar", "Republic of Madagascar"), ("马达加斯加", "马达加斯加共和国")),
    (
        "MH",
        "MHL",
        ("Marshall Islands", "Republic of the Marshall Islands"),
        ("马绍尔群岛", "马绍尔群岛共和国"),
    ),
    (
        "MK",
        "MKD",
        ("North Macedonia", "Republic of North Macedonia"),
        ("北马其顿", "北马其顿共和国"),
    ),
    ("ML", "MLI", ("Mali", "Republic of Mali"), ("马里", "马里共和国")),
    ("MM", "MMR", ("Myanmar", "Republic of Myanmar"), ("缅甸", "缅甸联邦共和国")),
    ("MN", "MNG", ("Mongolia",), ("蒙古",)),
    (
        "MO",
        "MAC",
        ("Macao", "Macao Special Administrative Region of China"),
        ("澳门", "中国澳门特别行政区"),
    ),
    (
        "MP",
        "MNP",
        ("Northern Mariana Islands", "Commonwealth of the Northern Mariana Islands"),
        ("北马里亚纳群岛", "北马里亚纳群岛自由联邦"),
    ),
    ("MQ", "MTQ", ("Martinique",), ("马提尼克",)),
    (
        "MR",
        "MRT",
        ("Mauritania", "Islamic Republic of Mauritania"),
        ("毛里塔尼亚", "毛里塔尼亚伊斯兰共和国"),
    ),
    ("MS", "MSR", ("Montserrat",), ("蒙塞拉特岛",)),
    ("MT", "MLT", ("Malta", "Republic of Malta"), ("马耳他", "马尔他", "马尔他共和国")),
    ("MU", "MUS", ("Mauritius", "Republic of Mauritius"), ("毛里求斯", "毛里求斯共和国")),
    ("MV", "MDV", ("Maldives", "Republic of Maldives"), ("马尔代夫", "马尔代夫共和国")),
    ("MW", "MWI", ("Malawi", "Republic of Malawi"), ("马拉维", "马拉维共和国")),
    ("MX", "MEX", ("Mexico", "United Mexican States", "México"), ("墨西哥", "墨西哥合众国")),
    ("MY", "MYS", ("Malaysia",), ("马来西亚",)),
    ("MZ", "MOZ", ("Mozambique", "Republic of Mozambique"), ("莫桑比克", "莫桑比克共和国")),
    ("NA", "NAM", ("Namibia", "Republic of Namibia"), ("纳米比亚", "纳米比亚共和国")),
    ("NC", "NCL", ("New Caledonia",), ("新喀里多尼亚",)),
    ("NE", "NER", ("Niger", "Republic of the Niger"), ("尼日尔", "尼日尔共和国")),
    ("NF", "NFK", ("Norfolk Island",), ("诺福克岛",)),
    ("NG", "NGA", ("Nigeria", "Federal Republic of Nigeria"), ("尼日利亚", "尼日利亚联邦共和国")),
    ("NI", "NIC", ("Nicaragua", "Republic of Nicaragua"), ("尼加拉瓜", "尼加拉瓜共和国")),
    (
        "NL",
        "NLD",
        ("Netherlands", "Kingdom of the Netherlands", "The Netherlands", "Holland"),
        ("荷兰", "荷兰王国"),
    ),
    ("NO", "NOR", ("Norway", "Kingdom of Norway"), ("挪威", "挪威王国")),
    (
        "NP",
        "NPL",
        ("Nepal", "Federal Democratic Republic of Nepal"),
        ("尼泊尔", "尼泊尔联邦民主共和国"),
    ),
    ("NR", "NRU", ("Nauru", "Republic of Nauru"), ("瑙鲁", "瑙鲁共和国")),
    ("NU", "NIU", ("Niue",), ("纽埃",)),
    ("NZ", "NZL", ("New Zealand",), ("新西兰",)),
    ("OM", "OMN", ("Oman", "Sultanate of Oman"), ("阿曼", "阿曼苏丹国")),
    ("PA", "PAN", ("Panama", "Republic of Panama"), ("巴拿马", "巴拿马共和国")),
    ("PE", "PER", ("Peru", "Republic of Peru"), ("秘鲁", "秘鲁共和国")),
    ("PF", "PYF", ("French Polynesia",), ("法属玻利尼西亚",)),
    (
        "PG",
        "PNG",
        ("Papua New Guinea", "Independent State of Papua New Guinea"),
        ("巴布亚新几内亚", "巴布亚新几内亚独立国"),
    ),
    ("PH", "PHL", ("Philippines", "Republic of the Philippines"), ("菲律宾", "菲律宾共和国")),
    (
        "PK",
        "PAK",
        ("Pakistan", "Islamic Republic of Pakistan"),
        ("巴基斯坦", "巴基斯坦伊斯兰共和国"),
    ),
    ("PL", "POL", ("Poland", "Republic of Poland", "Polska"), ("波兰", "波兰共和国")),
    ("PM", "SPM", ("Saint Pierre and Miquelon",), ("圣皮埃尔和密克隆",)),
    ("PN", "PCN", ("Pitcairn",), ("皮特克恩",)),
    ("PR", "PRI", ("Puerto Rico",), ("波多黎各",)),
    ("PS", "PSE", ("Palestine, State of", "the State of Palestine"), ("巴勒斯坦", "巴勒斯坦国")),
    ("PT", "PRT", ("Portugal", "Portuguese Republic"), ("葡萄牙", "葡萄牙共和国")),
    ("PW", "PLW", ("Palau", "Republic of Palau"), ("帕劳", "帕劳共和国")),
    ("PY", "PRY", ("Paraguay", "Republic of Paraguay"), ("巴拉圭", "巴拉圭共和国")),
    ("QA", "QAT", ("Qatar", "State of Qatar"), ("卡塔尔", "卡塔尔国")),
    ("RE", "REU", ("Réunion",), ("留尼汪",)),
    ("RO", "ROU", ("Romania",), ("罗马尼亚",)),
    ("RS", "SRB", ("Serbia", "Republic of Serbia"), ("塞尔维亚", "塞尔维亚共和国")),
    ("RU", "RUS", ("Russian Federation", "Russia"), ("俄罗斯",)),
    ("RW", "RWA", ("Rwanda", "Rwandese Republic"), ("卢旺达", "卢旺达共和国")),
    (
        "SA",
        "SAU",
        ("Saudi Arabia", "Kingdom of Saudi Arabia", "KSA"),
        ("沙特", "沙特阿拉伯", "沙特阿拉伯王国"),
    ),
    ("SB", "SLB", ("Solomon Islands",), ("所罗门群岛",)),
    ("SC", "SYC", ("Seychelles", "Republic of Seychelles"), ("塞舌尔", "塞舌尔共和国")),
    ("SD", "SDN", ("Sudan", "Republic of the Sudan"), ("苏丹", "苏丹共和国")),
    ("SE", "SWE", ("Sweden", "Kingdom of Sweden"), ("瑞典", "瑞典王国")),
    ("SG", "SGP", ("Singapore", "Republic of Singapore"), ("新加坡", "新加坡共和国")),
    (
        "SH",
        "SHN",
        ("Saint Helena, Ascension and Tristan da Cunha",),
        ("圣赫勒拿-阿森松-特里斯坦达库尼亚",),
    ),
    ("SI", "SVN", ("Slovenia", "Republic of Slovenia"), ("斯洛文尼亚", "斯洛文尼亚共和国")),
    ("SJ", "SJM", ("Svalbard and Jan Mayen",), ("斯瓦尔巴特和扬马延岛",)),
    ("SK", "SVK", ("Slovakia", "Slovak Republic"), ("斯洛伐克", "斯洛伐克共和国")),
    ("SL", "SLE", ("Sierra Leone", "Republic of Sierra Leone"), ("塞拉利昂", "塞拉利昂共和国")),
    ("SM", "SMR", ("San Marino", "Republic of San Marino"), ("圣马力诺市", "圣马力诺共和国")),
    ("SN", "SEN", ("Senegal", "Republic of Senegal"), ("塞内加尔", "塞内加尔共和国")),
    ("SO", "SOM", ("Somalia", "Federal Republic of Somalia"), ("索马里", "索马里联邦共和国")),
    ("SR", "SUR", ("Suriname", "Republic of Suriname"), ("苏里南", "苏里南共和国")),
    ("SS", "SSD", ("South Sudan", "Republic of South Sudan"), ("南苏丹", "南苏丹共和国")),
    (
        "ST",
        "STP",
        ("Sao Tome and Principe", "Democratic Republic of Sao Tome and Principe"),
        ("圣多美和普林西比", "圣多美和普林西比民主共和国"),
    ),
    ("SV", "SLV", ("El Salvador", "Republic of El Salvador"), ("萨尔瓦多", "萨尔瓦多共和国")),
    ("SX", "SXM", ("Sint Maarten (Dutch part)",), ("荷属圣马丁",)),
    ("SY", "SYR", ("Syrian Arab Republic", "Syria"), ("阿拉伯叙利亚共和国", "叙利亚")),
    ("SZ", "SWZ", ("Eswatini", "Kingdom of Eswatini"), ("斯威士兰", "斯威士兰王国")),
    ("TC", "TCA", ("Turks and Caicos Islands",), ("特克斯和凯科斯群岛",)),
    ("TD", "TCD", ("Chad", "Republic of Chad"), ("乍得", "乍得共和国")),
    ("TF", "ATF", ("French Southern Territories",), ("法属南半球领地",)),
    ("TG", "TGO", ("Togo", "Togolese Republic"), ("多哥", "多哥共和国")),
    ("TH", "THA", ("Thailand", "Kingdom of Thailand"), ("泰国", "泰王国")),
    ("TJ", "TJK", ("Tajikistan", "Republic of Tajikistan"), ("塔吉克斯坦", "塔吉克斯坦共和国")),
    ("TK", "TKL", ("Tokelau",), ("托克劳",)),
    (
        "TL",
        "TLS",
        ("Timor-Leste", "Democratic Republic of Timor-Leste"),
        ("东帝汶", "东帝汶民主共和国"),
    ),
    ("TM", "TKM", ("Turkmenistan",), ("土库曼斯坦",)),
    ("TN", "TUN", ("Tunisia", "Republic of Tunisia"), ("突尼斯", "突尼斯共和国")),
    ("TO", "TON", ("Tonga", "Kingdom of Tonga"), ("汤加", "汤加王国")),
    (
        "TR",
        "TUR",
        ("Türkiye", "Republic of Türkiye", "Turkey", "Turkiye"),
        ("土耳其", "土耳其共和国"),
    ),
    (
        "TT",
        "TTO",
        ("Trinidad and Tobago", "Republic of Trinidad and Tobago"),
        ("特里尼达和多巴哥", "特里尼达和多巴哥共和国"),
    ),
    ("TV", "TUV", ("Tuvalu",), ("图瓦卢",)),
    ("TW", "TWN", ("Taiwan, Province of China", "Taiwan"), ("台湾", "中国台湾", "中国台湾省")),
    (
        "TZ",
        "TZA",
        ("Tanzania, United Republic of", "Tanzania", "United Republic of Tanzania"),
        ("坦桑尼亚", "坦桑尼亚联合共和国"),
    ),
    ("UA", "UKR", ("Ukraine",), ("乌克兰",)),
    ("UG", "UGA", ("Uganda", "Republic of Uganda"), ("乌干达", "乌干达共和国")),
    ("UM", "UMI", ("United States Minor Outlying Islands",), ("美国本土外小岛屿",)),
    (
        "US",
        "USA",
        ("United States", "United States of America", "U.S.A.", "U.S.", "America"),
        ("美国", "美利坚合众国"),
    ),
    ("UY", "URY", ("Uruguay", "Eastern Republic of Uruguay"), ("乌拉圭", "乌拉圭东岸共和国")),
    ("UZ", "UZB", ("Uzbekistan", "Republic of Uzbekistan"), ("乌兹别克斯坦", "乌兹别克斯坦共和国")),
    ("VA", "VAT", ("Holy See (Vatican City State)",), ("梵地冈",)),
    ("VC", "VCT", ("Saint Vincent and the Grenadines",), ("圣文森特和格林纳丁斯",)),
    (
        "VE",
        "VEN",
        ("Venezuela, Bolivarian Republic of", "Venezuela", "Bolivarian Republic of Venezuela"),
        ("委内瑞拉玻利瓦尔共和国", "委内瑞拉"),
    ),
    ("VG", "VGB", ("Virgin Islands, British", "British Virgin Islands"), ("英属维尔京群岛",)),
    (
        "VI",
        "VIR",
        ("Virgin Islands, U.S.", "Virgin Islands of the United States"),
        ("美属维尔京群岛", "美属维京群岛"),
    ),
    (
        "VN",
        "VNM",
        ("Viet Nam", "Vietnam", "Socialist Republic of Viet Nam"),
        ("越南", "越南社会主义共和国"),
    ),
    ("VU", "VUT", ("Vanuatu", "Republic of Vanuatu"), ("瓦努阿图", "瓦努阿图共和国")),
    ("WF", "WLF", ("Wallis and Futuna",), ("瓦利斯和富图纳",)),
    ("WS", "WSM", ("Samoa", "Independent State of Samoa"), ("萨摩亚", "萨摩亚独立国")),
    ("YE", "YEM", ("Yemen", "Republic of Yemen"), ("也门", "也门共和国")),
    ("YT", "MYT", ("Mayotte",), ("马约特",)),
    ("ZA", "ZAF", ("South Africa", "Republic of South Africa"), ("南非", "南非共和国")),
    ("ZM", "ZMB", ("Zambia", "Republic of Zambia"), ("赞比亚", "赞比亚共和国")),
    ("ZW", "ZWE", ("Zimbabwe", "Republic of Zimbabwe"), ("津巴布韦", "津巴布韦共和国")),
)

COUNTRIES: Final[tuple[Country, ...]] = tuple(Country(*row) for row in _TABLE)
BY_ALPHA2: Final[dict[str, Country]] = {c.alpha2: c for c in COUNTRIES}
ALPHA2: Final[frozenset[str]] = frozenset(BY_ALPHA2)

# The destinations battery exports from China go to most (registry samples draw from them).
COMMON_DESTINATIONS: Final[tuple[str, ...]] = (
    "AE",
    "AR",
    "AT",
    "AU",
    "BE",
    "BG",
    "BR",
    "CA",
    "CH",
    "CL",
    "CN",
    "CO",
    "CY",
    "CZ",
    "DE",
    "DK",
    "EE",
    "EG",
    "ES",
    "FI",
    "FR",
    "GB",
    "GR",
    "HK",
    "HR",
    "HU",
    "ID",
    "IE",
    "IL",
    "IN",
    "IT",
    "JP",
    "KR",
    "KZ",
    "LT",
    "LU",
    "LV",
    "MA",
    "MT",
    "MX",
    "MY",
    "NG",
    "NL",
    "NO",
    "NZ",
    "PE",
    "PH",
    "PK",
    "PL",
    "PT",
    "RO",
    "RU",
    "SA",
    "SE",
    "SG",
    "SI",
    "SK",
    "TH",
    "TR",
    "TW",
    "UA",
    "US",
    "UZ",
    "VN",
    "ZA",
)


def _fold(text: str) -> str:
    """Case-fold, strip accents and punctuation, so `U.S.A.`, `usa` and `Türkiye` meet."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"[^0-9a-z\u4e00-\u9fff]+", " ", text.casefold()).strip()


@dataclass(frozen=True, slots=True)
class _NameIndex:
    by_name: dict[str, str]  # folded name or alpha-3 -> alpha-2
    zh: re.Pattern[str]  # any Chinese name, longest first
    longest_words: int  # words in the longest name


@functools.cache
def _names() -> _NameIndex:
    # Built on the first name looked up, not at import: the code engine imports this module
    # for `ALPHA2` alone, and `gateway codes` must start fast.
    by_name: dict[str, str] = {}
    for country in COUNTRIES:
        by_name[country.alpha3.casefold()] = country.alpha2
        for name in (*country.names, *country.zh):
            by_name.setdefault(_fold(name), country.alpha2)
    zh_names = sorted({n for c in COUNTRIES for n in c.zh}, key=len, reverse=True)
    zh = re.compile("|".join(map(re.escape, zh_names)))
    return _NameIndex(by_name, zh, max(len(k.split()) for k in by_name))


# Codes in running text are ambiguous with words ("NO", "IN", "IT"), so a bare two-letter code
# is accepted only as the whole value (or in brackets), never inside a longer phrase.
_CODE_IN_TEXT = re.compile(r"\(([A-Za-z]{2})\)|^([A-Za-z]{2})\s*[-/]")


@lru_cache(maxsize=1024)
def normalize_country(value: str | None) -> str | None:
    """Return the ISO 3166-1 alpha-2 code for a country as written, or None.

    >>> normalize_country("德国 Germany"), normalize_country("Hamburg, Germany")
    ('DE', 'DE')
    >>> normalize_country("deu"), normalize_country("Atlantis")
    ('DE', None)
    """
    if value is None:
        return None
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text:
        return None
    if len(text) == 2 and text.isascii() and text.isalpha() and text.upper() in ALPHA2:
        return text.upper()
    index = _names()
    by_name = index.by_name
    folded = _fold(text)
    if folded in by_name:
        return by_name[folded]
    # "Germany (DE)", "DE - Germany": a code in brackets or before a dash
    m = _CODE_IN_TEXT.search(text)
    if m:
        code = (m.group(1) or m.group(2)).upper()
        if code in ALPHA2:
            return code
    zh = index.zh.search(text)
    if zh:
        return by_name[_fold(zh.group(0))]
    # "Hamburg, Germany", "Port of Rotterdam Netherlands": the longest known name at the end,
    # then anywhere in the text; three-letter words alone are too ambiguous there
    words = folded.split()
    for size in range(min(index.longest_words, len(words)), 0, -1):
        tail = " ".join(words[-size:])
        if tail in by_name and (size > 1 or len(tail) > 3):
            return by_name[tail]
    for size in range(min(index.longest_words, len(words)), 0, -1):
        for start in range(len(words) - size + 1):
            chunk = " ".join(words[start : start + size])
            if chunk in by_name and len(chunk) > 3:
                return by_name[chunk]
    return None


def country_name(alpha2: str, *, chinese: bool = False) -> str | None:
    """The display name of an alpha-2 code (ISO short name, or the common Chinese name)."""
    country = BY_ALPHA2.get(alpha2.upper())
    if country is None:
        return None
    return country.zh[0] if chinese else country.names[0]
