"""An `httpx.Client` for the API server, from a kubeconfig file or the pod's service account.

Only what a bot needs: a bearer token (inline, or a file re-read on every request because
projected service-account tokens rotate), client certificates, and the cluster CA. A
kubeconfig user that runs a command (`exec`, `auth-provider`) is refused: the bot runs no
CLI. Errors name the file and the entry, never a token or a key.
"""

from __future__ import annotations

import base64
import binascii
import ssl
import tempfile
from collections.abc import Generator, Mapping
from pathlib import Path
from typing import Any

import httpx
import yaml

from integrations.errors import ProviderRejected
from integrations.orchestrators.kubernetes.config import (
    IN_CLUSTER_SERVER,
    ClusterAccess,
    KubernetesConfig,
)

PROVIDER = "kubernetes"


class _TokenFileAuth(httpx.Auth):
    def __init__(self, path: Path) -> None:
        self._path = path

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        try:
            token = self._path.read_text().strip()
        except OSError:
            raise ProviderRejected(PROVIDER, f"cannot read the token file {self._path}") from None
        request.headers["Authorization"] = f"Bearer {token}"
        yield request


class _TokenAuth(httpx.Auth):
    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request


def make_client(config: KubernetesConfig) -> httpx.Client:
    server, verify, auth = (
        _in_cluster(config.access) if config.access.in_cluster else _from_kubeconfig(config.access)
    )
    timeout = httpx.Timeout(config.request_timeout, connect=config.connect_timeout)
    return httpx.Client(
        base_url=(config.access.server or server).rstrip("/"),
        verify=verify,
        auth=auth,
        timeout=timeout,
        # Proxies come from the caller's client if it wants them, not from the environment.
        trust_env=False,
    )


def _in_cluster(access: ClusterAccess) -> tuple[str, ssl.SSLContext, httpx.Auth]:
    directory = access.service_account_dir
    token, ca = directory / "token", directory / "ca.crt"
    if not token.is_file() or not ca.is_file():
        raise ProviderRejected(PROVIDER, f"no service account token and CA under {directory}")
    return IN_CLUSTER_SERVER, ssl.create_default_context(cafile=str(ca)), _TokenFileAuth(token)


def _from_kubeconfig(access: ClusterAccess) -> tuple[str, ssl.SSLContext, httpx.Auth | None]:
    if access.kubeconfig is None:
        raise ProviderRejected(PROVIDER, "neither a kubeconfig file nor in-cluster access is set")
    path = access.kubeconfig
    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ProviderRejected(
            PROVIDER, f"cannot read the kubeconfig {path}: {type(exc).__name__}"
        ) from None
    if not isinstance(document, dict):
        raise ProviderRejected(PROVIDER, f"the kubeconfig {path} is not a mapping")
    context_name = access.context or document.get("current-context") or ""
    context = _entry(document, "contexts", context_name, path)
    cluster = _entry(document, "clusters", str(context.get("cluster", "")), path)
    user = _entry(document, "users", str(context.get("user", "")), path)
    server = cluster.get("server")
    if not isinstance(server, str) or not server:
        raise ProviderRejected(
            PROVIDER, f"the kubeconfig {path} gives no server for {context_name}"
        )
    verify = _ssl_context(cluster, user, path.parent)
    return server, verify, _user_auth(user, path)


def _entry(document: Mapping[str, Any], section: str, name: str, path: Path) -> dict[str, Any]:
    kind = section[:-1]
    for item in document.get(section) or []:
        if isinstance(item, dict) and item.get("name") == name:
            return dict(item.get(kind) or {})
    raise ProviderRejected(PROVIDER, f"the kubeconfig {path} has no {kind} named {name!r}")


def _ssl_context(cluster: Mapping[str, Any], user: Mapping[str, Any], base: Path) -> ssl.SSLContext:
    if cluster.get("certificate-authority-data"):
        context = ssl.create_default_context(cadata=_pem(cluster["certificate-authority-data"]))
    elif cluster.get("certificate-authority"):
        context = ssl.create_default_context(cafile=str(base / cluster["certificate-authority"]))
    else:
        context = ssl.create_default_context()
    if cluster.get("insecure-skip-tls-verify") is True:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if user.get("client-certificate-data") and user.get("client-key-data"):
        _load_cert_data(context, user["client-certificate-data"], user["client-key-data"])
    elif user.get("client-certificate") and user.get("client-key"):
        context.load_cert_chain(
            str(base / user["client-certificate"]), str(base / user["client-key"])
        )
    return context


def _load_cert_data(context: ssl.SSLContext, cert_data: str, key_data: str) -> None:
    # `load_cert_chain` reads files only; the key lives on disk for this call alone, in a
    # directory only this process's user can read.
    with tempfile.TemporaryDirectory(prefix="platform-bot-kube-") as directory:
        cert, key = Path(directory, "cert.pem"), Path(directory, "key.pem")
        cert.write_text(_pem(cert_data))
        key.touch(mode=0o600)
        key.write_text(_pem(key_data))
        context.load_cert_chain(str(cert), str(key))


def _pem(data: str) -> str:
    try:
        return base64.b64decode(data, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise ProviderRejected(
            PROVIDER, "a certificate in the kubeconfig is not base64 PEM"
        ) from None


def _user_auth(user: Mapping[str, Any], path: Path) -> httpx.Auth | None:
    if "exec" in user or "auth-provider" in user:
        raise ProviderRejected(
            PROVIDER,
            f"the kubeconfig {path} authenticates by running a command, which the bot does "
            "not do: give it a service account token (token or tokenFile) or a certificate",
        )
    if user.get("token"):
        return _TokenAuth(str(user["token"]))
    if user.get("tokenFile"):
        return _TokenFileAuth(path.parent / str(user["tokenFile"]))
    return None
