"""The engine's problems in Chinese, rendered from the problem code and its parameters.

The engine states every problem in English (`Problem.message`) and keeps the facts it was said
with (`Problem.params`: the AI, the value, the wrong character). A reader of Chinese gets a text
made from the code and those facts; a code without a Chinese text falls back to a general
sentence naming the characters at the problem's span, never to the English message.
"""

from __future__ import annotations

import string

from gateway.domain import Problem

# {ai}, {value}, {char}, {most}, {least}, {got}, {first}, {other}, {wanted}, {kind} come from
# Problem.params; {chars} is the text at the problem's span.
ZH: dict[str, str] = {
    "INCORRECT_CHECK_DIGIT": "{subject}校验位不正确：'{value}'",
    "INCORRECT_CHECK_PAIR": "{subject}校验字符对不正确：'{value}'",
    "INVALID_DATE": "{subject}日期无效（月或日超出范围）：'{value}'",
    "INVALID_TIME": "{subject}时间无效（时、分或秒超出范围）：'{value}'",
    "INVALID_VALUE": "{subject}数值不符合规定：'{value}'",
    "INVALID_PIECE_OF_TOTAL": "{subject}件号或总件数无效：'{value}'",
    "UNKNOWN_COUNTRY_CODE": "{subject}国家代码未知：'{value}'",
    "UNKNOWN_CURRENCY_CODE": "{subject}币种代码未知：'{value}'",
    "INVALID_COMPANY_PREFIX": "{subject}厂商识别代码无效：'{value}'",
    "EMPTY_VALUE": "{subject}数据为空",
    "WRONG_LENGTH": "{subject}长度不符：'{value}'{length}",
    "TOO_LONG": "{subject}过长：'{value}'{length}",
    "NON_NUMERIC": "{subject}应为数字，第 {position} 位是 '{char}'：'{value}'",
    "INVALID_CHARACTER": "{subject}含有不允许的字符 '{char}'（第 {position} 位）：'{value}'",
    "DUPLICATE_AI_CONFLICT": "{subject}出现两次且数据不同：'{first}' 与 '{value}'",
    "UNKNOWN_AI": "无法识别的应用标识符{subject_bare}：'{chars}'",
    "MISSING_ASSOCIATION": "{subject}缺少必须同时出现的应用标识符（{wanted} 之一）",
    "INVALID_PAIR": "{subject}不得与 AI ({other}) 同时出现",
    "MISSING_KEY": "编码中没有所需的标识代码：'{chars}'",
    "MALFORMED_HRI": "括号格式的编码书写有误：'{chars}'",
    "MISPLACED_SEPARATOR": "分隔符（GS）位置不对：'{chars}'",
    "SUPERFLUOUS_SEPARATOR": "末尾多余的分隔符（GS）已忽略",
    "PARENTHESES_IN_SCAN_DATA": "扫描数据中含有括号，条码中不应编入括号：'{chars}'",
    "EMPTY_INPUT": "编码为空",
    "INVALID_INPUT": "输入不是文本",
    "INVALID_UTF8": "编码中含有无法识别的字节",
    "UNSUPPORTED_SYMBOLOGY": "不支持的条码类型标识：'{chars}'",
    "NOT_GS1_SYMBOLOGY": "该条码类型不承载 GS1 数据：'{chars}'",
    "URI_IN_GS1_SYMBOL": "GS1 条码中编入了网址",
    "UNRECOGNIZED": "不是 GS1 编码或国标电池编码：'{chars}'",
    "UNRECOGNISED_FORMAT": "不是 GS1 编码、GS1 数字链接或国标电池编码：'{chars}'",
    "IDENTIFIER_DESTROYED": "编码在录入或转换中已损坏（例如被当作数字四舍五入）：'{chars}'",
    "INTERNAL_ERROR": "系统未能读取该编码",
    "FULLWIDTH_NORMALISED": "全角字符已按半角读取",
    "WHITESPACE_TRIMMED": "首尾空白已去除",
    "HRI_WHITESPACE_REMOVED": "编码中的空格已去除",
    "FNC1_STAND_IN_REPLACED": "代替分隔符的字符已按分隔符（GS）读取：'{chars}'",
    "LEADING_FNC1_REMOVED": "开头的分隔符已去除",
    "GB_NORMALISED": "国标编码已按大写读取",
    "GB_UNKNOWN_CHEMISTRY": "国标编码的化学体系代码 '{chars}' 不在已知代码表中",
    "GB_DATE_UNDECODABLE": "国标编码的生产日期代码 '{chars}' 无法解读",
    "GB_SERIAL_NOT_NUMERIC": "国标编码的序列号 '{chars}' 应为 7 位数字",
    "DL_BAD_SCHEME": "GS1 数字链接的网址协议不对：'{chars}'",
    "DL_EMPTY_HOST": "GS1 数字链接缺少域名",
    "DL_INVALID_HOST": "GS1 数字链接的域名无效：'{chars}'",
    "DL_INVALID_PATH": "GS1 数字链接的路径无效：'{chars}'",
    "DL_NO_PRIMARY_KEY": "GS1 数字链接中没有主标识代码",
    "DL_INVALID_KEY_QUALIFIERS": "GS1 数字链接中标识代码的限定符顺序或组合不对：'{chars}'",
    "DL_UNKNOWN_AI": "GS1 数字链接中有无法识别的应用标识符：'{chars}'",
    "DL_NOT_ATTRIBUTE": "GS1 数字链接的查询部分含有不能作属性的应用标识符：'{chars}'",
    "DL_QUALIFIER_IN_QUERY": "限定符应写在 GS1 数字链接的路径中，而不是查询部分：'{chars}'",
    "DL_DUPLICATE_ATTRIBUTE": "GS1 数字链接中同一属性出现两次：'{chars}'",
    "DL_BAD_PERCENT_ENCODING": "GS1 数字链接的百分号编码有误：'{chars}'",
    "DL_COMPRESSED": "压缩格式的 GS1 数字链接无法读取",
}
_FALLBACK = "编码有误：'{chars}'"


class _Values(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def problem_zh(problem: Problem, raw: str) -> str:
    """The problem as a Chinese sentence, from its code, parameters and span in `raw`."""
    values = _Values(problem.params)
    start, end = problem.span
    values["chars"] = raw[start:end] if end > start else raw
    ai = values.get("ai")
    kind = values.get("kind")
    values["subject"] = f"AI ({ai}) " if ai else (f"{kind} " if kind else "")
    values["subject_bare"] = f" AI ({ai})" if ai else ""
    if "most" in values and "got" in values:
        values["length"] = f"（最多 {values['most']} 位，实际 {values['got']} 位）"
    elif "least" in values and "got" in values:
        values["length"] = f"（至少 {values['least']} 位，实际 {values['got']} 位）"
    if not values.get("value"):
        values["value"] = values["chars"]
    template = ZH.get(problem.code, _FALLBACK)
    return string.Formatter().vformat(template, (), values).strip()


def problem_text(problem: Problem, raw: str, lang: str) -> str:
    """The problem in a language: the engine's own message in English, `problem_zh` in Chinese.

    >>> from gateway.gs1 import decode
    >>> code = decode("(01)09521234543214")
    >>> problem_text(code.problems[0], code.raw, "en")
    "AI (01): the check digit is incorrect: '09521234543214'"
    >>> problem_text(code.problems[0], code.raw, "zh")
    "AI (01) 校验位不正确：'09521234543214'"
    """
    return problem_zh(problem, raw) if lang == "zh" else problem.message.rstrip(".")
