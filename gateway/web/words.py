"""The web app's own words (sign-in, upload, history, buttons, statuses) in English and Chinese.

Pages call `w("key")` in templates; page scripts read the `js` subset from a JSON block in the
page (no inline script, so the strict CSP holds). The report's words live with the report
(`gateway.reports.messages`), and so do the languages and the language switch both share.
"""

from __future__ import annotations

from gateway.reports.messages import LANGS, UI

WORDS: dict[str, dict[str, str]] = {
    "brand": {"en": "Battery export check", "zh": "电池出口校验"},
    "sign_out": {"en": "Sign out", "zh": "退出"},
    "language": UI["switch"],  # the other language's name, as the report's switch shows it
    "sign_in": {"en": "Sign in", "zh": "登录"},
    "sign_in_help": {
        "en": "Paste the API key your administrator gave you (it starts with gw_).",
        "zh": "请粘贴管理员提供的 API 密钥（以 gw_ 开头）。",
    },
    "api_key": {"en": "API key", "zh": "API 密钥"},
    "key_unknown": {
        "en": "This API key is unknown or revoked.",
        "zh": "此 API 密钥不存在或已被吊销。",
    },
    "check_title": {"en": "Check a shipment", "zh": "核查一票货物"},
    "check_help": {
        "en": "Drop the manifest, packing list and label photos of one shipment (PDF, Excel, "
        "CSV, JPEG, PNG; up to {documents} files, {mb} MB in total).",
        "zh": "拖入一票货物的舱单、装箱单和标签照片（PDF、Excel、CSV、JPEG、PNG；"
        "最多 {documents} 个文件，共 {mb} MB）。",
    },
    "drag_here": {"en": "Drag files here, or", "zh": "将文件拖到此处，或"},
    "reference": {"en": "Reference", "zh": "参考号"},
    "destination": {"en": "Destination country", "zh": "目的国"},
    "transport": {"en": "Transport", "zh": "运输方式"},
    "notify": {"en": "Email the report to", "zh": "报告发送至邮箱"},
    "upload": {"en": "Upload and check", "zh": "上传并核查"},
    "latest": {"en": "Latest shipments", "zh": "最近的货物"},
    "received": {"en": "Received", "zh": "接收时间"},
    "status": {"en": "Status", "zh": "状态"},
    "verdict": {"en": "Verdict", "zh": "结论"},
    "no_shipments": {"en": "No shipments yet.", "zh": "还没有货物。"},
    "history": {"en": "Shipments", "zh": "货物记录"},
    "search": {"en": "Search", "zh": "搜索"},
    "search_help": {
        "en": "Reference, file name or unit code",
        "zh": "参考号、文件名或电池编码",
    },
    "any_verdict": {"en": "any verdict", "zh": "全部结论"},
    "date_from": {"en": "From", "zh": "起始日期"},
    "date_to": {"en": "To", "zh": "截止日期"},
    "clear_search": {"en": "Show all", "zh": "显示全部"},
    "no_match": {"en": "No shipment matches.", "zh": "没有符合条件的货物。"},
    "older": {"en": "Older shipments", "zh": "更早的货物"},
    "to_country": {"en": "To", "zh": "目的国"},
    "shipment": {"en": "Shipment", "zh": "货物"},
    "documents": {"en": "Documents", "zh": "文件"},
    "download_xlsx": {"en": "Download Excel", "zh": "下载 Excel"},
    "download_csv": {"en": "Download CSV", "zh": "下载 CSV"},
    "download_pdf": {"en": "Download PDF", "zh": "下载 PDF"},
    "download_html": {"en": "Download HTML", "zh": "下载 HTML"},
    "annotated": {"en": "Annotated workbook", "zh": "标注后的表格"},
    "status_received": {"en": "received", "zh": "已接收"},
    "status_extracting": {"en": "reading documents", "zh": "正在读取文件"},
    "status_verifying": {"en": "checking", "zh": "正在核查"},
    "status_done": {"en": "done", "zh": "已完成"},
    "status_rejected": {"en": "rejected", "zh": "已拒收"},
    "verdict_clear": {"en": "clear", "zh": "通过"},
    "verdict_hold": {"en": "hold", "zh": "暂缓"},
    "verdict_block": {"en": "block", "zh": "阻断"},
    "recheck_title": {"en": "Upload corrected documents", "zh": "上传更正后的文件"},
    "recheck_help": {
        "en": "A file with the same name replaces the one checked before; other files are "
        "added. The shipment is checked again and the new report shows what changed.",
        "zh": "同名文件将替换之前核查的文件，其他文件将被添加。系统将重新核查本票货物，"
        "新报告会列出变化。",
    },
    "recheck": {"en": "Upload and check again", "zh": "上传并重新核查"},
    "versions": {"en": "Report versions", "zh": "报告版本"},
    "version_n": {"en": "version {n}", "zh": "第 {n} 版"},
    "showing_version": {
        "en": "You are looking at version {n}; the latest is version {latest}.",
        "zh": "您正在查看第 {n} 版；最新为第 {latest} 版。",
    },
    "changes_short": {
        "en": "{fixed} fixed, {new} new, {still_open} still open",
        "zh": "已解决 {fixed}，新问题 {new}，仍未解决 {still_open}",
    },
    # page scripts
    "js_stage_reading_documents": {
        "en": "Reading documents ({done} of {total})",
        "zh": "正在读取文件（{done}/{total}）",
    },
    "js_stage_reading_labels": {
        "en": "Reading label photos ({done} of {total})",
        "zh": "正在读取标签照片（{done}/{total}）",
    },
    "js_stage_looking_up": {
        "en": "Looking up {total} units ({done} answered)",
        "zh": "正在核验 {total} 个电池（已返回 {done} 个）",
    },
    "js_stage_checking": {"en": "Checking the rules", "zh": "正在按规则核查"},
    "js_stage_report": {"en": "Writing the report", "zh": "正在生成报告"},
    "js_waiting": {"en": "Waiting to start", "zh": "等待开始"},
    "js_uploading": {"en": "Uploading…", "zh": "正在上传…"},
    "js_checking": {"en": "Uploaded. Checking…", "zh": "已上传，正在核查…"},
    "js_status": {"en": "Status", "zh": "状态"},
    "js_open": {"en": "Open the report", "zh": "打开报告"},
    "js_rejected": {"en": "See why it was rejected", "zh": "查看拒收原因"},
    "js_choose": {"en": "Choose at least one document.", "zh": "请至少选择一个文件。"},
    "js_interrupted": {
        "en": "The upload was interrupted; try again.",
        "zh": "上传中断，请重试。",
    },
    "js_failed": {"en": "Upload failed (HTTP {status}).", "zh": "上传失败（HTTP {status}）。"},
    "js_unknown_country": {
        "en": "Not in the list of countries: give a code (DE) or a name (Germany, 德国).",
        "zh": "国家列表中没有此项：请填写代码（DE）或名称（Germany、德国）。",
    },
}

LANGUAGES: tuple[str, ...] = LANGS  # the languages of the app's pages are the report's


def word(key: str, lang: str) -> str:
    """One word of the app in `lang` (English when the language is unknown)."""
    entry = WORDS[key]
    return entry.get(lang) or entry["en"]


def script_words(lang: str) -> dict[str, str]:
    """The words the page scripts show (`js_` keys without the prefix, statuses, verdicts)."""
    found = {k[3:]: word(k, lang) for k in WORDS if k.startswith("js_")}
    found.update({k: word(k, lang) for k in WORDS if k.startswith(("status_", "verdict_"))})
    return found
