"""Values of a finding as its reader's language writes them.

A finding keeps its facts as identifiers (`missing: "site_gln"`, `category: "ev"`) in its
evidence, for tools. Its messages are written from those facts in words: each value key below
has a table of words per language, lists ("a, b") are worded item by item, and a rule may give a
value's wording itself as `hint_<key>_<lang>`. Values not listed here (codes, numbers, the
document's own text) are shown as they are.
"""

from __future__ import annotations

from collections.abc import Mapping

from gateway.reports.messages import PLATFORM_SOURCES, TRANSPORT_MODES

# field names: declaration elements, registration record fields, label data, manifest fields
FIELDS: dict[str, tuple[str, str]] = {
    "brand_type": ("brand type", "品牌类型"),
    "preference": ("export preference", "出口享惠情况"),
    "use": ("use", "用途"),
    "electrode_material": ("electrode material", "电极材料"),
    "specific_energy": ("specific energy", "比能量"),
    "brand": ("brand", "品牌"),
    "model": ("model", "型号"),
    "capacity": ("capacity", "容量"),
    "mercury": ("mercury content", "汞含量"),
    "rated_voltage": ("rated voltage", "额定电压"),
    "gtin": ("GTIN", "GTIN"),
    "cas": ("CAS number", "CAS 号"),
    "site_gln": ("production site GLN", "生产场地 GLN"),
    "consignee_name": ("consignee name", "收货人名称"),
    "cf_study_url": ("carbon footprint study link", "碳足迹报告链接"),
    "passport_url": ("battery passport link", "电池护照链接"),
    "doc_url": ("declaration of conformity link", "符合性声明链接"),
    "manufacturer": ("manufacturer", "制造商"),
    "category": ("category", "类别"),
    "manufacturing_date": ("manufacturing date", "生产日期"),
    "weight": ("weight", "重量"),
    "chemistry": ("chemistry", "化学体系"),
    "destination": ("destination", "目的国"),
    "quantity": ("quantity", "数量"),
    "net_kg": ("net weight (kg)", "净重（千克）"),
    "gross_kg": ("gross weight (kg)", "毛重（千克）"),
    "un_number": ("UN number", "UN 编号"),
    "un_numbers": ("UN numbers", "UN 编号"),
    "packages": ("packages", "件数"),
    "hs_code": ("HS code", "HS 编码"),
    "lot": ("lot", "批次号"),
    "carton": ("carton", "箱号"),
    "pallet": ("pallet", "托盘号"),
    "container": ("container", "集装箱号"),
    "description": ("description", "品名"),
    "unit": ("unit", "单位"),
    "line_no": ("line number", "序号"),
    "port_of_loading": ("port of loading", "装货港"),
    "port_of_discharge": ("port of discharge", "卸货港"),
    "exporter": ("exporter", "出口商"),
    "consignee": ("consignee", "收货人"),
    "reference": ("reference", "参考号"),
    "eori": ("EORI number", "EORI 号"),
}

CATEGORIES: dict[str, tuple[str, str]] = {
    "nev_traction": ("electric vehicle traction battery", "新能源汽车动力电池"),
    "ci_ess": ("commercial and industrial energy storage", "工商业储能电池"),
    "residential_ess": ("residential energy storage", "户用储能电池"),
    "lmt": ("light means of transport battery", "轻型交通工具电池"),
    "portable": ("portable battery", "便携式电池"),
    "other": ("other battery", "其他电池"),
    "ev": ("electric vehicle battery", "电动汽车电池"),
    "industrial": ("industrial battery", "工业电池"),
    "sbess": ("stationary energy storage", "固定式储能电池"),
    "sli": ("starting, lighting and ignition battery", "启动、照明和点火电池"),
}

STATUSES: dict[str, tuple[str, str]] = {
    "registered": ("registered", "已备案"),
    "pending_review": ("pending review", "待审核"),
    "needs_correction": ("needs correction", "需更正"),
    "rejected": ("rejected", "已驳回"),
    "revoked": ("revoked", "已撤销"),
    "suspended": ("suspended", "已暂停"),
    "expired": ("expired", "已过期"),
    "exported": ("already exported", "已出口"),
}

SPECIAL: dict[str, tuple[str, str]] = {
    "damaged": ("damaged", "损坏"),
    "prototype": ("prototype", "原型样品"),
    "waste": ("waste", "废旧"),
}

SCHEMES: dict[str, tuple[str, str]] = {
    "gs1": ("GS1", "GS1"),
    "gs1_digital_link": ("GS1 Digital Link", "GS1 数字链接"),
    "digital_link": ("GS1 Digital Link", "GS1 数字链接"),
    "gb34014": ("GB/T 34014", "GB/T 34014"),
    "gb45565": ("GB/T 45565", "GB/T 45565"),
    "unknown": ("battery", "电池"),
}

SOURCES: dict[str, tuple[str, str]] = {k: (v["en"], v["zh"]) for k, v in PLATFORM_SOURCES.items()}

FORMS: dict[str, tuple[str, str]] = {
    "Shipper's Declaration for Dangerous Goods": (
        "Shipper's Declaration for Dangerous Goods",
        "托运人危险物品申报单",
    ),
    "IMO dangerous goods form": ("IMO dangerous goods form", "IMO 危险货物申报单"),
}

