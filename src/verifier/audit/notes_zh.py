"""Why a signed checkpoint, a key or a proof was not accepted (`notes.NoteError`, `merkle.ProofError`), in Chinese:
`audit verify` and `sampling replay` print these to the person at the server. Key ids, names and sizes are kept as
they are (they are copied); a reason the table does not know is said in general words."""

from __future__ import annotations

from ..zhtable import Chinese, compile_table, translate

_TABLE: list[tuple[str, Chinese]] = [
    (r"the verifier key is not usable: (.*)", lambda m: f"验证公钥不可用：{note_zh(m.group(1))}"),
    (r"note is not signed by any known key \(signed by (.*)\)",
     lambda m: f"不是由已知的密钥签名的（签名密钥编号：{m.group(1) or '无'}）"),
    (r"signature by (\S+) \(key (\w+)\) does not verify", lambda m: f"{m.group(1)} 的签名（密钥编号 {m.group(2)}）验证不通过"),
    (r"(.+) is not valid base64", "不是有效的 base64 编码"),
    (r"key name .* must be non-empty, with no spaces and no '\+'", "密钥名称不能为空，不能含空格或 +"),
    (r"an Ed25519 public key is 32 bytes", "Ed25519 公钥应为 32 字节"),
    (r"a verifier key reads <name>\+<key id>\+<base64 key>", "验证公钥的写法应为 名称+密钥编号+base64 公钥"),
    (r"key id (\S+) is not 8 hex digits", lambda m: f"密钥编号 {m.group(1)} 不是 8 位十六进制数"),
    (r"verifier key is not an Ed25519 key .*", "验证公钥不是 Ed25519 公钥"),
    (r"key id (\S+) does not match the key \(expected (\w+)\)",
     lambda m: f"密钥编号 {m.group(1)} 与公钥不符（应为 {m.group(2)}）"),
    (r"a note may not contain control characters other than newline", "签名记录中有换行以外的控制字符"),
    (r"(note|checkpoint) text must end with a newline", "签名记录的正文应以换行结束"),
    (r"a note must be valid UTF-8", "签名记录不是有效的 UTF-8 文本"),
    (r"a note needs a blank line between its text and its signatures", "签名记录的正文与签名之间缺少空行"),
    (r"a note needs signature lines, each ending in a newline", "签名记录缺少签名行"),
    (r"signature line must start with an em dash and a space: .*", "签名行应以破折号“—”和空格开头"),
    (r"signature of (\S+) is too short", lambda m: f"{m.group(1)} 的签名太短"),
    (r"a note may carry at most (\d+) signatures", lambda m: f"一份签名记录最多 {m.group(1)} 个签名"),
    (r"a checkpoint has at least three lines: origin, tree size, root hash", "检查点至少三行：日志名称、长度、根哈希"),
    (r"checkpoint origin is empty", "检查点的日志名称为空"),
    (r"checkpoint tree size .* is not a decimal number without leading zeros", "检查点的日志长度不是十进制整数"),
    (r"checkpoint root hash is not 32 bytes", "检查点的根哈希不是 32 字节"),
    (r"checkpoint extension lines must not be empty", "检查点的扩展行不能为空"),
    (r"inclusion proof is too long", "包含证明过长"),
    (r"inclusion proof is too short", "包含证明过短"),
    (r"inclusion proof leads to a different root", "包含证明得出的根哈希不同"),
    (r"leaf (?:index )?(\d+) is outside a tree of size (\d+)", lambda m: f"第 {m.group(1)} 条不在长度 {m.group(2)} 的日志内"),
    (r"entry (\d+) is outside a tree of size (\d+)", lambda m: f"第 {m.group(1)} 条不在长度 {m.group(2)} 的日志内"),
    (r"stored tree lacks node\(s\) .*", "保存的哈希树缺少节点"),
    (r"(.+)\[(\d+)\] is not a 32-byte hash(?: in hex)?",
     lambda m: f"证明的第 {int(m.group(2)) + 1} 个哈希不是 32 字节（十六进制）"),
    (r"sizes must satisfy 0 <= first <= second, got (\d+) and (\d+)",
     lambda m: f"两个日志长度应满足 0 ≤ 较早 ≤ 较新，这里是 {m.group(1)} 和 {m.group(2)}"),
    (r"a proof between equal sizes must be empty", "两个长度相同时，一致性证明应为空"),
    (r"trees of equal size have different roots", "长度相同的两个日志根哈希不同"),
    (r"a proof from the empty tree must be empty", "从空日志开始的一致性证明应为空"),
    (r"consistency proof is empty", "一致性证明为空"),
    (r"consistency proof is too long", "一致性证明过长"),
    (r"consistency proof is too short", "一致性证明过短"),
    (r"consistency proof does not lead to the (first|second) root",
     lambda m: f"一致性证明得不出{'较早' if m.group(1) == 'first' else '较新'}检查点的根哈希"),
    # the files `audit check-proof` and `audit check-consistency` read (offline.OfflineCheckFailed)
    (r"(the entry file|the proof file) is not JSON: .*", lambda m: f"{_file(m.group(1))}不是有效的 JSON"),
    (r"(the entry file|the proof file) must be a JSON object", lambda m: f"{_file(m.group(1))}应是 JSON 对象（{{...}}）"),
    (r"(the entry file|the proof file): (\w+) must be a non-negative integer",
     lambda m: f"{_file(m.group(1))}：{m.group(2)} 应是非负整数"),
    (r"(\w+) must be a list of hex hashes", lambda m: f"{m.group(1)} 应是十六进制哈希的列表"),
    (r"the entry file's `entry` is not base64", "记录文件的 entry 不是有效的 base64 编码"),
    (r"(the checkpoint|the older checkpoint|the newer checkpoint): (.*)",
     lambda m: f"{_file(m.group(1))}：{note_zh(m.group(2), '签名记录无法验证')}"),
    (r"the proof is for a tree of (\d+) entries but the checkpoint is for (\d+): export the entry again with tree size "
     r"(\d+)", lambda m: f"证明是按长度 {m.group(1)} 的日志给出的，签名检查点的日志长度是 {m.group(2)}：请用 --tree-size "
                         f"{m.group(3)} 重新导出这条记录"),
    (r"the entry's bytes do not hash to the leaf hash given with it", "记录的内容与随附的叶哈希不符"),
    (r"entry (\d+) is not proven to be in the checkpointed log: (.*)",
     lambda m: f"未能证明第 {m.group(1)} 条记录在签名检查点的日志中：{note_zh(m.group(2))}"),
    (r"entry (\d+) is in the log but is not a well-formed entry: .*",
     lambda m: f"第 {m.group(1)} 条记录在日志中，但不是规范格式的记录"),
    (r"the entry at position (\d+) says it is entry (\d+)",
     lambda m: f"日志第 {m.group(1)} 条位置上的记录自称是第 {m.group(2)} 条"),
    (r"the checkpoints are of different logs: (.+) and (.+)",
     lambda m: f"两个签名检查点属于不同的日志：{m.group(1)} 和 {m.group(2)}"),
    (r"the 'older' checkpoint covers (\d+) entries, more than the 'newer' one \((\d+)\): give them in the other order",
     lambda m: f"“较早”的检查点覆盖 {m.group(1)} 条记录，比“较新”的（{m.group(2)} 条）还多：请把两个文件调换顺序"),
    (r"the proof is for (first|second)=(\S+), the checkpoint is for (\d+) entries",
     lambda m: f"证明是按 {m.group(1)}={m.group(2)} 给出的，{'较早' if m.group(1) == 'first' else '较新'}的检查点"
               f"长度是 {m.group(3)}"),
    (r"the log of (\d+) entries is not shown to extend the log of (\d+) entries: (.*)",
     lambda m: f"未能证明长度 {m.group(1)} 的日志是长度 {m.group(2)} 的日志的延续：{note_zh(m.group(3))}"),
    # the signing key's file (`audit public-key`, `audit rotate-key`: store.keys.load_secret)
    (r"key file (.+) is missing: run `verifier init` first",
     lambda m: f"密钥文件 {m.group(1)} 不存在：请先运行 `verifier init`"),
    (r"key file (.+) should hold (\d+) bytes, holds (\d+)",
     lambda m: f"密钥文件 {m.group(1)} 应有 {m.group(2)} 字节，实际有 {m.group(3)} 字节"),
]
_FILES = {"the entry file": "记录文件", "the proof file": "证明文件", "the checkpoint": "签名检查点",
          "the older checkpoint": "较早的签名检查点", "the newer checkpoint": "较新的签名检查点"}


def _file(what: str) -> str:
    return _FILES.get(what, what)


_MESSAGES = compile_table(_TABLE)


def note_zh(message: object, otherwise: str = "无法验证") -> str:
    """A signature, key or proof problem in Chinese; `otherwise` for one the table does not know."""
    said = translate(_MESSAGES, str(message).strip())
    return otherwise if said is None else said
