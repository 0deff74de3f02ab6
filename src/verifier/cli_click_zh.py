"""click's own words in Chinese: its usage errors (a missing argument, an unknown option, a value not among the
choices) and the headings of `--help`.

click looks up every message it prints through `gettext` (its modules call `_` and `ngettext`, imported from the
standard library). `install()` gives those modules a catalog of Chinese translations instead of the system's
gettext, which would depend on the server's locale and a compiled catalog. A message the catalog does not hold is
printed as click wrote it. `speak_usage()` gives the usage lines' syntax in Chinese too (`用法: verifier import
[选项] 文件`). Option names, command names and what the person types stay as they are.
"""

from __future__ import annotations

import unicodedata

import click.core
import click.decorators
import click.exceptions
import click.formatting
import click.parser
import click.termui
import click.types

# msgid (as click writes it) -> Chinese, with the same {placeholders} (`{value}` where click shows `{value!r}`).
CATALOG = {
    "Aborted!": "已中止。",
    "Options": "选项",
    "Positional arguments": "参数",
    "Commands": "命令",
    "Usage:": "用法:",
    "Missing command.": "缺少子命令。",
    "Error: {message}": "错误：{message}",
    "Try '{command} {option}' for help.": "可运行“{command} {option}”查看说明。",
    "Invalid value: {message}": "取值有误：{message}",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的取值有误：{message}",
    "Missing argument": "缺少参数",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Missing {param_type}": "缺少{param_type}",
    "Missing parameter: {param_name}": "缺少参数：{param_name}",
    "argument": "参数",
    "option": "选项",
    "parameter": "参数",
    "No such option {name!r}.": "没有选项 {name}。",
    "No such command {name!r}.": "没有命令 {name}。",
    "unknown error": "未知错误",
    "Could not open file {filename!r}: {message}": "无法打开文件 {filename}：{message}",
    "Option {name!r} does not take a value.": "选项 {name} 后面不带值。",
    "Argument {name!r} takes {nargs} values.": "参数 {name} 需要 {nargs} 个值。",
    "Choose from:\n\t{choices}": "可选：\n\t{choices}",
    "{value!r} is not a valid {number_type}.": "“{value}”不是有效的数字。",
    "{value} is not in the range {range}.": "{value} 不在范围 {range} 内。",
    "{value!r} is not a valid boolean. Recognized values: {states}": "“{value}”不是有效的是/否值，可用：{states}",
    "{value!r} is not a valid UUID.": "“{value}”不是有效的 UUID。",
    "file": "文件",
    "directory": "目录",
    "path": "路径",
    "{name} {filename!r} does not exist.": "{name} {filename} 不存在。",
    "{name} {filename!r} is a file.": "{name} {filename} 是文件，不是目录。",
    "{name} {filename!r} is a directory.": "{name} {filename} 是目录，不是文件。",
    "{name} {filename!r} is not readable.": "{name} {filename} 无法读取。",
    "{name} {filename!r} is not writable.": "{name} {filename} 无法写入。",
    "{name} {filename!r} is not executable.": "{name} {filename} 无法执行。",
    "env var: {var}": "环境变量：{var}",
    "default: {default}": "默认：{default}",
    "(dynamic)": "（运行时决定）",
    "required": "必填",
    "Show this message and exit.": "显示本说明后退出。",
    "Show the version and exit.": "显示版本后退出。",
    "Do you want to continue?": "是否继续？",
    "Confirm the action without prompting.": "不再询问，直接确认。",
    "Repeat for confirmation": "请再输入一次确认",
    "Error: The two entered values do not match.": "错误：两次输入的不一致。",
    "Error: invalid input": "错误：输入有误",
    "Press any key to continue...": "按任意键继续……",
}
# The plural forms: (singular, plural) -> Chinese (one form serves both).
PLURALS = {
    ("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})"): "多出了参数（{args}）",
    ("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)"):
        ("是不是要输入 {possibility}？", "（是不是要输入其中之一：{possibilities}？）"),
    ("Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments."):
        ("选项 {name} 后面要带一个值。", "选项 {name} 后面要带 {nargs} 个值。"),
    ("{value!r} is not {choice}.", "{value!r} is not one of {choices}."):
        ("“{value}”不是可选的值，只能是 {choice}。", "“{value}”不是可选的值，可选：{choices}。"),
    ("{value!r} does not match the format {format}.", "{value!r} does not match the formats {formats}."):
        ("“{value}”的格式不对，应为 {format}。", "“{value}”的格式不对，应为 {formats} 之一。"),
    ("Takes {nargs} values but 1 was given.", "Takes {nargs} values but {len} were given."):
        "需要 {nargs} 个值，实际给了 {len} 个。",
    ("{len_type} values are required, but {len_value} was given.",
     "{len_type} values are required, but {len_value} were given."): "需要 {len_type} 个值，实际给了 {len_value} 个。",
}
# The usage line's syntax (`用法: verifier import [选项] 文件`): what click writes in English there, in Chinese.
OPTIONS_METAVAR = "[选项]"
SUBCOMMAND_METAVARS = {"COMMAND [ARGS]...": "命令 [参数]...", "[COMMAND] [ARGS]...": "[命令] [参数]..."}
# An argument shown by its name in the code (FILE, NAME, ...): its name in the usage line, its errors and its help.
ARGUMENTS = {
    "file": "文件",
    "files": "文件",
    "name": "用户名",
    "dest": "目标目录",
    "src": "备份目录",
    "round_id": "轮次编号",
    "import_id": "导入编号",
    "index": "序号",
    "first": "较早长度",
    "second": "较新长度",
}
# A value an option takes, shown by its type's name (TEXT, INTEGER): in Chinese. Choices (`[a|b]`), dates'
# formats and paths (文件, 目录: the catalog above) are shown as they are.
TYPES = {"text": "文本", "integer": "整数", "integer range": "整数", "float": "数", "boolean": "是/否"}


