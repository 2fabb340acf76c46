"""Deterministic YAML output of the knowledge files: entries (``kb build``) and examples (review).

One dumper for both: fixed key order as given, Unicode as is, no line wrapping, multi-line strings as
literal blocks. Entry files indent list items under their key; example files keep them at the key's
level, as they were first written by hand (so that dumping a file read back gives the same text).
"""

from __future__ import annotations

from typing import Any

import yaml


class Flow(dict[str, Any]):
    """A mapping written on one line (links)."""


class _Dumper(yaml.SafeDumper):
    """Lists at their key's level (``key:\\n- item``)."""


class _IndentedDumper(_Dumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # Indent list items under their key, as people write YAML by hand.
        super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


def _represent_flow(dumper: yaml.SafeDumper, data: Flow) -> yaml.MappingNode:
    return dumper.represent_mapping("tag:yaml.org,2002:map", dict(data), flow_style=True)


for _cls in (_Dumper, _IndentedDumper):
    _cls.add_representer(str, _represent_str)
    _cls.add_representer(Flow, _represent_flow)


def dump_yaml(data: Any, *, indent_lists: bool) -> str:
    """``data`` as YAML text, keys in their given order."""
    return yaml.dump(
        data,
        Dumper=_IndentedDumper if indent_lists else _Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=1_000_000,
        indent=2,
    )
