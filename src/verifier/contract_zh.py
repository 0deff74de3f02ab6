"""What is wrong with a contract file, in Chinese, for the county's administrator who wrote it.

The contract loader (`contract.py`, with the checks it borrows from `domain.causes`, `domain.relief` and
`domain.money`) names each problem's key and says what is wrong in English, which the API keeps; this table turns
each of those messages into Chinese, pattern by pattern like `web.labels`' message table. The key stays as it is
written in the file (`relief[0].bands[1].rate`): that is what the administrator looks for and types.
"""

from __future__ import annotations

from typing import Any

from .zhtable import Chinese, compile_table, translate

# msgspec's names of what a value should be, and what it was.
_TYPES = {"str": "文字（加引号）", "int": "整数", "float": "数", "bool": "true 或 false", "array": "数组（[...]）",
          "object": "表", "date": "日期（如 2026-01-01）", "datetime": "日期时间", "null": "空值", "time": "时刻",
          "decimal": "小数"}
_KINDS = {"cause": "救助原因", "group": "家庭类别"}


def _type(name: str) -> str:
    return _TYPES.get(name, name)


def _list(text: str) -> str:
    return "、".join(part.strip() for part in text.split(","))


def _quoted(text: str) -> str:
    """A value repeated from the file (`'abc'` as Python shows it) in Chinese quotes."""
    return f"“{text[1:-1]}”" if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"" else f"“{text}”"


