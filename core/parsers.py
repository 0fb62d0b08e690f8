"""JSON parsing that a hostile body cannot crash: a depth limit, and no NUL characters.

The standard parser recurses once per nesting level, so `[[[[...` 100,000 deep raised
RecursionError (a 500). PostgreSQL cannot store U+0000 in text or jsonb, so a string holding
one would fail at the database; it is refused here with 400 instead.
"""

import codecs
from collections.abc import Iterable, Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework import exceptions
from rest_framework.parsers import BaseParser
from rest_framework.settings import api_settings
from rest_framework.utils import json as drf_json


class NestingTooDeep(exceptions.ParseError):
    default_detail = "The JSON body is nested too deep."
    default_code = "nesting_too_deep"


class NulCharacter(exceptions.ParseError):
    default_detail = "NUL characters (\\u0000) are not allowed."
    default_code = "nul_character"


def has_nul(value: object) -> bool:
    """Whether a parsed JSON value holds U+0000 in any string or key (iterative)."""
    stack: list[object] = [value]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return True
        elif isinstance(value, dict):
            for key, item in value.items():
                if "\x00" in key:
                    return True
                stack.append(item)
        elif isinstance(value, list):
            stack.extend(value)
    return False


def check_depth(value: object, max_depth: int) -> None:
    """Raise NestingTooDeep past `max_depth` levels; level by level, containers only."""
    level: list[dict[Any, Any] | list[Any]] = [value] if isinstance(value, dict | list) else []
    depth = 1
    while level:
        if depth > max_depth:
            raise NestingTooDeep(f"The JSON body is nested deeper than {max_depth} levels.")
        below: list[dict[Any, Any] | list[Any]] = []
        for container in level:
            items: Iterable[Any] = container.values() if isinstance(container, dict) else container
            below.extend(item for item in items if isinstance(item, dict | list))
        level, depth = below, depth + 1


def loads_limited(text: str, *, reject_nul: bool, strict: bool = True) -> Any:
    """json.loads with the depth limit (and, if asked, no NUL); ParseError for bad input."""
    max_depth: int = settings.JSON_MAX_DEPTH
    try:
        data = drf_json.loads(text, parse_constant=drf_json.strict_constant if strict else None)
    except RecursionError:
        raise NestingTooDeep(f"The JSON body is nested deeper than {max_depth} levels.") from None
    except ValueError as exc:
        raise exceptions.ParseError(f"JSON parse error - {exc}") from None
    # Cheap counts first: most bodies cannot be that deep or hold an escaped NUL at all.
    if text.count("[") + text.count("{") > max_depth:
        check_depth(data, max_depth)
    if reject_nul and "\\u0000" in text and has_nul(data):
        raise NulCharacter()
    return data


class JSONParser(BaseParser):
    """The API's JSON parser (DEFAULT_PARSER_CLASSES): depth-limited, refuses NUL characters.

    A BaseParser rather than DRF's JSONParser: DRF reads a JSONParser's body through
    `request.body` (capped by DATA_UPLOAD_MAX_MEMORY_SIZE for every path); this one reads the
    stream, whose size BodyLimitMiddleware has already checked against the path's own limit.
    """

    media_type = "application/json"
    renderer_class = None
    reject_nul = True

    def parse(
        self,
        stream: IO[Any] | None,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        raw = stream.read() if stream is not None else b""
        try:
            text = codecs.decode(raw, encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None
        return loads_limited(text, reject_nul=self.reject_nul, strict=api_settings.STRICT_JSON)


class JSONParserAllowingNul(JSONParser):
    """For receipts: a NUL is reported per receipt and field by the validator instead."""

    reject_nul = False
