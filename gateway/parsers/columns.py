"""Map column headers (Chinese, English, bilingual, two-row) and header-block labels to fields.

The patterns come from the columns forwarders actually print (DOMAIN.md 3.4). Order matters:
the more specific pattern wins ("HS编码" is an HS code column before it is a "编码" code
column; "Carton No." is a carton before "No." is a line number).
"""

from __future__ import annotations

import re
import unicodedata

# field -> regex over the normalized header text (lower case, NFKC, spaces collapsed)
COLUMN_PATTERNS: tuple[tuple[str, str], ...] = (
    ("hs_code", r"hs\s*编码|商品编码|海关编码|税则|\bh\.?\s?s\.?\s*(code|no)|\bhs\b|tariff"),
    ("un_number", r"un\s*编号|联合国|\bun\s*(no|number|#)|^un$|\bun\b"),
    ("mfg_date", r"生产日期|制造日期|日期|manufactur|\bmfg|production\s*date|\bdate\b"),
    ("gross_kg", r"毛重|gross|\bg\.?\s?w\b"),
    ("net_kg", r"净重|\bnet\b|\bn\.?\s?w\b"),
    ("destination", r"目的国|目的地|运抵国|最终目的|destination|\bdest\b|country\s*of\s*arrival"),
    ("origin", r"原产|origin"),
    ("unit_price", r"单价|unit\s*price"),
    ("amount", r"总价|金额|amount|total\s*price|value"),
    ("container", r"集装箱|柜号|container|\bcntr"),
    ("pallet", r"托盘|pallet|\bplt\b"),
    ("packages", r"件数|箱数|托数|no\.?\s*of\s*(packages|cartons|pkgs)|\bctns\b"),
    ("carton", r"箱号|件号|carton|\bcase\s*no|\bpkg\s*no|package\s*no|\bc/no\b"),
    ("gtin", r"gtin|商品条码|product\s*code|\bean\b|产品编码"),
    ("sscc", r"\bsscc\b|物流单元"),
    ("lot", r"批次|批号|\blot\b|batch"),
    ("unit", r"单位|\bunit\b|\buom\b|\bu/m\b"),
    ("quantity", r"数量|\bq'?ty\b|quantity|\bpcs\b"),
    (
        "code",
        r"序列号|电池编码|电池条码|追溯码|条码|编码|溯源|serial|\bs/?n\b|battery\s*(id|code)"
        r"|barcode|bar\s*code|gs1|\bcode\b|identifier|udi|digital\s*link|\buri\b|\burl\b|链接"
        r"|二维码|\bqr\b",
    ),
    ("description", r"品名|货物|描述|名称|description|commodity|goods|product"),
    ("model", r"型号|规格|model|part\s*no|\btype\b|\bspec"),
    ("line_no", r"序号|项次|项号|行号|^no\.?$|\bitem\b|\bline\b|^#$|^s/n$"),
)
_COMPILED = tuple((name, re.compile(p)) for name, p in COLUMN_PATTERNS)

