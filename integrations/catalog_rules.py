"""The field rules Backstage's catalog enforces in code, with Backstage's own messages.

Backstage's JSON schemas only say "a string"; the catalog then runs its entity policies
(`FieldFormatEntityPolicy` with the default `KubernetesValidatorFunctions` and
`CommonValidatorFunctions`) and rejects an entity whose namespace, name, tags, label keys
and values, annotation keys, apiVersion, kind or links break them. The bot skips the same
entities, with the same reason Backstage would log, so an admin can fix the file once.

Every check here is a length check followed by set membership over ASCII characters: no
regular expressions, so the work stays linear in the size of the text on any input.
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable, Iterable, Mapping
from typing import Any

MAX_SHOWN = 80
_LOWER_ALNUM = frozenset(string.ascii_lowercase + string.digits)
_ALNUM = _LOWER_ALNUM | frozenset(string.ascii_uppercase)
_LETTERS = frozenset(string.ascii_letters)
_NAME_CHARS = _ALNUM | frozenset("-_.")
_TAG_CHARS = _LOWER_ALNUM | frozenset(":+#")
_SCHEME_CHARS = _ALNUM | frozenset("+-.")

# What FieldFormatEntityPolicy says each rule expects.
_OBJECT_NAME = (
    "a string that is sequences of [a-zA-Z0-9] separated by any of [-_.], "
    "at most 63 characters in total"
)
_PREFIX_SUFFIX = "a valid prefix and/or suffix"
_DNS_LABEL = (
    "a string that is sequences of [a-z0-9] separated by [-], at most 63 characters in total"
)
_TAG = "a string that is sequences of [a-z0-9+#] separated by [-], at most 63 characters in total"
_KIND = "a string that is a sequence of [a-zA-Z][a-z0-9A-Z], at most 63 characters in total"
_URL = "a string that is a valid url"
_STRING = "a non empty string"


class EntityInvalid(ValueError):
    """A document is not a valid entity; the message says which field and why."""


def shown(value: Any) -> str:
    """A value quoted for a message, cut so a huge value cannot flood a report."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    if len(text) > MAX_SHOWN:
        text = text[:MAX_SHOWN] + "…"
    return f'"{text}"'


def _dashed(value: str, allowed: frozenset[str]) -> bool:
    """Sequences of `allowed` characters separated by single dashes."""
    return all(part and set(part) <= allowed for part in value.split("-"))


def is_dns_label(value: str) -> bool:
    return 1 <= len(value) <= 63 and _dashed(value, _LOWER_ALNUM)


def is_dns_subdomain(value: str) -> bool:
    return 1 <= len(value) <= 253 and all(is_dns_label(part) for part in value.split("."))


def is_object_name(value: str) -> bool:
    return (
        1 <= len(value) <= 63
        and value[0] in _ALNUM
        and value[-1] in _ALNUM
        and set(value) <= _NAME_CHARS
    )


def is_namespace(value: str) -> bool:
    return is_dns_label(value)


def is_kind(value: str) -> bool:
    return 1 <= len(value) <= 63 and value[0] in _LETTERS and set(value) <= _ALNUM


def is_tag(value: str) -> bool:
    return 1 <= len(value) <= 63 and _dashed(value, _TAG_CHARS)


def _prefix_and_or_suffix(value: str, suffix_rule: Callable[[str], bool]) -> bool:
    if len(value) > 253 + 1 + 63:
        return False
    parts = value.split("/")
    if len(parts) == 1:
        return suffix_rule(parts[0])
    return len(parts) == 2 and is_dns_subdomain(parts[0]) and suffix_rule(parts[1])


def is_api_version(value: str) -> bool:
    return _prefix_and_or_suffix(value, lambda v: 1 <= len(v) <= 63 and set(v) <= _ALNUM)


def is_key(value: str) -> bool:
    """Label and annotation keys: `[dns-subdomain/]object-name`."""
    return _prefix_and_or_suffix(value, is_object_name)


def is_label_value(value: str) -> bool:
    return value == "" or is_object_name(value)


def is_url(value: str) -> bool:
    """An absolute URL, as `new URL(value)` accepts it: a scheme, and a host for web URLs."""
    scheme, colon, rest = value.partition(":")
    if not colon or not scheme or scheme[0] not in _LETTERS:
        return False
    if not set(scheme) <= _SCHEME_CHARS or any(c.isspace() for c in value.strip()):
        return False
    if scheme.lower() in ("http", "https"):
        return rest.startswith("//") and len(rest) > 2 and rest[2] not in "/?#"
    return True


def is_string(value: str) -> bool:
    return bool(value.strip())


def _keyed(section: str, key: str) -> str:
    return f"{section}.{key if len(key) <= MAX_SHOWN else key[:MAX_SHOWN] + '…'}"


def _require(field: str, value: Any, rule: Callable[[str], bool], expectation: str) -> None:
    if value is None:
        raise EntityInvalid(f"{field} must have a value")
    if not isinstance(value, str) or not rule(value):
        raise EntityInvalid(
            f'"{field}" is not valid; expected {expectation} but found {shown(value)}.'
        )


def check_field_formats(
    *,
    api_version: str,
    kind: str,
    name: str,
    namespace: str | None,
    labels: Mapping[str, str],
    annotations: Mapping[str, str],
    tags: Iterable[str],
    links: Iterable[Mapping[str, Any]],
) -> None:
    """FieldFormatEntityPolicy: EntityInvalid with Backstage's message at the first problem."""
    _require("apiVersion", api_version, is_api_version, _PREFIX_SUFFIX)
    _require("kind", kind, is_kind, _KIND)
    _require("metadata.name", name, is_object_name, _OBJECT_NAME)
    if namespace is not None:
        _require("metadata.namespace", namespace, is_namespace, _DNS_LABEL)
    for key, value in labels.items():
        _require(_keyed("labels", key), key, is_key, _PREFIX_SUFFIX)
        _require(_keyed("labels", key), value, is_label_value, _OBJECT_NAME)
    for key in annotations:
        _require(_keyed("annotations", key), key, is_key, _PREFIX_SUFFIX)
    for number, tag in enumerate(tags):
        _require(f"tags.{number}", tag, is_tag, _TAG)
    for number, link in enumerate(links):
        _require(f"links.{number}.url", link.get("url"), is_url, _URL)
        if link.get("title") is not None:
            _require(f"links.{number}.title", link["title"], is_string, _STRING)
        if link.get("icon") is not None:
            _require(f"links.{number}.icon", link["icon"], is_object_name, _OBJECT_NAME)