YES_NO: dict[str, tuple[str, str]] = {"yes": ("yes", "是"), "no": ("no", "否")}

LEVELS: dict[str, tuple[str, str]] = {
    "cell": ("cell", "电芯"),
    "module": ("module", "模组"),
    "pack": ("pack", "电池包"),
    "cluster": ("cluster", "电池簇"),
    "system": ("system", "电池系统"),
}

# what could not be read in a document (ExtractionProblem.kind), why a document was not used
# (RejectedDocument.reason), why a unit could not be verified (Lookup.reason)
PROBLEM_KINDS: dict[str, tuple[str, str]] = {
    "destination_unknown": ("destination not recognised", "目的国无法识别"),
    "identifier_destroyed_in_document": (
        "a code destroyed in the document (e.g. stored as a rounded number)",
        "文件中的编码已损坏（例如被存为四舍五入的数字）",
    ),
    "macros_ignored": ("macros ignored", "已忽略宏"),
    "no_codes_found": ("no battery codes found", "未找到电池编码"),
    "ocr_contradicts_barcode": ("printed text differs from the barcode", "印刷文字与条码不一致"),
    "page_unreadable": ("page could not be read", "页面无法读取"),
    "possible_code": ("text that may be a battery code", "疑似电池编码的文字"),
    "type_differs_from_name": (
        "file type differs from its name",
        "文件类型与文件名不符",
    ),
    "conflicting_reads": ("barcodes on one label read differently", "同一标签上的条码读数不一致"),
    "regions_unread": ("label areas that could not be read", "标签上有无法读取的区域"),
    "unsupported_document": ("a file type the gateway does not read", "系统不支持的文件类型"),
    "document_too_large": ("the file is too large", "文件过大"),
    "corrupt_document": ("the file is damaged", "文件已损坏"),
    "parse_resource_limit": ("the file exceeds the reading limits", "文件超出读取限制"),
    "invalid_input": ("the file could not be read", "文件无法读取"),
    "reader_failed": ("the reader failed", "读取程序出错"),
    "no_registry": ("no registry to check against", "没有可核对的备案数据"),
    "no_answer": ("no answer from the platform", "平台无应答"),
    "found_without_record": ("found without a record", "已找到但无备案记录"),
    "timeout": ("the platform did not answer in time", "平台应答超时"),
    "circuit_open": ("the platform is paused after failures", "平台多次失败后暂停调用"),
    "connection_error": ("no connection to the platform", "无法连接平台"),
    "server_error": ("a platform error", "平台错误"),
    "rate_limited": ("the platform limits requests", "平台限制请求频率"),
    "registry_unavailable": ("the registry is unavailable", "备案数据不可用"),
    "malformed_answer": ("an unreadable platform answer", "平台应答无法解读"),
    "partial_answer": ("an incomplete platform answer", "平台应答不完整"),
    "unauthenticated": ("the platform refused the gateway's credentials", "平台拒绝了系统的凭据"),
    "forbidden": ("the platform refused access", "平台拒绝访问"),
    "unexpected_status": ("an unexpected platform answer", "平台应答异常"),
    "spec_version_mismatch": ("a platform contract mismatch", "平台接口版本不符"),
    "code_conflict": ("conflicting platform records", "平台记录相互冲突"),
    "code_not_found": ("not on the platform", "平台上没有该编码"),
    "not_a_unit_key": ("not a unit code", "不是单个电池的编码"),
    "invalid_code_syntax": ("an invalid code", "编码无效"),
    "unsupported_category": ("a category the platform does not cover", "平台不涵盖该类别"),
}

# value key -> its table; list-valued keys are worded item by item
_TABLES: dict[str, dict[str, tuple[str, str]]] = {
    "elements": FIELDS,
    "missing": FIELDS,
    "field": FIELDS,
    "category": CATEGORIES,
    "status": STATUSES,
    "scheme": SCHEMES,
    "source": SOURCES,
    "form": FORMS,
    "above_2kwh": YES_NO,
    "level": LEVELS,
    "kind": {**PROBLEM_KINDS, **FIELDS, **SPECIAL},
    "reason": PROBLEM_KINDS,
    "reasons": PROBLEM_KINDS,
    "mode": {k: (v["en"], v["zh"]) for k, v in TRANSPORT_MODES.items()},
}
_LISTS = frozenset({"elements", "missing", "reasons"})


def word(key: str, value: str, lang: str) -> str:
    """One value in words, or the value itself when its key or the value is not in a table."""
    entry = _TABLES.get(key, {}).get(value)
    if entry is None:
        return value
    return entry[1] if lang == "zh" else entry[0]


def words(values: Mapping[str, object], lang: str) -> dict[str, object]:
    """The values a message is filled from, worded for `lang`."""
    out = dict(values)
    for key, value in values.items():
        if key in _TABLES and isinstance(value, str):
            if key in _LISTS:
                sep = "、" if lang == "zh" else ", "
                out[key] = sep.join(word(key, v.strip(), lang) for v in value.split(","))
            else:
                out[key] = word(key, value, lang)
    suffix = f"_{lang}"
    for key, value in values.items():
        if key.startswith("hint_") and key.endswith(suffix) and len(key) > 5 + len(suffix):
            out[key[5 : -len(suffix)]] = value
    return out