# header-block labels (the shipper/consignee block above the table and remarks below it)
HEADER_PATTERNS: tuple[tuple[str, str], ...] = (
    # stated totals of the whole document (title block, remarks, a totals row written out)
    (
        "total_gross_kg",
        r"总毛重|毛重合计|合计毛重|total\s*(gross|g\.?\s?w)|^(gross\s*weight|g\.?\s?w\.?|毛重)"
        r"(\s*\(?(kgs?|千克|公斤)\)?)?$",
    ),
    (
        "total_net_kg",
        r"总净重|净重合计|合计净重|total\s*(net|n\.?\s?w)|^(net\s*weight|n\.?\s?w\.?|净重)"
        r"(\s*\(?(kgs?|千克|公斤)\)?)?$",
    ),
    ("total_quantity", r"总数量|数量合计|合计数量|total\s*(quantity|q'?ty|pcs|units)"),
    (
        "total_packages",
        r"总件数|总箱数|件数|箱数|total\s*(packages|pkgs|cartons|ctns|pallets)"
        r"|(no\.?|number)\s*of\s*(packages|pkgs|cartons|ctns|pallets)|^(packages|pkgs)$",
    ),
    # documents cited in the title block; before "declaration_no", which would take them
    (
        "dg_packaging_cert",
        r"危包|危险货物包装|危险品包装|dg\s*pack|dangerous\s*goods\s*packag"
        r"|packaging\s*(usage\s*)?(appraisal|certificate|cert\b|approval)|packing\s*approval",
    ),
    (
        "dg_declaration",
        r"危险货物申报|危险品申报|危险货物运输申报|\bdgd\b|\bdg\s*decl|dangerous\s*goods\s*decl"
        r"|declaration\s*for\s*dangerous|dangerous\s*goods\s*note",
    ),
    ("un38_3", r"un\s*38\.?3|(?<![\d.])38\.3\s*(test|测试|试验)|测试概要|试验概要|test\s*summary"),
    (
        "msds",
        r"msds|\bsds\b|安全技术说明书|安全数据表|安全数据单|安全资料表|safety\s*data\s*sheet",
    ),
    ("consignee_eori", r"(?<![a-z])eori(?![a-z])"),
    ("declaration_elements", r"申报要素|declaration\s*elements"),
    ("declaration_no", r"报关单|declaration|decl\.?\s*no|customs\s*decl"),
    ("invoice_no", r"发票|invoice"),
    ("contract_no", r"合同|contract|p\.?o\.?\s*no"),
    ("bl_no", r"提单|b/l|bill\s*of\s*lading|awb"),
    ("port_of_loading", r"装货港|起运港|启运港|离境口岸|port\s*of\s*(loading|departure)|\bpol\b"),
    ("port_of_discharge", r"卸货港|目的港|指运港|port\s*of\s*(discharge|destination)|\bpod\b"),
    ("destination", r"目的国|运抵国|最终目的|目的地|destination|country\s*of\s*arrival"),
    ("origin", r"原产|country\s*of\s*origin"),
    ("shipper", r"发货人|出口商|shipper|exporter|seller"),
    ("consignee", r"收货人|consignee|buyer|importer"),
    ("notify_party", r"通知人|notify"),
    ("vessel", r"船名|航次|vessel|voyage|flight"),
    ("transport_mode", r"运输方式|transport\s*mode|mode\s*of\s*transport|shipped\s*by"),
    ("container", r"柜号|集装箱|container"),
    ("seal_no", r"封号|铅封|seal"),
    ("incoterms", r"成交方式|incoterm|trade\s*terms"),
    ("hs_code", r"hs\s*编码|商品编码|海关编码|h\.?\s?s\.?\s*code|\bhs\b|tariff"),
    ("un_number", r"un\s*编号|联合国编号|\bun\s*(no|number)"),
    ("date", r"日期|\bdate\b"),
)
_HEADER_COMPILED = tuple((name, re.compile(p)) for name, p in HEADER_PATTERNS)

# fields that make a row a plausible table header
TABLE_FIELDS = frozenset(name for name, _ in COLUMN_PATTERNS)


def normalize_label(text: str) -> str:
    """NFKC, lower case, line breaks and runs of spaces to one space."""
    text = unicodedata.normalize("NFKC", text).lower()
    return re.sub(r"\s+", " ", text).strip()


def map_column(header: str) -> str | None:
    """The field a column header names, or None for a column we do not read.

    >>> map_column("毛重(千克)\\nG.W. (KGS)"), map_column("项次 Item No."), map_column("Q'ty")
    ('gross_kg', 'line_no', 'quantity')
    """
    text = normalize_label(header)
    if not text or len(text) > 80:
        return None
    for name, pattern in _COMPILED:
        if pattern.search(text):
            return name
    return None


def map_header_label(label: str) -> str | None:
    """The header-block field a label such as `发货人 Shipper:` names, or None."""
    text = normalize_label(label).rstrip(":：. ")
    if not text or len(text) > 60:
        return None
    for name, pattern in _HEADER_COMPILED:
        if pattern.search(text):
            return name
    return None
