"""What each finding code says, in English and Chinese, with a fix hint in both.

Texts are `str.format` templates filled from the finding's values. A finding code, once
shipped, is never renamed: clients filter on it. Wording may change.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Text:
    """The message and fix hint of one finding code, in both languages."""

    en: str
    zh: str
    fix_en: str
    fix_zh: str


class _Values(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return ""


_FORMATTER = string.Formatter()


def format_message(template: str, values: Mapping[str, object]) -> str:
    """Fill a template; an absent value renders empty instead of raising."""
    return _FORMATTER.vformat(template, (), _Values(values)).strip()


def placeholders(template: str) -> set[str]:
    """The value names a template uses."""
    return {name for _, name, _, _ in _FORMATTER.parse(template) if name}


MESSAGES: dict[str, Text] = {
    # identifiers
    "CODE_SYNTAX_INVALID": Text(
        "Code is not a valid {scheme} code: {detail} ({problem}).",
        "编码不是有效的 {scheme} 编码：{detail}（{problem}）。",
        "Re-scan or re-type the code from the battery label.{hint_en}",
        "请按电池标签重新扫描或录入编码。{hint_zh}",
    ),
    "CHECK_DIGIT_INVALID": Text(
        "Check digit is wrong: {detail}.",
        "校验位错误：{detail}。",
        "A digit was mistyped; copy the code again from the label.{hint_en}",
        "有数字录入错误，请按标签重新录入。{hint_zh}",
    ),
    "UNIT_IDENTIFIER_MISSING": Text(
        "GTIN {gtin} without a serial number on {count} line(s): it names a battery model or "
        "lot, not a battery.",
        "GTIN {gtin} 在 {count} 行中没有序列号：只能标识电池型号或批次，不能标识单个电池。",
        "List each battery's GTIN + serial (AI 21) or its GB/T code.",
        "请列出每个电池的 GTIN + 序列号（AI 21）或其国标编码。",
    ),
    "GB_DATE_IN_FUTURE": Text(
        "GB/T production date {date} lies after today ({today}).",
        "国标编码中的生产日期 {date} 晚于今天（{today}）。",
        "Check the date characters of the code (positions 15-17).",
        "请核对编码第 15-17 位日期代码。",
    ),
    "GB_DATE_MISMATCH": Text(
        "GB/T production date {date} differs from the registered manufacturing date {registered}.",
        "国标编码中的生产日期 {date} 与备案的生产日期 {registered} 不一致。",
        "Correct the code or the registration record.",
        "请更正编码或备案记录。",
    ),
    "GB45565_TYPE_NOT_ESS": Text(
        "GB/T 45565 type letter {type_letter} is not an energy-storage type, but the unit is "
        "registered as {category}.",
        "GB/T 45565 产品类型代码 {type_letter} 不是储能类型，但该电池备案类别为 {category}。",
        "Energy-storage units use type H (module), J (cluster) or K (system).",
        "储能产品应使用类型代码 H（模组）、J（簇）或 K（系统）。",
    ),
    "LABEL_CODES_DIFFERENT_RECORDS": Text(
        "GS1 code {gs1} and GB/T code {gb} on the same label belong to different records "
        "({record_a} / {record_b}).",
        "同一标签上的 GS1 编码 {gs1} 与国标编码 {gb} 对应不同的备案记录"
        "（{record_a} / {record_b}）。",
        "Re-label the battery so both codes identify the same unit.",
        "请重新贴标，使两个编码指向同一电池。",
    ),
    "SSCC_DUPLICATE": Text(
        "SSCC {sscc} is used on {count} places for different pallets.",
        "SSCC {sscc} 在 {count} 处用于不同托盘。",
        "Give each pallet or carton its own SSCC.",
        "每个托盘或箱子应有自己的 SSCC。",
    ),
    "LOW_READ_CONFIDENCE": Text(
        "Code was read with low confidence ({confidence} < {threshold}).",
        "编码识别置信度低（{confidence} < {threshold}）。",
        "Compare the code with the document or label by eye.",
        "请人工核对文件或标签上的编码。",
    ),
    "CODE_REPAIRED": Text(
        "Code was repaired while reading: {detail}.",
        "读取时对编码做了修复：{detail}。",
        "Check that the repaired code is what the label says.",
        "请确认修复后的编码与标签一致。",
    ),
    # registration
    "UNIT_NOT_REGISTERED": Text(
        "Unit {unit} is not registered on the platform.",
        "电池 {unit} 未在平台备案。",
        "Register the unit before export, or correct the code.{hint_en}",
        "请在出口前完成备案，或更正编码。{hint_zh}",
    ),
    "REGISTRATION_STATUS_BLOCKING": Text(
        "Registration of {unit} is {status} {reason}.",
        "{unit} 的备案状态为 {status} {reason}。",
        "Only registered units may be exported; clear the status with the platform.",
        "只有状态为已备案的电池可以出口，请先在平台处理该状态。",
    ),
    "REGISTRATION_PENDING_REVIEW": Text(
        "Registration of {unit} is pending manual review.",
        "{unit} 的备案正在人工审核中。",
        "Wait for the review to finish, then check again.",
        "请等待审核完成后重新检查。",
    ),
    "REGISTRATION_NEEDS_CORRECTION": Text(
        "Registration of {unit} needs correction (missing: {missing}); the grace period does not "
        "apply.",
        "{unit} 的备案需要更正（缺少：{missing}），不适用宽限期。",
        "Complete the missing fields on the platform before export.",
        "请在出口前于平台补全缺失字段。",
    ),
    "REGISTRATION_GRACE_PERIOD": Text(
        "Registration of {unit} lacks minor fields ({missing}); accepted under the grace period "
        "until {grace_until}.",
        "{unit} 的备案缺少次要字段（{missing}），宽限期内可接受，截止 {grace_until}。",
        "Complete the fields before {grace_until}.",
        "请在 {grace_until} 前补全这些字段。",
    ),
    "LOT_MISMATCH": Text(
        "Lot {stated} differs from the registered lot {registered}.",
        "批次号 {stated} 与备案批次号 {registered} 不一致。",
        "Correct the lot on the manifest or on the registration.",
        "请更正清单或备案中的批次号。",
    ),
    "CATEGORY_OUT_OF_SCOPE": Text(
        "{count} unit(s) registered as {category}: outside the platform's scope.",
        "{count} 个电池备案类别为 {category}，不在平台范围内。",
        "No registration duty under the platform policy; keep the record.",
        "按平台政策无需备案，请保留记录。",
    ),
    "CATEGORY_UNKNOWN": Text(
        "{count} unit(s) have no registered category; scope cannot be decided.",
        "{count} 个电池没有备案类别，无法判断是否在范围内。",
        "Complete the category on the registration record.",
        "请在备案记录中补全产品类别。",
    ),
    "DESTINATION_MISMATCH": Text(
        "Destination {stated} differs from the registered export destination {registered}.",
        "目的国 {stated} 与备案的出口目的国 {registered} 不一致。",
        "Correct the destination on the documents or update the registration.",
        "请更正单据上的目的国或更新备案。",
    ),
    "MODEL_MISMATCH": Text(
        "Line {line}: model {stated} differs from the registered model {registered} "
        "({count} unit(s)).",
        "第 {line} 行：型号 {stated} 与备案型号 {registered} 不一致（{count} 个电池）。",
        "Correct the model on the line, or check the codes listed on it.",
        "请更正该行型号，或核对该行所列编码。",
    ),
    "MODEL_MISSING": Text(
        "{count} line(s) with registered units state no model.",
        "{count} 行已备案电池未填写型号。",
        "Add the model column so it can be compared with the registration.",
        "请补充型号列，以便与备案比对。",
    ),
    "EXPORTER_MISMATCH": Text(
        "Shipper {stated} is not the registered exporter {registered} ({count} unit(s)).",
        "发货人 {stated} 不是备案出口商 {registered}（{count} 个电池）。",
        "Ship under the registered exporter or update the registration.",
        "请由备案出口商发货，或更新备案。",
    ),
    "LEVEL_MISMATCH": Text(
        "Line {line} describes {stated}, but the units are registered as {registered}.",
        "第 {line} 行描述为 {stated}，但电池备案层级为 {registered}。",
        "Correct the description or check the codes on the line.",
        "请更正品名描述或核对该行编码。",
    ),
    "ENERGY_MISMATCH": Text(
        "Line {line}: rated energy {stated} kWh differs from the registered {registered} kWh "
        "by more than {tolerance_pct} %.",
        "第 {line} 行：额定能量 {stated} kWh 与备案 {registered} kWh 相差超过 {tolerance_pct}%。",
        "Correct the rated energy or check the model.",
        "请更正额定能量或核对型号。",
    ),
    "MASS_MISMATCH": Text(
        "Line {line}: net mass per unit {stated} kg differs from the registered {registered} kg "
        "by more than {tolerance_pct} %.",
        "第 {line} 行：单件净重 {stated} kg 与备案 {registered} kg 相差超过 {tolerance_pct}%。",
        "Check the net weight and quantity of the line.",
        "请核对该行净重与数量。",
    ),
    "UNITS_UNVERIFIED": Text(
        "{count} unit(s) could not be verified ({reasons}; answers from: {source}).",
        "{count} 个电池无法核验（{reasons}；来源：{source}）。",
        "Check again when the platform answers, or pass a registry file (--registry).",
        "请在平台恢复后重新检查，或提供备案文件（--registry）。",
    ),
    "LOOKUP_AGE": Text(
        "Registration answers of {checked_at} are {hours} h old on the declaration date "
        "{declared_on} (more than {max_hours} h).",
        "备案核验结果（{checked_at}）到申报日 {declared_on} 已有 {hours} 小时（超过 "
        "{max_hours} 小时）。",
        "Run the check again shortly before submission.",
        "请在申报前重新核验。",
    ),
    # manifest
    "DOCUMENT_REJECTED": Text(
        "Document {document} could not be used: {detail}",
        "文件 {document} 无法使用：{detail}",
        "Send the document again as a readable XLSX, CSV or PDF.",
        "请重新提供可读取的 XLSX、CSV 或 PDF 文件。",
    ),
    "DOCUMENT_PROBLEM": Text(
        "{document}: {detail} ({kind}, {count} place(s)).",
        "{document}：{detail}（{kind}，{count} 处）。",
        "Correct the document at the places listed and send it again.",
        "请更正所列位置后重新提交文件。",
    ),
    "DUPLICATE_UNIT_CODE": Text(
        "Unit {unit} appears {count} times in the shipment.",
        "电池 {unit} 在本票货物中出现 {count} 次。",
        "Each battery may be listed once; remove the copies or correct the codes.",
        "每个电池只能列出一次，请删除重复项或更正编码。",
    ),
    "UNIT_ALREADY_DECLARED": Text(
        "Unit {unit} was already declared for export ({earlier}).",
        "电池 {unit} 已在先前出口中申报（{earlier}）。",
        "A code cannot be exported twice; check for a copied list or mark a re-export.",
        "同一编码不能重复出口，请检查是否复制了清单，或标注为复出口。",
    ),
    "QUANTITY_CODE_COUNT_MISMATCH": Text(
        "Line {line}: quantity {quantity} but {codes} unit code(s) listed.",
        "第 {line} 行：数量为 {quantity}，但列出了 {codes} 个电池编码。",
        "Make the quantity equal the number of battery codes on the line.",
        "请使数量与该行电池编码个数一致。",
    ),
    "LINES_WITHOUT_CODES": Text(
        "{count} line(s) list no battery codes, and no serial list was found.",
        "{count} 行没有电池编码，也没有找到序列号清单。",
        "Attach the serial list or the label photos of these lines.",
        "请附上这些行的序列号清单或标签照片。",
    ),
    "NO_UNIT_CODES": Text(
        "No battery unit codes were found in the shipment's documents.",
        "本票货物的单据中没有找到任何电池编码。",
        "Attach the serial list, or the labels, of the batteries shipped.",
        "请附上所发电池的序列号清单或标签。",
    ),
    "NET_EXCEEDS_GROSS": Text(
        "Line {line}: net weight {net} kg exceeds gross weight {gross} kg.",
        "第 {line} 行：净重 {net} kg 大于毛重 {gross} kg。",
        "Swap or correct the weights.",
        "请互换或更正净重与毛重。",
    ),
    "WEIGHT_TOTAL_MISMATCH": Text(
        "{document}: stated {field} {stated} differs from the sum of the lines {computed}.",
        "{document}：合计 {field} {stated} 与各行之和 {computed} 不一致。",
        "Correct the total or the line weights.",
        "请更正合计或各行重量。",
    ),
    "QUANTITY_TOTAL_MISMATCH": Text(
        "{document}: stated total quantity {stated} differs from the sum of the lines {computed}.",
        "{document}：合计数量 {stated} 与各行数量之和 {computed} 不一致。",
        "Correct the totals row or the line quantities.",
        "请更正合计行或各行数量。",
    ),
    "PACKAGE_TOTAL_MISMATCH": Text(
        "{document}: stated total packages {stated} differ from the packages of the lines "
        "{computed}.",
        "{document}：合计件数 {stated} 与各行件数 {computed} 不一致。",
        "Correct the total number of packages, or the packages per line.",
        "请更正合计件数或各行件数。",
    ),
    "NUMBER_INVALID": Text(
        "Line {line}: {field} {value} is not a usable number; a quantity or weight is a finite "
        "number of zero or more.",
        "第 {line} 行：{field} {value} 不是可用的数值；数量和重量须为不小于零的有限数。",
        "Enter the real figure in the cell.",
        "请在该单元格填写实际数值。",
    ),
    "QUANTITY_NOT_WHOLE": Text(
        "Line {line}: quantity {value} {unit} is not a whole number of units.",
        "第 {line} 行：数量 {value} {unit} 不是整数件数。",
        "Count whole batteries, or state the unit the quantity is measured in.",
        "请按整件电池计数，或注明数量的计量单位。",
    ),
    "NUMBER_IMPLAUSIBLE": Text(
        "Line {line}: {field} {value} exceeds the plausible maximum of {limit} for one line.",
        "第 {line} 行：{field} {value} 超过单行合理上限 {limit}。",
        "Check the figure: a misplaced decimal point or a code typed into the cell.",
        "请核对数值：可能小数点错位，或误将编码填入该单元格。",
    ),
    "REQUIRED_FIELD_MISSING": Text(
        "Required field {field} is missing ({count} place(s)).",
        "缺少必填字段 {field}（{count} 处）。",
        "Fill in {field} on the manifest.",
        "请在清单中填写 {field}。",
    ),
    "COUNTRY_CODE_INVALID": Text(
        "{field} {value} is not an ISO 3166 country code.",
        "{field} {value} 不是 ISO 3166 国家代码。",
        "Use the two-letter ISO 3166 code, e.g. DE for Germany.",
        "请使用两位 ISO 3166 代码，例如德国为 DE。",
    ),
    "PORT_CODE_INVALID": Text(
        "{field} {value} is not a valid UN/LOCODE.",
        "{field} {value} 不是有效的 UN/LOCODE 港口代码。",
        "Use the five-character UN/LOCODE, e.g. CNSHA for Shanghai.",
        "请使用五位 UN/LOCODE，例如上海为 CNSHA。",
    ),
    "DESTINATION_INCONSISTENT": Text(
        "The documents name different destinations: {values}.",
        "各单据的目的国不一致：{values}。",
        "Make invoice, packing list and declaration name the same destination.",
        "请使发票、装箱单与报关单的目的国一致。",
    ),
    "DOCUMENT_TOTALS_DIFFER": Text(
        "The documents give different total quantities ({totals}).",
        "各单据的总数量不一致（{totals}）。",
        "Make invoice and packing list list the same goods.",
        "请使发票与装箱单所列货物一致。",
    ),
    "MIXED_SCOPE_SHIPMENT": Text(
        "{outside} line(s) are outside the platform's scope, {inside} inside: a mixed shipment.",
        "{outside} 行不在平台范围内，{inside} 行在范围内：混装货物。",
        "Check each line's registration duty separately.",
        "请逐行确认备案义务。",
    ),
    "PACKAGE_CODE_COUNT_MISMATCH": Text(
        "{kind} {package}: quantity {quantity} but {codes} unit code(s) listed.",
        "{kind} {package}：数量 {quantity}，但列出 {codes} 个电池编码。",
        "Make the package's quantities equal the battery codes packed in it.",
        "请使包装内的数量与所装电池编码数一致。",
    ),
    "UNIT_IN_SEVERAL_PACKAGES": Text(
        "{count} unit(s) are packed differently by different documents, e.g. {unit} in {packages}.",
        "{count} 个电池在不同文件中的包装不一致，例如 {unit}：{packages}。",
        "Each battery is packed once: keep it under one carton or pallet.",
        "每个电池只能装在一个包装内：请只保留一个箱号或托盘号。",
    ),
    "UNITS_WITHOUT_PACKAGE": Text(
        "{count} line(s) with battery codes name no carton or pallet, while other lines do.",
        "{count} 行有电池编码但未注明箱号或托盘号，而其他行已注明。",
        "Give every line its carton or pallet number.",
        "请为每一行注明箱号或托盘号。",
    ),
    "PACKAGE_RANGE_COUNT_MISMATCH": Text(
        "Line {line}: package range {range} holds {counted} package(s) but {stated} are stated.",
        "序号 {line}：箱号范围 {range} 共 {counted} 件，但件数写为 {stated}。",
        "Correct the package range or the number of packages.",
        "请更正箱号范围或件数。",
    ),
    # customs
    "HS_HEADING_CONFLICT": Text(
        "Line {line}: HS code {stated} does not fit {chemistry} batteries (expected {expected}).",
        "第 {line} 行：HS 编码 {stated} 与 {chemistry} 电池不符（应为 {expected}）。",
        "Classify the batteries under {expected}.",
        "请归入 {expected}。",
    ),
    "HS_SUBHEADING_MISMATCH": Text(
        "Line {line}: HS code {stated}, but a registered {category} {level} usually takes "
        "{expected}.",
        "第 {line} 行：HS 编码为 {stated}，但备案为 {category} {level} 的产品通常归入 {expected}。",
        "Check the 10-digit tariff line with the broker.",
        "请与报关行核对十位商品编码。",
    ),
    "EXPORT_CONTROL_LICENCE": Text(
        "Model {model}: {value} Wh/kg is at or above {threshold} Wh/kg: a dual-use export "
        "licence is required.",
        "型号 {model}：比能量 {value} Wh/kg 不低于 {threshold} Wh/kg，需两用物项出口许可。",
        "Obtain the licence and add the dual-use remark (属于两用物项) to the declaration.",
        "请取得许可证，并在报关单备注“属于两用物项”。",
    ),
    "EXPORT_CONTROL_SUSPENDED": Text(
        "Model {model}: {value} Wh/kg is at or above {threshold} Wh/kg; the control is "
        "suspended until {until}.",
        "型号 {model}：比能量 {value} Wh/kg 不低于 {threshold} Wh/kg；管制暂停至 {until}。",
        "Ship before the suspension ends or prepare the licence.",
        "请在暂停期内出运或提前准备许可证。",
    ),
    "EXPORT_CONTROL_NEAR_THRESHOLD": Text(
        "Model {model}: {value} Wh/kg is close to the {threshold} Wh/kg control threshold.",
        "型号 {model}：比能量 {value} Wh/kg 接近 {threshold} Wh/kg 管制阈值。",
        'State "not a controlled item" (不属于管制物项) with the parameters on the declaration.',
        "请在报关单注明“不属于管制物项”并列明参数。",
    ),
    "DG_PACKAGING_CERT_MISSING": Text(
        "{count} line(s) of {un_numbers} name no DG packaging appraisal (危包证).",
        "{count} 行 {un_numbers} 货物未提供危险货物包装使用鉴定结果单（危包证）。",
        "Obtain the appraisal from the local customs and cite its number.",
        "请向当地海关申请危包证并注明编号。",
    ),
    "DECLARATION_ELEMENTS_INCOMPLETE": Text(
        "Model {model} (HS {hs}, line(s) {lines}): declaration elements missing: {missing}.",
        "型号 {model}（HS {hs}，序号 {lines}）：申报要素不全，缺少 {missing}。",
        "Complete the declaration elements: {missing}.",
        "请补全申报要素：{hint_zh}。",
    ),
    "DECLARATION_ELEMENTS_NOT_PROVIDED": Text(
        "{count} line(s) under heading 8507 carry no declaration elements; the declaration "
        "needs: {elements}.",
        "{count} 行 8507 品目货物未列明申报要素；报关单需要：{elements}。",
        "Prepare the declaration elements for the customs declaration (brand type, "
        "preference, use, electrode material, specific energy, brand, model, capacity, "
        "mercury, rated voltage, GTIN, CAS).",
        "请为报关单准备申报要素：{hint_zh}。",
    ),
    "DECLARATION_GTIN_MISMATCH": Text(
        "Model {model} (HS {hs}, line(s) {lines}): declared GTIN {stated} differs from the "
        "GTIN {decoded} of the battery codes.",
        "型号 {model}（HS {hs}，序号 {lines}）：申报要素中的 GTIN {stated} 与电池编码中的 "
        "GTIN {decoded} 不一致。",
        "Declare the GTIN printed in the batteries' codes, or split the item by GTIN.",
        "请申报电池编码中的 GTIN，或按 GTIN 拆分申报项。",
    ),
    "VAT_REBATE_RATE": Text(
        "Export VAT rebate for batteries on {date}: {rate}.",
        "{date} 电池出口退税率：{rate}。",
        "No action; for cost planning.",
        "无需处理，供成本核算参考。",
    ),
    # dangerous goods
    "UN_NUMBER_NOT_BATTERY": Text(
        "Line {line}: {stated} is not a battery UN number.",
        "第 {line} 行：{stated} 不是电池类 UN 编号。",
        "Use UN3480 (loose Li-ion), UN3481 (with equipment), UN3536 (in a container unit)...",
        "请使用 UN3480（单独运输锂离子电池）、UN3481（随设备）、UN3536（装于货物运输组件）等。",
    ),
    "UN_NUMBER_MISMATCH": Text(
        "Line {line}: {stated} does not fit a registered {category} ({chemistry}); expected "
        "{expected}.",
        "第 {line} 行：{stated} 与备案的 {category}（{chemistry}）不符，应为 {expected}。",
        "Correct the UN number and the DG declaration.",
        "请更正 UN 编号及危险品申报。",
    ),
    "UN_NUMBER_MISSING": Text(
        "{count} battery line(s) state no UN number.",
        "{count} 行电池货物未注明 UN 编号。",
        "Add the UN number (e.g. UN3480) to each battery line.",
        "请为每行电池货物注明 UN 编号（如 UN3480）。",
    ),
    "UN38_3_SUMMARY_MISSING": Text(
        "Model {model}: no UN38.3 test summary on record ({count} unit(s)).",
        "型号 {model}：没有 UN38.3 测试概要记录（{count} 个电池）。",
        "Attach the UN38.3 test summary for this model.",
        "请附上该型号的 UN38.3 测试概要。",
    ),
    "AIR_UN3536_FORBIDDEN": Text(
        "Line {line}: UN3536 (batteries installed in a cargo transport unit) is not allowed "
        "by air.",
        "第 {line} 行：UN3536（装于货物运输组件中的电池）不得空运。",
        "Ship by sea, road or rail.",
        "请改用海运、公路或铁路运输。",
    ),
    "AIR_CARGO_AIRCRAFT_ONLY": Text(
        "Line {line}: UN3480 by air is cargo aircraft only.",
        "第 {line} 行：UN3480 空运仅限货机。",
        "Book on a cargo aircraft and mark the packages CAO.",
        "请订货机舱位，并在包装上标注仅限货机。",
    ),
    "AIR_PACKAGE_OVER_LIMIT": Text(
        "Line {line}: {net} kg net per package exceeds {limit} kg for air.",
        "第 {line} 行：每件净重 {net} kg 超过空运限值 {limit} kg。",
        "Obtain approval (SP A99) or ship by sea.",
        "请申请批准（A99）或改为海运。",
    ),
    "AIR_SOC_NOT_STATED": Text(
        "Line {line}: state of charge is not stated for lithium-ion batteries by air.",
        "第 {line} 行：空运锂离子电池未注明荷电状态。",
        "State the state of charge (30 % or less).",
        "请注明荷电状态（不超过 30%）。",
    ),
    "AIR_SOC_TOO_HIGH": Text(
        "Line {line}: state of charge {stated} % exceeds {limit} % for air.",
        "第 {line} 行：荷电状态 {stated}% 超过空运限值 {limit}%。",
        "Discharge to 30 % or less, or ship by sea.",
        "请放电至 30% 以下，或改为海运。",
    ),
    "WH_RATING_MISSING": Text(
        "{count} battery line(s) have no Wh rating on the manifest or record.",
        "{count} 行电池在清单或备案中没有瓦时额定值。",
        "Add the Wh rating (rated energy) of each battery.",
        "请补充每个电池的瓦时额定值（额定能量）。",
    ),
    "SPECIAL_BATTERY": Text(
        "Line {line}: {kind} batteries ({provision}) need special packing and approval.",
        "第 {line} 行：{kind} 电池（{provision}）需特殊包装并经批准。",
        "Use the packing instruction of {provision}; damaged batteries may not go by air.",
        "请按 {provision} 的包装要求处理；损坏电池不得空运。",
    ),
    "DG_DECLARATION_NOT_PROVIDED": Text(
        "No dangerous-goods declaration among the documents; the {form} must match: {figures}.",
        "文件中没有危险货物申报单；{form} 须与以下数据一致：{figures}。",
        "Attach the dangerous-goods declaration, or check it against these figures.",
        "请附上危险货物申报单，或按以上数据核对。",
    ),
    "DG_DECLARATION_INCONSISTENT": Text(
        "Documents disagree on the dangerous-goods {field}: {values}.",
        "各文件的危险货物数据（{field}）不一致：{values}。",
        "Make the DG declaration, packing list and invoice state the same {field}.",
        "请使危险货物申报单、装箱单和发票的数据一致。",
    ),
    "SDS_REFERENCE_MISSING": Text(
        "No safety data sheet (SDS/MSDS) is cited for {un_numbers}.",
        "{un_numbers} 货物未注明安全技术说明书（SDS/MSDS）。",
        "Attach the SDS of each battery model or cite its number.",
        "请附上各型号电池的安全技术说明书或注明编号。",
    ),
    # EU
    "EU_ENTRY_SUMMARY_DATA": Text(
        "{count} EU-bound line(s) lack a 6-digit HS code or a precise description for the "
        "ICS2 entry summary.",
        "{count} 行发往欧盟的货物缺少六位 HS 编码或具体品名（ICS2 入境摘要申报需要）。",
        'Give the 6-digit HS code and a description such as "lithium-ion battery pack, 75 kWh".',
        "请提供六位 HS 编码及具体品名，如“锂离子电池包 75 kWh”。",
    ),
    "EU_CATEGORY": Text(
        "Model {model}: EU category {category}, above 2 kWh: {above_2kwh} ({count} unit(s)).",
        "型号 {model}：欧盟电池类别 {category}，是否超过 2 kWh：{above_2kwh}（{count} 个电池）。",
        "No action; obligations in the EU follow from the category.",
        "无需处理；欧盟义务取决于类别。",
    ),
    "EU_PASSPORT_MISSING": Text(
        "Model {model}: no unique identifier and battery passport on record ({count} unit(s)); "
        "required from {applies_from}.",
        "型号 {model}：没有唯一标识符和电池护照记录（{count} 个电池），自 {applies_from} 起强制。",
        "Create the battery passport and link it with a QR code on each battery.",
        "请建立电池护照，并在每个电池上以二维码链接。",
    ),
    "EU_DOC_CE_MISSING": Text(
        "Model {model}: EU declaration of conformity or CE marking not on record "
        "({count} unit(s)).",
        "型号 {model}：没有欧盟符合性声明或 CE 标志记录（{count} 个电池）。",
        "Provide the EU DoC and confirm the CE marking.",
        "请提供欧盟符合性声明并确认 CE 标志。",
    ),
    "EU_CARBON_FOOTPRINT_MISSING": Text(
        "Model {model}: no carbon-footprint declaration on record ({count} unit(s)).",
        "型号 {model}：没有碳足迹声明记录（{count} 个电池）。",
        "Provide the carbon-footprint declaration.",
        "请提供碳足迹声明。",
    ),
    "EU_EORI_MISSING": Text(
        "Shipment to {destination}: the consignee's EORI number is not stated.",
        "发往 {destination} 的货物未注明收货人 EORI 号。",
        "Add the EU importer's EORI number to the consignee.",
        "请在收货人信息中补充欧盟进口商 EORI 号。",
    ),
    "EU_RESIDENTIAL_ESS_INDUSTRIAL": Text(
        "{count} residential storage unit(s) to the EU: an industrial battery (SBESS) there.",
        "{count} 个户用储能电池发往欧盟：在欧盟属于工业电池（固定式储能系统）。",
        "Apply the EU industrial-battery duties (passport above 2 kWh, DoC, CE).",
        "请履行欧盟工业电池义务（超过 2 kWh 需护照、符合性声明、CE）。",
    ),
    "EU_LABEL_DATA_MISSING": Text(
        "Model {model}: label data of Annex VI Part A not on record: {missing} "
        "({count} unit(s)); required from {applies_from}.",
        "型号 {model}：缺少附件 VI A 部分标签信息：{missing}（{count} 个电池）；"
        "自 {applies_from} 起必须提供。",
        "Complete the label data (manufacturer, category, model, date of manufacture, "
        "weight, capacity, chemistry) in the registration.",
        "请在备案中补全标签信息（制造商、类别、型号、生产日期、重量、容量、化学体系）。",
    ),
    "EU_DUE_DILIGENCE": Text(
        "{count} unit(s) to the EU: battery due diligence (Art. 48) applies from "
        "{applies_from} to operators above the turnover threshold.",
        "{count} 个电池发往欧盟：自 {applies_from} 起，营业额超过门槛的经营者须履行电池"
        "供应链尽职调查义务（第 48 条）。",
        "Ask the EU importer whether the obligation applies and keep the due-diligence "
        "report reference with the shipment.",
        "请与欧盟进口商确认是否适用，并随货保存尽职调查报告编号。",
    ),
    # governance
    "RULESET_AND_PLATFORM": Text(
        "Checked with ruleset {ruleset}, platform contract {contract}, answers from {source}.",
        "规则集 {ruleset}，平台接口 {contract}，核验来源：{source}。",
        "No action.",
        "无需处理。",
    ),
    "SIMULATED_PLATFORM": Text(
        "Registration answers came from the platform simulator, not the real platform.",
        "备案核验结果来自平台模拟器，并非真实平台。",
        "Check again against the real platform before submission.",
        "申报前请对真实平台重新核验。",
    ),
}
