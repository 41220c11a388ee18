"""The words of the report itself (titles, column names, verdicts) in English and Chinese."""

from __future__ import annotations

from typing import Literal

Lang = Literal["en", "zh"]
LANGS: tuple[Lang, ...] = ("en", "zh")

UI: dict[str, dict[str, str]] = {
    "title": {"en": "Shipment check report", "zh": "出口货物核查报告"},
    "shipment": {"en": "Shipment", "zh": "货物编号"},
    "reference": {"en": "Reference", "zh": "参考号"},
    "destination": {"en": "Destination", "zh": "目的国"},
    "transport_mode": {"en": "Transport", "zh": "运输方式"},
    "declared_on": {"en": "Declaration date", "zh": "申报日期"},
    "generated_at": {"en": "Checked at", "zh": "核查时间"},
    "ruleset": {"en": "Ruleset", "zh": "规则集"},
    "platform": {"en": "Registration answers", "zh": "备案核验来源"},
    "contract": {"en": "Platform contract", "zh": "平台接口版本"},
    "verdict": {"en": "Verdict", "zh": "结论"},
    "verdict_clear": {
        "en": "CLEAR - every unit verified, nothing blocks",
        "zh": "通过 - 全部电池已核验，无阻断问题",
    },
    "verdict_hold": {
        "en": "HOLD - a person must decide before submission",
        "zh": "暂缓 - 申报前需人工确认",
    },
    "verdict_block": {
        "en": "BLOCK - do not submit until fixed",
        "zh": "阻断 - 修正前请勿申报",
    },
    "what_blocks": {"en": "What blocks this shipment", "zh": "阻断原因"},
    "counts": {"en": "Counts", "zh": "统计"},
    "findings": {"en": "Findings", "zh": "问题明细"},
    "by_line": {"en": "Findings by line", "zh": "按行汇总"},
    "severity": {"en": "Severity", "zh": "级别"},
    "block": {"en": "Blocking", "zh": "阻断"},
    "warn": {"en": "Warnings", "zh": "警告"},
    "info": {"en": "For information", "zh": "提示"},
    "sev_block": {"en": "block", "zh": "阻断"},
    "sev_warn": {"en": "warn", "zh": "警告"},
    "sev_info": {"en": "info", "zh": "提示"},
    "code": {"en": "Finding", "zh": "问题代码"},
    "rule": {"en": "Rule", "zh": "规则"},
    "message": {"en": "What is wrong", "zh": "问题"},
    "fix": {"en": "How to fix", "zh": "处理建议"},
    "where": {"en": "Where", "zh": "位置"},
    "battery_code": {"en": "Code", "zh": "编码"},
    "source": {"en": "Source", "zh": "依据"},
    "line": {"en": "Line", "zh": "行号"},
    "document": {"en": "Document", "zh": "文件"},
    "sheet": {"en": "Sheet", "zh": "工作表"},
    "cell": {"en": "Cell", "zh": "单元格"},
    "page": {"en": "Page", "zh": "页"},
    "row": {"en": "Row", "zh": "行"},
    "documents": {"en": "Documents", "zh": "文件"},
    "crashed_rules": {
        "en": "Rules that could not run (the verdict cannot be clear)",
        "zh": "未能运行的规则（结论不能为通过）",
    },
    "no_findings": {"en": "No findings.", "zh": "没有问题。"},
    "more_places": {"en": "more places", "zh": "处其他位置"},
    "shipment_facts": {"en": "shipment details", "zh": "货物信息"},
    "whole_shipment": {"en": "whole shipment", "zh": "整票货物"},
    "count_units": {"en": "Battery units", "zh": "电池数量"},
    "count_verified": {"en": "Verified", "zh": "已核验"},
    "count_not_found": {"en": "Not registered", "zh": "未备案"},
    "count_unverified": {"en": "Unverified", "zh": "未能核验"},
    "count_block": {"en": "Blocking", "zh": "阻断"},
    "count_warn": {"en": "Warnings", "zh": "警告"},
    "count_info": {"en": "Info", "zh": "提示"},
    "count_documents": {"en": "Documents", "zh": "文件数"},
    "count_documents_rejected": {"en": "Unusable documents", "zh": "无法使用的文件"},
    "count_lines": {"en": "Lines", "zh": "行数"},
    "count_codes": {"en": "Codes read", "zh": "读取编码"},
    "count_codes_invalid": {"en": "Invalid codes", "zh": "无效编码"},
    "unverified_note": {
        "en": "Some codes could not be checked against a registry: the verdict is HOLD at best.",
        "zh": "部分编码未能与备案数据核对：结论最多为暂缓。",
    },
    "switch": {"en": "中文", "zh": "English"},
    "version": {"en": "Report version", "zh": "报告版本"},
    "changes_title": {
        "en": "What changed since report version {n}",
        "zh": "与第 {n} 版报告相比的变化",
    },
    "changes_verdict": {"en": "Verdict before: {before}", "zh": "上一版结论：{before}"},
    "change_fixed": {"en": "Fixed", "zh": "已解决"},
    "change_new": {"en": "New", "zh": "新问题"},
    "change_still_open": {"en": "Still open", "zh": "仍未解决"},
    "change_none": {"en": "none", "zh": "无"},
    "summary_sheet": {"en": "Summary", "zh": "概要"},
    "findings_sheet": {"en": "Findings", "zh": "问题明细"},
    "units_sheet": {"en": "Units", "zh": "电池"},
    "key": {"en": "Key", "zh": "标识"},
    "lookup": {"en": "Look-up", "zh": "核验结果"},
    "registration": {"en": "Registration", "zh": "备案状态"},
    "reason": {"en": "Reason", "zh": "原因"},
    "email_intro": {
        "en": "The gateway checked shipment {shipment}.",
        "zh": "系统已核查货物 {shipment}。",
    },
    "email_to": {"en": "to {destination}", "zh": "目的国 {destination}"},
    "email_checked": {"en": "checked {when}", "zh": "核查时间 {when}"},
    "email_open": {"en": "Open the report", "zh": "打开报告"},
    "email_open_pdf": {"en": "PDF", "zh": "PDF 版"},
    "email_valid": {
        "en": "No sign-in needed; the link opens this report only, until {when}.",
        "zh": "无需登录；此链接仅可查看本报告，有效期至 {when}。",
    },
    "email_more": {
        "en": "+ {n} more in the attached report",
        "zh": "另有 {n} 项，详见附件报告",
    },
    "email_attached": {
        "en": "The full report is attached: {names}.",
        "zh": "完整报告见附件：{names}。",
    },
    "email_nothing_blocks": {
        "en": "Nothing blocks this shipment.",
        "zh": "本票货物没有阻断问题。",
    },
    "email_other_lang": {"en": "English version", "zh": "中文版本"},
}

