"""Domain records to plain JSON data and back, in one place.

Records leave the process in two places: the parser sandbox's child hands its `Extraction` to
the parent as JSON (`gateway.parsers.serialize`), and the service stores every `Report` in the
database as JSON and renders it again later (`gateway.storage.codec`). Both need the same
thing, an exact round trip, so there is one conversion, read off the records' own fields and
type hints: a field added to a record travels without being spelled out again, and no place
can forget it. The public JSON report (`gateway.reports.json_report`) has its own documented
shape and uses this module only for the parts that coincide (documents and locations).

Writing (`to_data`):

* a record becomes a dict with one key per field, in field order, nested records likewise;
* enum members become their value, dates and datetimes ISO 8601 text;
* tuples become lists, mappings dicts with their keys as text (as `json` would write them);
* `str`, `int`, `float` and `bool` values are checked against the declared type (an `int`
  where a `float` is declared becomes a float; `bool` is never taken for a number);
* values declared `object` (a finding's evidence, a report's unit rows) are free-form: JSON
  values stay, containers become lists and dicts, dates ISO text, anything else its text.

Reading (`from_data`) is the inverse, with the declared types checked again. A missing key
takes the field's default, so data written before a field existed still loads; keys that are
not fields are ignored (the storage's version key, the JSON report's location texts).
Free-form values come back as JSON gave them: a date in evidence comes back as text.

Only what the records use is supported: records (not containing themselves), enums, dates,
`str`, `int`, `float`, `bool`, `X | None`, tuples (fixed or `...`), lists, mappings with text
keys, and `object`. Anything else fails when the record type is first converted, not on some
later value.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import types
import typing
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, NoReturn, TypeVar, cast

T = TypeVar("T")
_Convert = Callable[[Any], Any]


class CodecError(ValueError):
    """A value does not fit the type its record declares; `path` names the field."""

    def __init__(self, reason: str, path: tuple[str, ...] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = path

    def __str__(self) -> str:
        return f"{'.'.join(self.path)}: {self.reason}" if self.path else self.reason


def to_data(record: object) -> dict[str, Any]:
    """`record` (a dataclass instance) as JSON-ready data: a dict with one key per field.

    Raises:
        CodecError: a field holds a value its declared type does not allow.
    """
    cls = type(record)
    if not dataclasses.is_dataclass(cls):
        msg = f"Expected a dataclass instance, got {cls.__name__}."
        raise TypeError(msg)
    try:
        return cast(dict[str, Any], _encoder(cls)(record))
    except CodecError as exc:
        exc.path = (cls.__name__, *exc.path)
        raise


def from_data(cls: type[T], data: object) -> T:
    """The `cls` record that `to_data` turned into `data`.

    Raises:
        CodecError: `data` does not fit `cls` (a missing required key, a wrong type, an
            unknown enum value, a bad date).
    """
    if not dataclasses.is_dataclass(cls):
        msg = f"Expected a dataclass type, got {cls!r}."
        raise TypeError(msg)
    try:
        return cast(T, _decoder(cls)(data))
    except CodecError as exc:
        exc.path = (cls.__name__, *exc.path)
        raise


def prepare(*classes: type[object]) -> None:
    """Build the converters of these record types now rather than on first use.

    A process that forks a worker per document or job calls it before forking, so that each
    fork inherits the converters instead of building them again (a few milliseconds a type).
    """
    for cls in classes:
        if not dataclasses.is_dataclass(cls):
            msg = f"Expected a dataclass type, got {cls!r}."
            raise TypeError(msg)
        _encoder(cls)
        _decoder(cls)


# -- free-form values ---------------------------------------------------------------------------


def _plain(value: object) -> Any:
    """A JSON-ready copy of a free-form value (text for anything JSON has no type for)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)


def _same(value: Any) -> Any:
    return value


# -- scalars --------------------------------------------------------------------------------------


def _wrong_type(expected: str, value: object) -> NoReturn:
    msg = f"expected {expected}, got {type(value).__name__} {value!r:.80}"
    raise CodecError(msg)


def _str(value: Any) -> str:
    if isinstance(value, str):
        return str(value)  # a StrEnum member becomes its plain value
    _wrong_type("str", value)


