"""The official Score schema's verdicts in plain words, for `integrations.score`.

jsonschema's own messages quote the whole offending value and speak in schema keywords
("'x' does not match '^[a-z0-9]…'", "is not valid under any of the given schemas"). The person
fixing a `score.yaml` needs the field and what is expected there, so each error becomes a
(field path, reason) pair, with a name cut short where one has to be shown and no value quoted.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

# jsonschema is imported only where a document is checked against the schema: `field_path`
# is used on every start, and jsonschema costs each process a few MB.
if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError
    from jsonschema.protocols import Validator

# A hostile file could hold thousands of errors; the first ones are enough to fix it.
MAX_SCHEMA_ERRORS = 50
_NAME_SHOWN = 64
_KINDS = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "object": "a mapping (name: value)",
    "array": "a list",
    "boolean": "true or false",
    "null": "empty",
}
_ANY_FORM = "does not match any of the forms Score allows here"


def schema_problems(validator: Validator, document: Any) -> list[tuple[str, str]]:
    """(path, reason) for each way `document` breaks the validator's schema, sorted by path."""
    found: dict[tuple[str, str], None] = {}  # ordered and without repeats
    for error in itertools.islice(validator.iter_errors(document), MAX_SCHEMA_ERRORS):
        for path, reason in _plain(error, depth=0):
            found[(path, reason)] = None
    return sorted(found)


def field_path(parts: Iterable[object]) -> str:
    """`containers.web.image`, each part cut so a long name cannot flood a message."""
    return ".".join(
        (text if len(text) <= _NAME_SHOWN else text[:_NAME_SHOWN] + "…") or '""'
        for text in (str(part) for part in parts)
    )


def _plain(error: ValidationError, *, depth: int) -> list[tuple[str, str]]:
    parts: list[object] = list(error.absolute_path)
    keyword, instance = error.validator, error.instance
    expected: Any = error.validator_value
    if "propertyNames" in error.schema_path:
        # The instance is the name itself; the error belongs to the entry it names.
        return [(field_path([*parts, instance]), "the name " + _reason(keyword, expected))]
    if keyword == "required" and isinstance(instance, Mapping):
        missing = [key for key in expected if key not in instance]
        return [(field_path([*parts, key]), "is missing") for key in missing]
    if keyword == "additionalProperties" and isinstance(instance, Mapping):
        known = error.schema.get("properties", {}) if isinstance(error.schema, Mapping) else {}
        extra = [key for key in instance if key not in known]
        return [(field_path([*parts, key]), "is not a field Score knows here") for key in extra]
    if keyword in ("oneOf", "anyOf") and error.context and depth < 5:
        # The branch of the wrong kind (a list where a mapping was written) says nothing useful.
        from jsonschema.exceptions import best_match

        closest = best_match(e for e in error.context if e.validator != "type")
        if closest is not None:
            return _plain(closest, depth=depth + 1)
    return [(field_path(parts), _reason(keyword, expected))]


def _reason(keyword: object, expected: Any) -> str:
    if keyword == "type":
        kinds = expected if isinstance(expected, list) else [expected]
        return "must be " + " or ".join(_KINDS.get(str(kind), str(kind)) for kind in kinds)
    if keyword == "pattern":
        return "is not in the form Score allows here"
    if keyword == "minLength":
        return f"is too short (at least {expected} characters)"
    if keyword == "maxLength":
        return f"is too long (at most {expected} characters)"
    if keyword == "minimum":
        return f"must be at least {expected}"
    if keyword == "maximum":
        return f"must be at most {expected}"
    if keyword == "enum":
        return "must be one of " + ", ".join(str(choice) for choice in expected)
    if keyword == "minProperties":
        return "must name at least one entry" if expected == 1 else f"needs {expected} entries"
    if keyword in ("oneOf", "anyOf"):
        return _ANY_FORM
    if keyword == "not":
        return "uses a form Score does not allow here"
    return "is not what the Score schema allows here"
