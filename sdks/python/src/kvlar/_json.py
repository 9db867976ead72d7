"""Strict reading of the CLI's JSON: a missing field or a wrong type is a KvlarProtocolError.

Fields the CLI adds later are ignored; fields it documents are checked, so a change in its
output shows up as an error here rather than as a silently wrong value.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Tuple, Union, cast

from ._errors import KvlarProtocolError

PathStep = Union[str, int]


def parse_json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as error:
        shown = text if len(text) <= 200 else text[:200] + "…"
        raise KvlarProtocolError(f"{what} is not JSON ({error}): {shown!r}") from None


def parse_record(line: str, number: int, what: str) -> Dict[str, Any]:
    """Line ``number`` of a JSON-lines output (``kvlar audit export``, ``tail --json``): an object."""
    try:
        value = json.loads(line)
    except ValueError:
        raise KvlarProtocolError(f"{what}: line {number} is not JSON: {line[:200]!r}") from None
    if not isinstance(value, dict):
        raise KvlarProtocolError(f"{what}: line {number} is not a JSON object")
    return cast(Dict[str, Any], value)


class Fields:
    """A JSON object from the CLI, read field by field; ``where`` names it in errors."""

    __slots__ = ("_value", "_where")

    def __init__(self, value: object, where: str) -> None:
        if not isinstance(value, dict):
            raise KvlarProtocolError(f"{where}: expected a JSON object, got {_kind(value)}")
        self._value: Dict[str, Any] = value
        self._where = where

    @property
    def raw(self) -> Dict[str, Any]:
        return self._value

    def has(self, key: str) -> bool:
        return key in self._value

    def _get(self, key: str) -> Any:
        if key not in self._value:
            raise KvlarProtocolError(f"{self._where}: missing {key!r}")
        return self._value[key]

    def _wrong(self, key: str, expected: str, value: object) -> KvlarProtocolError:
        return KvlarProtocolError(f"{self._where}.{key}: expected {expected}, got {_kind(value)}")

    def text(self, key: str) -> str:
        value = self._get(key)
        if not isinstance(value, str):
            raise self._wrong(key, "a string", value)
        return value

    def opt_text(self, key: str) -> Optional[str]:
        value = self._value.get(key)
        if value is not None and not isinstance(value, str):
            raise self._wrong(key, "a string or null", value)
        return value

    def integer(self, key: str) -> int:
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._wrong(key, "an integer", value)
        return value

    def opt_integer(self, key: str) -> Optional[int]:
        value = self._value.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._wrong(key, "an integer or null", value)
        return value

    def number(self, key: str) -> float:
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._wrong(key, "a number", value)
        return float(value)

    def opt_number(self, key: str) -> Optional[float]:
        value = self._value.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._wrong(key, "a number or null", value)
        return float(value)

    def flag(self, key: str) -> bool:
        value = self._get(key)
        if not isinstance(value, bool):
            raise self._wrong(key, "true or false", value)
        return value

    def array(self, key: str) -> List[Any]:
        value = self._get(key)
        if not isinstance(value, list):
            raise self._wrong(key, "an array", value)
        return cast(List[Any], value)

    def objects(self, key: str) -> List[Fields]:
        return [Fields(item, f"{self._where}.{key}[{index}]") for index, item in enumerate(self.array(key))]

    def texts(self, key: str) -> Tuple[str, ...]:
        items = self.array(key)
        for index, item in enumerate(items):
            if not isinstance(item, str):
                raise KvlarProtocolError(f"{self._where}.{key}[{index}]: expected a string, got {_kind(item)}")
        return tuple(cast(List[str], items))

    def path(self, key: str) -> Tuple[PathStep, ...]:
        value: object = self._value.get(key, [])
        if not isinstance(value, list):
            raise self._wrong(key, "an array", value)
        items = cast(List[object], value)
        for item in items:
            if isinstance(item, bool) or not isinstance(item, (str, int)):
                raise self._wrong(key, "an array of keys and indexes", items)
        return tuple(cast(List[PathStep], items))

    def child(self, key: str) -> Fields:
        return Fields(self._get(key), f"{self._where}.{key}")

    def opt_mapping(self, key: str) -> Optional[Dict[str, Any]]:
        value = self._value.get(key)
        if value is not None and not isinstance(value, dict):
            raise self._wrong(key, "an object or null", value)
        return cast(Optional[Dict[str, Any]], value)


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
