"""Rendering the manifest template and checking it against the CRD's schema.

The template is parsed as YAML first and placeholders are replaced inside the parsed
string values, in one pass that never re-reads what it inserted: a value is always a
scalar, whatever quotes, newlines or `key: value` it holds, so a parameter cannot add
keys or documents. A value that is exactly one placeholder becomes an integer, number or
boolean when the schema asks for one there (strictly parsed; anything else is an error).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import jsonschema
import yaml

from integrations.errors import ProviderRejected
from integrations.orchestrators.base import OrchestratorRequest

PROVIDER = "kubernetes"
MAX_TEMPLATE_CHARS = 64_000
_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
_NAME = re.compile(r"(?:name|team|tier|template|parameters\.[A-Za-z0-9_-]+)")
_INTEGER = re.compile(r"-?[0-9]{1,18}")
_NUMBER = re.compile(r"-?[0-9]{1,18}(?:\.[0-9]{1,18})?")


class ManifestInvalid(ProviderRejected):
    """The template or the rendered manifest is wrong; nothing was sent to the cluster."""

    def __init__(self, message: str) -> None:
        super().__init__(PROVIDER, message)


def placeholder_values(request: OrchestratorRequest) -> dict[str, str]:
    values = {
        "name": request.name,
        "team": request.team,
        "tier": request.tier,
        "template": request.template,
    }
    values.update({f"parameters.{key}": value for key, value in request.parameters.items()})
    return values


def render_text(text: str, values: Mapping[str, str]) -> str:
    """`text` with its placeholders replaced; an unknown or malformed one is an error."""

    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        if not _NAME.fullmatch(key):
            raise ManifestInvalid(f"the manifest template has a malformed placeholder ${{{key}}}")
        if key not in values:
            raise ManifestInvalid(f"the manifest template uses ${{{key}}}, which has no value")
        return values[key]

    return _PLACEHOLDER.sub(replace, text)


def render(
    template: str, values: Mapping[str, str], schema: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The manifest for these values, checked against `schema` when there is one."""
    if len(template) > MAX_TEMPLATE_CHARS:
        raise ManifestInvalid(f"the manifest template is over {MAX_TEMPLATE_CHARS} characters")
    try:
        documents = [d for d in yaml.safe_load_all(template) if d is not None]
    except yaml.YAMLError as exc:
        raise ManifestInvalid(f"the manifest template is not YAML: {exc}") from None
    if len(documents) != 1 or not isinstance(documents[0], dict):
        raise ManifestInvalid("the manifest template must be exactly one YAML mapping")
    manifest: dict[str, Any] = _fill(documents[0], values, schema or {}, "")
    for key in ("apiVersion", "kind"):
        if not isinstance(manifest.get(key), str) or not manifest[key]:
            raise ManifestInvalid(f"the manifest has no {key}")
    name = (manifest.get("metadata") or {}).get("name")
    if not isinstance(name, str) or not name:
        raise ManifestInvalid("the manifest has no metadata.name")
    if schema:
        validate(manifest, schema)
    return manifest


def _fill(node: Any, values: Mapping[str, str], schema: Mapping[str, Any], path: str) -> Any:
    if isinstance(node, dict):
        filled = {}
        for key, child in node.items():
            if isinstance(key, str) and "${" in key:
                raise ManifestInvalid(f"placeholders go in values only, not in the key {key!r}")
            child_path = f"{path}.{key}" if path else str(key)
            filled[key] = _fill(child, values, _child(schema, key), child_path)
        return filled
    if isinstance(node, list):
        return [
            _fill(item, values, schema.get("items") or {}, f"{path}[{i}]")
            for i, item in enumerate(node)
        ]
    if not isinstance(node, str) or "${" not in node:
        return node
    text = render_text(node, values)
    if _PLACEHOLDER.fullmatch(node):
        return _typed(text, schema.get("type"), path)
    return text


def _child(schema: Mapping[str, Any], key: Any) -> Mapping[str, Any]:
    properties = schema.get("properties") or {}
    if key in properties:
        return properties[key]  # type: ignore[no-any-return]
    extra = schema.get("additionalProperties")
    return extra if isinstance(extra, dict) else {}


_CONVERTERS: dict[str, tuple[re.Pattern[str], Callable[[str], Any]]] = {
    "integer": (_INTEGER, int),
    "number": (_NUMBER, float),
    "boolean": (re.compile(r"true|false"), lambda text: text == "true"),
}


def _typed(text: str, wanted: Any, path: str) -> Any:
    if wanted not in _CONVERTERS:
        return text
    pattern, convert = _CONVERTERS[wanted]
    if not pattern.fullmatch(text):
        raise ManifestInvalid(f"{path}: must be {'an' if wanted == 'integer' else 'a'} {wanted}")
    return convert(text)


def validate(manifest: Mapping[str, Any], schema: Mapping[str, Any]) -> None:
    """Raise `ManifestInvalid` listing each field path and why it is wrong (at most five)."""
    validator = jsonschema.Draft7Validator(schema)
    problems = []
    for error in sorted(validator.iter_errors(manifest), key=lambda e: list(e.absolute_path)):
        problems.append(f"{field_path(error) or '(the object)'}: {_reason(error)}")
    problems.extend(unknown_fields(manifest, schema))
    if problems:
        shown = "; ".join(problems[:5]) + (" …" if len(problems) > 5 else "")
        raise ManifestInvalid(f"the manifest does not fit the resource's schema: {shown}")


def field_path(error: jsonschema.ValidationError) -> str:
    path = ""
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    if error.validator == "required" and isinstance(error.instance, dict):
        wanted: list[str] = list(error.validator_value)  # type: ignore[arg-type]
        missing = next((k for k in wanted if k not in error.instance), "")
        path = f"{path}.{missing}" if path else str(missing)
    return path


def _reason(error: jsonschema.ValidationError) -> str:
    if error.validator == "required":
        return "required"
    if error.validator == "type":
        return f"must be of type {error.validator_value}"
    if error.validator == "enum":
        return "must be one of " + ", ".join(map(str, error.validator_value))  # type: ignore[arg-type]
    return str(error.message)[:200]


def unknown_fields(node: Any, schema: Mapping[str, Any], path: str = "") -> list[str]:
    """Fields the structural schema does not declare (the API server would drop or refuse
    them); `metadata` is the API server's own and not described by a CRD."""
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return []
    if isinstance(node, list):
        items = schema.get("items") or {}
        return [
            p for i, item in enumerate(node) for p in unknown_fields(item, items, f"{path}[{i}]")
        ]
    if not isinstance(node, dict):
        return []
    properties = schema.get("properties")
    extra = schema.get("additionalProperties")
    found = []
    for key, child in node.items():
        child_path = f"{path}.{key}" if path else str(key)
        if properties is not None and key in properties:
            if child_path != "metadata":
                found.extend(unknown_fields(child, properties[key], child_path))
        elif isinstance(extra, dict):
            found.extend(unknown_fields(child, extra, child_path))
        elif properties is not None and extra is not True:
            found.append(f"{child_path}: field not declared in schema")
    return found