_TABLE: list[tuple[str, Chinese]] = [
    # The file as a whole.
    (r"not UTF-8 text: .*", "不是 UTF-8 编码的文本：请用 UTF-8 保存合同文件"),
    (r"not valid TOML: (.*?)(?: \(at line (\d+), column (\d+)\))?",
     lambda m: "不是有效的 TOML 格式" + (f"：第 {m.group(2)} 行第 {m.group(3)} 列附近有错" if m.group(2) else "")),
    # Keys and types (contract.py, msgspec).
    (r"unknown key", "没有这个键（拼写有误，或不属于这一节）"),
    (r"missing", "缺少这个必填的键"),
    (r"must be a table", "应是一个表（[节名]）"),
    (r"must be an array of tables \(\[\[(\w+)\]\]\)", lambda m: f"应写成表数组（[[{m.group(1)}]]）"),
    (r"Expected `(\w+)`, got `(\w+)`", lambda m: f"应是{_type(m.group(1))}，这里是{_type(m.group(2))}"),
    (r"Expected `(\w+)`", lambda m: f"应是{_type(m.group(1))}"),
    (r"Expected `(\w+)` of length (<=|>=) (\d+)",
     lambda m: f"应是{_type(m.group(1))}，长度{'不超过' if m.group(2) == '<=' else '至少'} {m.group(3)}"),
    (r"Expected `(\w+)` (<=|>=|<|>) (-?\d+)",
     lambda m: f"应是{_type(m.group(1))}，且{ {'<=': '不大于', '>=': '不小于', '<': '小于', '>': '大于'}[m.group(2)]} "
               f"{m.group(3)}"),
    (r"Invalid enum value (.+)", lambda m: f"不是可选的值：{_quoted(m.group(1))}"),
    (r"Object contains unknown field `(\w+)`", lambda m: f"没有键 {m.group(1)}（拼写有误，或不属于这一节）"),
    (r"Object missing required field `(\w+)`", lambda m: f"缺少必填的键 {m.group(1)}"),
    (r"Invalid RFC3339 encoded date", "日期写法有误，应如 2026-01-01"),
    # The contract's own rules (contract.py).
    (r"must not be empty", "不能为空"),
    (r"at least one county code is needed", "至少要有一个县（区）代码"),
    (r"a county code is six digits, got (.+)", lambda m: f"县（区）代码是 6 位数字，这里是 {_quoted(m.group(1))}"),
    (r"names a county the contract does not cover", "这个县（区）不在合同的 county_codes 里"),
    (r"a county's name has 1 to 50 characters", "县（区）名称应为 1 至 50 个字"),
    (r"ends before it starts", "结束日期早于开始日期"),
    (r"at least one household group is needed", "至少要有一个家庭类别"),
    (r"unknown household group (.+); known: (.*)",
     lambda m: f"没有家庭类别 {_quoted(m.group(1))}；已有：{_list(m.group(2))}"),
    (r"must be at least (\d+)", lambda m: f"至少为 {m.group(1)}"),
    (r"must be from (\d+) to (\d+) days", lambda m: f"应为 {m.group(1)} 至 {m.group(2)} 天"),
    (r"must be between (\d+) and (\d+), got (.+)", lambda m: f"应在 {m.group(1)} 至 {m.group(2)} 之间，这里是 {m.group(3)}"),
    (r"at least one working weekday is needed", "至少要有一个工作日"),
    (r"a weekday is 1 \(Monday\) to 7 \(Sunday\), got (.+)",
     lambda m: f"星期几写作 1（星期一）至 7（星期日），这里是 {m.group(1)}"),
    (r"(\S+) is also listed as a holiday", lambda m: f"{m.group(1)} 同时列在节假日中"),
    (r"must look like \"6\+4\", got (.+)", lambda m: f"应写成“6+4”的样子，这里是 {_quoted(m.group(1))}"),
    (r"may show at most the first 6 and the last 4 digits", "最多显示前 6 位和后 4 位"),
    (r"unknown list (.+); known: (.*)", lambda m: f"没有名单 {_quoted(m.group(1))}；可选：{_list(m.group(2))}"),
    (r"months are 1 to 12, at least one", "月份为 1 至 12，至少一个"),
    (r"a day of the month, 1 to 31 \(the month's last day when shorter\)", "每月的第几日，1 至 31（月份较短时取月末）"),
    (r"the contract prices no relief at all", "合同没有任何救助标准（[[relief]]）"),
    (r"unknown cause (.+); known: (.*)", lambda m: f"没有救助原因 {_quoted(m.group(1))}；已有：{_list(m.group(2))}"),
    (r"unknown basis (.+); known: (.*)", lambda m: f"没有计算基数 {_quoted(m.group(1))}；可选：{_list(m.group(2))}"),
    (r"cause (\S+) is priced on (\S+), not (\S+)",
     lambda m: f"救助原因 {m.group(1)} 的计算基数是 {m.group(2)}，不是 {m.group(3)}"),
    (r"group (.+) is not one of the contract's groups", lambda m: f"家庭类别 {_quoted(m.group(1))} 不在合同的家庭类别中"),
    (r"(\S+) for (\S+) is already priced by (\S+)",
     lambda m: f"{m.group(1)} 对 {m.group(2)} 的救助标准已由 {m.group(3)} 规定"),
    (r"cause (\S+) is declared but has no relief", lambda m: f"救助原因 {m.group(1)} 已声明，但没有救助标准"),
    (r"cause (\S+) has no relief for household group (\S+)",
     lambda m: f"救助原因 {m.group(1)} 对家庭类别 {m.group(2)} 没有救助标准"),
    (r"contract (\S+) overlaps contract (\S+) for county (.+) between (\S+) and (\S+)",
     lambda m: f"服务合同 {m.group(1)} 与 {m.group(2)} 在 {m.group(4)} 至 {m.group(5)} 期间都覆盖县（区）"
               f"{_list(m.group(3))}"),
    (r"contract (\S+) is already loaded with different content \(hash (\S+)\); .*",
     lambda m: f"服务合同 {m.group(1)} 已登记，内容不同（哈希 {m.group(2)}）；合同改动即是新版本：请换一个新的 id"),
    # The vocabulary of causes and groups (domain.causes).
    (r"a (cause|group) code is lower-case letters, digits and _ \(at most (\d+)\), starting with a letter; got (.+)",
     lambda m: f"{_KINDS[m.group(1)]}代码由小写字母、数字和 _ 组成（最多 {m.group(2)} 个），以字母开头；"
               f"这里是 {_quoted(m.group(3))}"),
    (r"(cause|group) code (.+) is already used by (\S+)",
     lambda m: f"{_KINDS[m.group(1)]}代码 {_quoted(m.group(2))} 已被 {m.group(3)} 使用"),
    (r"a (cause|group)'s Chinese name has 1 to 20 characters", lambda m: f"{_KINDS[m.group(1)]}的中文名称应为 1 至 20 个字"),
    (r"a synonym must not be empty", "同义词不能为空"),
    (r"(.+) already names (cause|group) (.+) \((\S+)\)",
     lambda m: f"{_quoted(m.group(1))} 已是{_KINDS[m.group(2)]} {_quoted(m.group(3))}（{m.group(4)}）的名称"),
    (r"unknown channel (.+); known: (.*)", lambda m: f"没有来源渠道 {_quoted(m.group(1))}；可选：{_list(m.group(2))}"),
    (r"a channel is listed twice", "同一来源渠道列了两次"),
    (r"channel (.+) is not among its channels", lambda m: f"来源渠道 {_quoted(m.group(1))} 不在它的 channels 中"),
    (r"a basis label has 1 to 20 characters", "计算基数的名称应为 1 至 20 个字"),
    (r"at least one (cause|group) is needed", lambda m: f"至少要有一个{_KINDS[m.group(1)]}"),
    # A relief rule (domain.relief).
    (r"must name a cause", "应写明救助原因"),
    (r"must be one of (.+), got (.+)", lambda m: f"应是 {_list(m.group(1))} 之一，这里是 {_quoted(m.group(2))}"),
    (r"must name a household group", "应写明家庭类别"),
    (r"must be bracket or marginal, got (.+)", lambda m: f"应是 bracket 或 marginal，这里是 {_quoted(m.group(1))}"),
    (r"must be an amount >= 0", "应是不小于 0 的金额"),
    (r"must be an amount >= 0 when given", "写了就应是不小于 0 的金额"),
    (r"at least one band is required, the last one without upto", "至少要有一档（bands），最后一档不写 upto"),
    (r"only the last band may be open \(without upto\)", "只有最后一档可以不写 upto"),
    (r"the last band must be open \(without upto\)", "最后一档不应写 upto"),
    (r"band bounds must be amounts in strictly ascending order, above 0", "各档的 upto 应是大于 0 的金额，且逐档增大"),
    (r"must be a decimal rate between 0 and 1", "应是 0 至 1 之间的小数比例"),
    (r"in bracket mode a band's rate must not be lower than the band before it", "bracket 方式下每档比例不能低于上一档"),
    # Amounts and rates (domain.money).
    (r"money must be a string of yuan such as \"5200.00\", not a floating-point number",
     "金额应加引号写成元，如 \"5200.00\"，不要写成不带引号的小数"),
    (r"money must be a string of yuan such as \"5200.00\"", "金额应加引号写成元，如 \"5200.00\""),
    (r"not an amount of yuan with at most two decimals: (.+)",
     lambda m: f"不是最多两位小数的元金额：{_quoted(m.group(1))}"),
    (r"must not be negative: (.+)", lambda m: f"不能为负数：{_quoted(m.group(1))}"),
    (r"a rate must be a decimal string such as \"0.15\", not a floating-point number",
     "比例应加引号写成小数，如 \"0.15\"，不要写成不带引号的小数"),
    (r"not a decimal rate: (.+)", lambda m: f"不是小数比例：{_quoted(m.group(1))}"),
    (r"must lie between (\S+) and (\S+), got (\S+)",
     lambda m: f"应在 {m.group(1)} 至 {m.group(2)} 之间，这里是 {m.group(3)}"),
]
_MESSAGES = compile_table(_TABLE)
UNKNOWN = "写法不符合服务合同的要求"


def message_zh(message: str) -> str | None:
    """The Chinese for a contract check's message, None when the table has no pattern for it."""
    return translate(_MESSAGES, message.strip())


def problem_zh(problem: Any, source: str | None = None) -> str:
    """One contract problem (a `FieldError`) as the administrator reads it: 键 relief[0].rate：应是…, or the
    message alone when it is about the whole file (its `field` is the file's name)."""
    text = message_zh(problem.message) or UNKNOWN
    field = problem.field or ""
    if not field or field in {source, "contract"}:
        return text
    if "/" in field or field.endswith(".toml"):  # the file itself (a folder's contracts name their file)
        return f"{field}：{text}"
    return f"键 {field}：{text}"