def gettext(message: str) -> str:
    return CATALOG.get(message, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    zh = PLURALS.get((singular, plural))
    if zh is None:
        return singular if n == 1 else plural
    return zh if isinstance(zh, str) else zh[0 if n == 1 else 1]


def columns(text: str) -> int:
    """The terminal columns `text` takes (a Chinese character takes two), for `--help`'s table to line up."""
    from click._compat import strip_ansi

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in strip_ansi(text))


def install() -> None:
    """Make click speak Chinese in this process (see the module); idempotent."""
    click.formatting.term_len = columns  # type: ignore[attr-defined]
    for module in (click.core, click.decorators, click.exceptions, click.formatting, click.parser, click.termui,
                   click.types):
        if hasattr(module, "_"):
            module._ = gettext  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext  # type: ignore[attr-defined]


def speak_usage(command: click.core.Command) -> None:
    """Give `command` and every command under it a Chinese usage line: `[选项]`, `命令 [参数]...`, the arguments'
    names (ARGUMENTS) and the option values' types (TYPES). Option and command names stay as they are typed."""
    if command.options_metavar == "[OPTIONS]":
        command.options_metavar = OPTIONS_METAVAR
    for param in command.params:
        if param.metavar is not None:
            continue
        if isinstance(param, click.core.Argument) and param.name in ARGUMENTS:
            name = ARGUMENTS[param.name]
            name = name if param.required else f"[{name}]"
            param.metavar = name + ("..." if param.nargs != 1 else "")
        elif isinstance(param, click.core.Option) and not param.is_flag and param.type.name in TYPES:
            param.metavar = TYPES[param.type.name] + ("..." if param.nargs != 1 else "")
    if isinstance(command, click.core.Group):
        command.subcommand_metavar = SUBCOMMAND_METAVARS.get(command.subcommand_metavar, command.subcommand_metavar)
        for sub in command.commands.values():
            speak_usage(sub)
