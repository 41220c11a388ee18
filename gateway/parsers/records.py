"""The table reader's records, made without the frozen dataclasses' `__init__`.

A 20,000-line sheet makes 20,000 `ManifestLine`s, as many `CodeOccurrence`s and twice as
many `SourceRef`s. A frozen dataclass's `__init__` must set each field through
`object.__setattr__` (the record's own `__setattr__` refuses): 2.6 µs a `ManifestLine` of
18 fields, 1.1 µs a `SourceRef`, about a tenth of the table reader's time on such a sheet.

Each record is built here by a twin: a plain class with the record's slots, whose
`__init__` sets them by plain assignment and then gives the instance the record's class
(`__class__` assignment, which Python allows between classes with the same slots). What
comes out is the record itself, not a look-alike: the same class and field values, equal
to and hashing as one the class builds, and as frozen (`tests/parsers/test_records.py`
builds each both ways and compares them). A 6th of the cost for a `ManifestLine`, a
quarter for a `SourceRef`. Every argument is positional and required, in the record's
field order. The twin is made from the record's own fields, as `dataclasses` makes the
record's `__init__`, so a field added to a record is in its twin too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import cast

from gateway.domain import CodeOccurrence, ExtractionMethod, ManifestLine, SourceRef

_Box = tuple[float, float, float, float]


def _twin(record: type) -> type:
    """A class with `record`'s slots whose `__init__` takes its fields in order, sets them
    and turns the instance into a `record`."""
    names = [field.name for field in dataclasses.fields(record)]
    body = "".join(f"    self.{name} = {name}\n" for name in names)
    source = f"def __init__(self, {', '.join(names)}):\n{body}    self.__class__ = record\n"
    namespace: dict[str, object] = {}
    code = compile(source, f"<twin of {record.__name__}>", "exec")
    exec(code, {"record": record}, namespace)  # noqa: S102 - field names, not input
    return type(f"_{record.__name__}", (), {"__slots__": vars(record)["__slots__"], **namespace})


# the twins' types as what they return: the records
_Quad = tuple[tuple[float, float], ...]
source_ref = cast(
    "Callable[[str, int | None, str | None, int | None, str | None, _Box | None, str | None], "
    "SourceRef]",
    _twin(SourceRef),
)
code_occurrence = cast(
    "Callable[[str, SourceRef, ExtractionMethod, str | None, _Quad | None, float | None], "
    "CodeOccurrence]",
    _twin(CodeOccurrence),
)
# built from the table reader's columns by `map`, the 18 in the record's order
manifest_line = cast("Callable[..., ManifestLine]", _twin(ManifestLine))

__all__ = ["code_occurrence", "manifest_line", "source_ref"]