# What a finding's source tag rests on, shown beside the tag (docs/rules.md, "Rules").
SOURCES: dict[str, dict[str, str]] = {
    "GS1": {"en": "GS1 General Specifications", "zh": "GS1 通用规范"},
    "GB": {
        "en": "GB/T 34014, GB/T 45565 battery coding",
        "zh": "GB/T 34014、GB/T 45565 电池编码标准",
    },
    "EUBR": {"en": "EU Battery Regulation 2023/1542", "zh": "欧盟电池法规 2023/1542"},
    "DG": {
        "en": "dangerous goods rules (UN, IMDG, IATA)",
        "zh": "危险品规则（联合国、IMDG、IATA）",
    },
    "CN-CUS": {"en": "Chinese customs practice", "zh": "中国海关实务"},
    "CN-EXP": {"en": "export control, VAT rebate", "zh": "出口管制、出口退税"},
    "PRACTICE": {"en": "forwarding practice", "zh": "货代操作惯例"},
    "SEED": {
        "en": "platform policy announced for 2026-04-01, not yet confirmed",
        "zh": "平台公布的 2026-04-01 政策，尚未确认",
    },
    "ASSUMPTION": {"en": "the gateway's own check", "zh": "本系统自设检查"},
}

TRANSPORT_MODES: dict[str, dict[str, str]] = {
    "sea": {"en": "sea", "zh": "海运"},
    "air": {"en": "air", "zh": "空运"},
    "road": {"en": "road", "zh": "公路运输"},
    "rail": {"en": "rail", "zh": "铁路运输"},
    "multimodal": {"en": "multimodal", "zh": "多式联运"},
    "post": {"en": "post", "zh": "邮寄"},
}


def source_text(tag: str, lang: str) -> str:
    """What a source tag stands for, or "" for a tag the report does not know."""
    entry = SOURCES.get(tag)
    return (entry.get(lang) or entry["en"]) if entry else ""


PLATFORM_SOURCES: dict[str, dict[str, str]] = {
    "registry": {"en": "the exporter's registry file", "zh": "出口商备案数据文件"},
    "platform": {"en": "the registration platform", "zh": "备案平台"},
    "simulator": {"en": "the platform simulator (test data)", "zh": "平台模拟器（测试数据）"},
    "cache": {"en": "cached platform answers", "zh": "平台缓存结果"},
    "none": {"en": "no registry", "zh": "无备案数据"},
}


def platform_source_text(source: str, lang: str) -> str:
    """Where the registration answers came from, in words."""
    entry = PLATFORM_SOURCES.get(source)
    return (entry.get(lang) or entry["en"]) if entry else source


def fact_text(key: str, value: object, lang: str) -> str:
    """A shipment fact as the reader's language writes it: transport modes in words, the
    destination by its name ("德国 (DE)" / "Germany (DE)")."""
    text = str(value)
    if key == "transport_mode" and text in TRANSPORT_MODES:
        return TRANSPORT_MODES[text][lang if lang in ("en", "zh") else "en"]
    if key == "destination":
        from gateway.countries import country_name

        name = country_name(text, chinese=lang == "zh")
        return f"{name} ({text})" if name else text
    return text


COUNT_KEYS: tuple[str, ...] = (
    "units",
    "verified",
    "not_found",
    "unverified",
    "block",
    "warn",
    "info",
    "documents",
    "documents_rejected",
    "lines",
    "codes",
    "codes_invalid",
)


def t(key: str, lang: str) -> str:
    """The text of one label in a language (English when the language is unknown)."""
    entry = UI[key]
    return entry.get(lang) or entry["en"]


def check_lang(lang: str) -> Lang:
    """Validate a language code.

    Raises:
        ValueError: not "en" or "zh".
    """
    if lang == "en":
        return "en"
    if lang == "zh":
        return "zh"
    msg = f"Unsupported report language {lang!r}: expected 'en' or 'zh'."
    raise ValueError(msg)
