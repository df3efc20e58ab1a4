"""YAML for ramp files: a safe loader that remembers line numbers, and a stable dumper.

Loading: PyYAML's safe composer builds nodes (which carry positions); we turn them into
`YMap`/`YList` that remember the line of each key/item and the raw text of each scalar.
Raw text lets text fields accept `answer: 3` or `answer: yes` as the text the author typed
(instead of an int or a bool). Aliases are refused (no billion laughs), duplicate keys are
an error (YAML would silently keep the last), and only plain mappings, lists and scalars are
allowed (no `!!python/...`, `!!set`, `!!binary`).

Dumping: block style, 2-space indented lists, multi-line strings as `|` blocks, chosen short
lists in flow style, numbers-as-text written plain. The output is deterministic, so
export → import → export is byte-identical.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from .specs import RampFileError

MAX_DEPTH = 12
_STR, _MAP, _SEQ = "tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")


class YMap(dict):
    """A YAML mapping: `line` of the mapping, `key_lines[key]`, `raw[key]` (scalar text)."""

    def __init__(self, line: int):
        super().__init__()
        self.line = line
        self.key_lines: dict[str, int] = {}
        self.value_lines: dict[str, int] = {}
        self.raw: dict[str, str] = {}


class YList(list):
    """A YAML sequence: `line` of the sequence, `item_lines[i]`, `raw[i]` (scalar text)."""

    def __init__(self, line: int):
        super().__init__()
        self.line = line
        self.item_lines: list[int] = []
        self.raw: list[str | None] = []


class _NoAliasLoader(yaml.SafeLoader):
    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed in ramp files", event.start_mark
            )
        return super().compose_node(parent, index)


def load_yaml(text: str, file: str, first_line: int = 1) -> YMap:
    """Parse a YAML document that must be a mapping. `first_line` is the file line of the
    text's first line (front matter starts on line 2 of a concept file)."""
    offset = first_line - 1
    try:
        loader = _NoAliasLoader(text)
    except yaml.reader.ReaderError as e:  # a control character, checked before parsing starts
        line = text[: e.position].count("\n") + first_line
        code = e.character if isinstance(e.character, int) else ord(e.character)
        raise RampFileError(file, line, f"contains the control character U+{code:04X}") from None
    try:
        node = loader.get_single_node()
        if node is None:
            raise RampFileError(file, first_line, "is empty; expected a YAML mapping")
        if not isinstance(node, MappingNode):
            raise RampFileError(file, node.start_mark.line + 1 + offset, "expected a YAML mapping")
        return _convert(loader, node, file, offset, 0)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 + offset if mark else first_line
        raise RampFileError(file, line, f"YAML: {e.problem or e.context}") from None
    except yaml.YAMLError as e:
        raise RampFileError(file, first_line, f"YAML: {e}") from None
    except RecursionError:
        raise RampFileError(file, first_line, "YAML nested too deeply") from None
    finally:
        loader.dispose()


def _convert(loader, node, file: str, offset: int, depth: int) -> Any:
    line = node.start_mark.line + 1 + offset
    if depth > MAX_DEPTH:
        raise RampFileError(file, line, "YAML nested too deeply")
    if isinstance(node, ScalarNode):
        try:
            return loader.construct_object(node, deep=True)
        except yaml.YAMLError as e:
            raise RampFileError(file, line, f"YAML: {getattr(e, 'problem', e)}") from None
        except (ValueError, OverflowError):
            raise RampFileError(file, line, f"can't read the value {node.value[:40]!r}") from None
    if isinstance(node, MappingNode):
        if node.tag != _MAP:
            raise RampFileError(file, line, f"unsupported YAML tag {node.tag}")
        result = YMap(line)
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1 + offset
            if not isinstance(key_node, ScalarNode):
                raise RampFileError(file, key_line, "mapping keys must be plain names")
            key = key_node.value  # raw text: `1:` or `yes:` is the key "1" / "yes"
            if key in result:
                raise RampFileError(file, key_line, f"duplicate key '{key}'")
            result[key] = _convert(loader, value_node, file, offset, depth + 1)
            result.key_lines[key] = key_line
            result.value_lines[key] = value_node.start_mark.line + 1 + offset
            if isinstance(value_node, ScalarNode):
                result.raw[key] = value_node.value
        return result
    if isinstance(node, SequenceNode):
        if node.tag != _SEQ:
            raise RampFileError(file, line, f"unsupported YAML tag {node.tag}")
        result = YList(line)
        for item in node.value:
            result.append(_convert(loader, item, file, offset, depth + 1))
            result.item_lines.append(item.start_mark.line + 1 + offset)
            result.raw.append(item.value if isinstance(item, ScalarNode) else None)
        return result
    raise RampFileError(file, line, "unsupported YAML node")


# --- dumping ------------------------------------------------------------------------------


class Flow(list):
    """A list written in flow style: [a, b]."""


class FlowMap(dict):
    """A mapping written in flow style: {value: "a/b"}."""


class NumberText(str):
    """Text written as a plain scalar when YAML would read it as a number (`answer: 0.75`);
    the loader gives it back as the same text through `raw`."""


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)  # indent list dashes under their key

    def ignore_aliases(self, data):
        return True


FOLD_OVER = 80  # longer one-line texts are written folded (>-), as authors write them


def _represent_str(dumper: _Dumper, data: str):
    style = "|" if "\n" in data else ">" if len(data) > FOLD_OVER else None
    return dumper.represent_scalar(_STR, str(data), style=style)


def _represent_number_text(dumper: _Dumper, data: NumberText):
    tag = dumper.resolve(ScalarNode, str(data), (True, False))
    if tag in _NUMBER_TAGS:
        return dumper.represent_scalar(tag, str(data))
    return _represent_str(dumper, data)


def _represent_flow(dumper: _Dumper, data: Flow):
    return dumper.represent_sequence(_SEQ, data, flow_style=True)


def _represent_flow_map(dumper: _Dumper, data: FlowMap):
    return dumper.represent_mapping(_MAP, data.items(), flow_style=True)


def _represent_dict(dumper: _Dumper, data: dict):
    return dumper.represent_mapping(_MAP, data.items())  # keep insertion order


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(NumberText, _represent_number_text)
_Dumper.add_representer(Flow, _represent_flow)
_Dumper.add_representer(FlowMap, _represent_flow_map)
_Dumper.add_representer(dict, _represent_dict)


def dump_yaml(data: dict) -> str:
    return yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=88,
        indent=2,
    )
