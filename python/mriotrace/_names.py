"""Flat stressor names: how extensions survive the core's single stressor list.

The core (and its HDF5 files) knows one flat list of k stressor names. The
Python layer groups rows into pymrio-style extensions, each with its own
(possibly multi-level) index. A flat name encodes both, readably:

    emissions::CO2/air                    extension "emissions", row ("CO2", "air"),
                                          index names ("stressor", "compartment")
    factor_inputs[inputtype]::Value Added extension "factor_inputs", row ("Value Added",),
                                          index name "inputtype"

The bracket holds the index names and is left out when they are the defaults
(``default_level_names``). '%', '/', ':', '[', ']' and ',' inside a part are
percent-escaped. A name without '::' (a file written by the CLI, the C++ API or
the USEEIO reader, whose flow names contain '/') belongs to the extension
``DEFAULT_EXTENSION`` with index name "stressor", the whole name as its label.
"""

from __future__ import annotations

DEFAULT_EXTENSION = "stressors"

_ESCAPES = {"%": "%25", "/": "%2F", ":": "%3A", "[": "%5B", "]": "%5D", ",": "%2C"}


def default_level_names(nlevels: int) -> list[str]:
    """pymrio's usual names: ("stressor",), ("stressor", "compartment"), then level2, ..."""
    base = ["stressor", "compartment"]
    return (base + [f"level{i}" for i in range(2, nlevels)])[:nlevels]


def _escape(part: str) -> str:
    return "".join(_ESCAPES.get(ch, ch) for ch in part)


def _unescape(part: str) -> str:
    for raw, esc in _ESCAPES.items():
        if raw != "%":
            part = part.replace(esc, raw)
    return part.replace("%25", "%")


def encode(extension: str, level_names, row: tuple) -> str:
    """The flat name of `row` (a tuple of labels) of `extension`."""
    level_names = [str(n) for n in level_names]
    if (extension == DEFAULT_EXTENSION and level_names == ["stressor"] and "::" not in str(row[0])):
        return str(row[0])  # plain names (CLI, generator) stay plain
    head = _escape(str(extension))
    if level_names != default_level_names(len(level_names)):
        head += "[" + ",".join(_escape(n) for n in level_names) + "]"
    return head + "::" + "/".join(_escape(str(v)) for v in row)


def decode(flat: str) -> tuple[str, list[str], tuple]:
    """(extension, level names, row) of a flat name (see the module docstring)."""
    if "::" not in flat:
        return DEFAULT_EXTENSION, ["stressor"], (flat,)
    head, tail = flat.split("::", 1)
    row = tuple(_unescape(v) for v in tail.split("/"))
    if head.endswith("]") and "[" in head:
        ext, names = head[:-1].split("[", 1)
        level_names = [_unescape(n) for n in names.split(",")]
    else:
        ext, level_names = head, default_level_names(len(row))
    if len(level_names) != len(row):  # not one of ours: keep the whole name as one label
        return DEFAULT_EXTENSION, ["stressor"], (flat,)
    return _unescape(ext), level_names, row


def row_name(row) -> str:
    """A row label as text for reports and plots: ("emission_type1", "air") -> "emission_type1 / air"."""
    return " / ".join(str(v) for v in row) if isinstance(row, tuple) else str(row)