def _int(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    _wrong_type("int", value)


def _float(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    _wrong_type("float", value)


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    _wrong_type("bool", value)


_SCALARS: dict[object, _Convert] = {str: _str, int: _int, float: _float, bool: _bool}


def _date_encoder(kind: type[dt.date]) -> _Convert:
    def encode(value: Any) -> str:
        if isinstance(value, kind):
            return value.isoformat()
        _wrong_type(kind.__name__, value)

    return encode


def _date_decoder(kind: type[dt.date]) -> _Convert:
    def decode(value: Any) -> dt.date:
        if not isinstance(value, str):
            _wrong_type(f"{kind.__name__} text", value)
        try:
            return kind.fromisoformat(value)
        except ValueError as exc:
            raise CodecError(str(exc)) from exc

    return decode


def _enum_encoder(kind: type[enum.Enum]) -> _Convert:
    def encode(value: Any) -> Any:
        try:
            return kind(value).value
        except ValueError as exc:
            raise CodecError(str(exc)) from exc

    return encode


def _enum_decoder(kind: type[enum.Enum]) -> _Convert:
    def decode(value: Any) -> enum.Enum:
        try:
            return kind(value)
        except ValueError as exc:
            raise CodecError(str(exc)) from exc

    return decode


# -- type hints -> converters ---------------------------------------------------------------------


def _optional(hint: Any) -> Any:
    """The `X` of `X | None`; other unions have no single type to read a value back as."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if len(args) != 1 or len(typing.get_args(hint)) != 2:
        msg = f"Unsupported union {hint!r}: only `X | None` is supported."
        raise TypeError(msg)
    return args[0]


def _text_keys(hint: Any) -> Any:
    key, value = typing.get_args(hint)
    if key is not str:
        msg = f"Unsupported mapping {hint!r}: keys must be str."
        raise TypeError(msg)
    return value


def _is_union(hint: Any) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType)


@cache
def _encoder(hint: Any) -> _Convert:
    """A function turning a value of type `hint` into JSON-ready data."""
    if hint is object or hint is Any:
        return _plain
    if _is_union(hint):
        inner = _encoder(_optional(hint))
        return lambda value: None if value is None else inner(value)
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is list or (origin is tuple and len(args) == 2 and args[1] is Ellipsis):
        item = _encoder(args[0])
        return lambda value: [item(v) for v in _sequence(value)]
    if origin is tuple:
        items = tuple(_encoder(a) for a in args)
        return lambda value: [
            f(v) for f, v in zip(items, _sequence(value, len(items)), strict=True)
        ]
    if origin in (Mapping, dict):
        item = _encoder(_text_keys(hint))
        return lambda value: {str(k): item(v) for k, v in _mapping(value).items()}
    if isinstance(hint, type):
        if dataclasses.is_dataclass(hint):
            return _record_encoder(hint)
        if issubclass(hint, enum.Enum):
            return _enum_encoder(hint)
        if issubclass(hint, dt.date):  # datetime included
            return _date_encoder(hint)
        if hint in _SCALARS:
            return _SCALARS[hint]
    msg = f"Unsupported type {hint!r}."
    raise TypeError(msg)


@cache
def _decoder(hint: Any) -> _Convert:
    """A function turning JSON data back into a value of type `hint`."""
    if hint is object or hint is Any:
        return _same
    if _is_union(hint):
        inner = _decoder(_optional(hint))
        return lambda data: None if data is None else inner(data)
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        item = _decoder(args[0])
        return lambda data: tuple(item(v) for v in _sequence(data))
    if origin is list:
        item = _decoder(args[0])
        return lambda data: [item(v) for v in _sequence(data)]
    if origin is tuple:
        items = tuple(_decoder(a) for a in args)
        return lambda data: tuple(
            f(v) for f, v in zip(items, _sequence(data, len(items)), strict=True)
        )
    if origin in (Mapping, dict):
        item = _decoder(_text_keys(hint))
        return lambda data: {
            (k if k.__class__ is str else _str(k)): item(v) for k, v in _mapping(data).items()
        }
    if isinstance(hint, type):
        if dataclasses.is_dataclass(hint):
            return _record_decoder(hint)
        if issubclass(hint, enum.Enum):
            return _enum_decoder(hint)
        if issubclass(hint, dt.date):  # datetime included
            return _date_decoder(hint)
        if hint in _SCALARS:
            return _SCALARS[hint]
    msg = f"Unsupported type {hint!r}."
    raise TypeError(msg)


def _sequence(value: Any, length: int | None = None) -> list[Any] | tuple[Any, ...]:
    if not isinstance(value, list | tuple):
        _wrong_type("a list", value)
    if length is not None and len(value) != length:
        msg = f"expected {length} items, got {len(value)}"
        raise CodecError(msg)
    return value


def _mapping(value: Any) -> Mapping[Any, Any]:
    if not isinstance(value, Mapping):
        _wrong_type("a mapping", value)
    return value


# -- records --------------------------------------------------------------------------------------

# A record's converter is compiled from its fields, as `dataclasses` compiles `__init__`: the
# sandbox carries documents of thousands of lines with a dozen locations each, and a function
# call per field doubled the cost of that trip. Scalars of their exact declared type are taken
# inline; everything else goes through its converter. `n` names the field being converted, so
# an error can say where it happened.
_RECORD = """
def convert(arg):
    if {wrong}:
        wrong_type({expected!r}, arg)
    n = None
    try:
{body}
    except CodecError as exc:
        exc.path = (n, *exc.path)
        raise
    except KeyError:
        raise CodecError(f"missing required field {{n!r}}") from None
    return {result}
"""

_ABSENT = object()


def _fields(cls: type[Any]) -> list[tuple[int, dataclasses.Field[Any], Any]]:
    """(index, field, type hint) of each field a record's constructor takes, in field order."""
    hints = typing.get_type_hints(cls)
    return [(i, f, hints[f.name]) for i, f in enumerate(dataclasses.fields(cls)) if f.init]


def _record_encoder(cls: type[Any]) -> _Convert:
    env: dict[str, Any] = {}
    body: list[str] = []
    for i, f, hint in _fields(cls):
        body += [
            f"n = {f.name!r}",
            f"v = arg.{f.name}",
            f"f{i} = {_inline(env, i, hint, _encoder)}",
        ]
    result = ", ".join(f"{f.name!r}: f{i}" for i, f, _ in _fields(cls))
    wrong = "arg.__class__ is not cls and not isinstance(arg, cls)"
    return _compile(cls, env, body, wrong, cls.__name__, "{" + result + "}")


def _record_decoder(cls: type[Any]) -> _Convert:
    env: dict[str, Any] = {}
    body: list[str] = []
    for i, f, hint in _fields(cls):
        convert = _inline(env, i, hint, _decoder)
        if f.default is not dataclasses.MISSING:
            env[f"d{i}"] = f.default
            default = f"d{i}"
        elif f.default_factory is not dataclasses.MISSING:
            env[f"d{i}"] = f.default_factory
            default = f"d{i}()"
        else:
            body += [f"n = {f.name!r}", f"v = arg[{f.name!r}]", f"f{i} = {convert}"]
            continue
        body += [
            f"n = {f.name!r}",
            f"v = arg.get({f.name!r}, absent)",
            f"f{i} = {default} if v is absent else {convert}",
        ]
    result = ", ".join(f"{f.name}=f{i}" for i, f, _ in _fields(cls))
    wrong = "arg.__class__ is not dict and not isinstance(arg, Mapping)"
    return _compile(cls, env, body, wrong, f"{cls.__name__} data (a mapping)", f"cls({result})")


def _inline(env: dict[str, Any], i: int, hint: Any, build: Callable[[Any], _Convert]) -> str:
    """The expression converting `v`, a value of field `i` declared `hint`."""
    optional = _is_union(hint)
    inner = _optional(hint) if optional else hint
    env[f"c{i}"] = build(inner)
    if inner in _SCALARS:
        env[f"t{i}"] = inner
        exact = f"v is None or v.__class__ is t{i}" if optional else f"v.__class__ is t{i}"
        return f"v if {exact} else c{i}(v)"
    return f"None if v is None else c{i}(v)" if optional else f"c{i}(v)"


def _compile(
    cls: type[Any], env: dict[str, Any], body: list[str], wrong: str, expected: str, result: str
) -> _Convert:
    source = _RECORD.format(
        wrong=wrong,
        expected=expected,
        body="\n".join(f"        {line}" for line in body or ["pass"]),
        result=result,
    )
    env |= {
        "cls": cls,
        "Mapping": Mapping,
        "CodecError": CodecError,
        "wrong_type": _wrong_type,
        "absent": _ABSENT,
    }
    exec(compile(source, f"<codec {cls.__qualname__}>", "exec"), env)  # noqa: S102
    return cast(_Convert, env["convert"])
