"""Checking HTTP exchanges against an official OpenAPI / Swagger document (test helper).

`Contract.check_request` finds the operation for a request's method and path template and
checks that every query parameter and header it sends is one the operation declares;
`Contract.validate` checks a JSON body against a schema of the document. OpenAPI 3.0's
`nullable` is turned into JSON Schema's `type: [..., "null"]` first.
"""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT202012

from tests.conftest import SPECS_DIR


def spec_path(*parts: str) -> Path:
    path = SPECS_DIR.joinpath(*parts)
    if not path.is_file():
        pytest.skip(f"the official spec {path} is not here (set PLATFORM_BOT_SPECS_DIR)")
    return path


def _nullable_to_json_schema(node: Any) -> Any:
    if isinstance(node, dict):
        node = {k: _nullable_to_json_schema(v) for k, v in node.items()}
        if node.pop("nullable", False) is True and isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
        return node
    if isinstance(node, list):
        return [_nullable_to_json_schema(v) for v in node]
    return node


@cache
def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())  # type: ignore[no-any-return]


class Contract:
    def __init__(self, path: Path) -> None:
        self.document = _nullable_to_json_schema(copy.deepcopy(_load(path)))
        self.swagger2 = "swagger" in self.document
        self.base = self.document.get("basePath", "") if self.swagger2 else ""
        spec = (
            DRAFT4 if self.swagger2 or self.document["openapi"].startswith("3.0") else DRAFT202012
        )
        self._registry: Registry[Any] = Registry().with_resource(
            "urn:spec", Resource.from_contents(self.document, default_specification=spec)
        )
        self._validator_class = (
            jsonschema.Draft4Validator if spec is DRAFT4 else jsonschema.Draft202012Validator
        )

    def resolve(self, node: Any) -> Any:
        while isinstance(node, dict) and "$ref" in node:
            pointer = node["$ref"].lstrip("#/").split("/")
            node = self.document
            for part in pointer:
                node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def operation(self, method: str, path: str) -> dict[str, Any]:
        for template, item in self.document["paths"].items():
            pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", self.base + template) + "$"
            if re.match(pattern, path) and method.lower() in item:
                return item[method.lower()]  # type: ignore[no-any-return]
        raise AssertionError(f"{method} {path} is not an operation of the spec")

    def parameters(self, operation: dict[str, Any]) -> list[dict[str, Any]]:
        return [self.resolve(p) for p in operation.get("parameters", [])]

    def check_request(self, request: httpx.Request, *, path_prefix: str = "") -> dict[str, Any]:
        """The operation the request calls; fails on undeclared query parameters."""
        path = request.url.path.removeprefix(path_prefix)
        operation = self.operation(request.method, path)
        declared = {p["name"] for p in self.parameters(operation) if p["in"] == "query"}
        for name in request.url.params:
            assert name in declared, f"{request.method} {path}: undeclared query parameter {name}"
        for parameter in self.parameters(operation):
            if parameter["in"] == "query" and parameter.get("required"):
                assert parameter["name"] in request.url.params, f"missing {parameter['name']}"
            if parameter["in"] == "header" and parameter.get("required"):
                assert parameter["name"] in request.headers, f"missing header {parameter['name']}"
        return operation

    def validate(self, instance: Any, schema: dict[str, Any]) -> None:
        """Validate `instance` against `schema` (a node of the document, refs allowed)."""
        rooted = json.loads(json.dumps(schema).replace('"#/', '"urn:spec#/'))
        self._validator_class(rooted, registry=self._registry).validate(instance)

    def response_schema(self, operation: dict[str, Any], status: str) -> dict[str, Any]:
        response = self.resolve(operation["responses"][status])
        if self.swagger2:
            return response["schema"]  # type: ignore[no-any-return]
        return response["content"]["application/json"]["schema"]  # type: ignore[no-any-return]

    def response_example(self, operation: dict[str, Any], status: str) -> Any:
        content = self.resolve(operation["responses"][status])["content"]["application/json"]
        examples = content.get("examples") or {}
        first = next(iter(examples.values()))
        return copy.deepcopy(self.resolve(first)["value"])

    def request_schema(self, operation: dict[str, Any]) -> dict[str, Any]:
        if self.swagger2:
            body = next(p for p in self.parameters(operation) if p["in"] == "body")
            return body["schema"]  # type: ignore[no-any-return]
        body = self.resolve(operation["requestBody"])
        return body["content"]["application/json"]["schema"]  # type: ignore[no-any-return]
