"""A fake GitHub REST API on a real socket, for the GitHub Actions orchestrator's tests.

It implements only what the orchestrator calls and holds every request to the official
OpenAPI subset (`shared/specs/github/api.github.com.subset.json`): the operation must exist,
query parameters must be declared, required ones present, the dispatch body must validate
(`ref` required, at most 25 inputs), and every JSON answer is validated against the
operation's response schema before it is sent. A request the spec does not allow is answered
400 (or 422 for a bad body, as GitHub does) and recorded in `violations`.

Beyond the spec it models the repository: workflows declare string inputs (a dispatch with
an undeclared, missing or non-string input is refused 422, as GitHub refuses inputs the
workflow does not accept), runs are titled by `run-name: ${{ inputs.request_id }}` and move
queued → in_progress (one step per poll of the run) → completed; a successful apply run
uploads `platform-bot-outputs` as a real zip, downloaded through a 302 to a pre-signed URL
that must be fetched without the token. Installation tokens expire by the shared test clock.
Faults (401/404/422/429/403 rate limit/5xx) are queued with `fail`.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import jsonschema
import jwt

from tests.integrations.openapi_contract import Contract
from tests.integrations.orchestrators.fake_github_bodies import (
    ARTIFACTS_SCHEMA,
    EXTRA_QUERY,
    INSTALLATION_TOKEN_SCHEMA,
    JOBS_SCHEMA,
    Bodies,
    iso,
    outputs_zip,
)
from tests.integrations.orchestrators.fake_github_model import (
    APPLY,
    DESTROY,
    FIXED_INPUTS,
    REPOSITORY,
    Answer,
    FakeRun,
    Handler,
    error,
)

_CREATED = re.compile(r"^(>=|<=|>|<)?\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}Z)?$")
_REPO = r"^/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"
# (method, path, handler name, in the spec subset?)
_ROUTES = [
    ("GET", _REPO + r"$", "_get_repository", True),
    ("GET", _REPO + r"/actions/workflows/(?P<wf>[^/]+)$", "_get_workflow", True),
    ("POST", _REPO + r"/actions/workflows/(?P<wf>[^/]+)/dispatches$", "_dispatch", True),
    ("GET", _REPO + r"/actions/workflows/(?P<wf>[^/]+)/runs$", "_list_runs", True),
    ("GET", _REPO + r"/actions/runs/(?P<run>\d+)$", "_get_run", True),
    ("GET", _REPO + r"/actions/runs/(?P<run>\d+)/jobs$", "_jobs", False),
    ("GET", _REPO + r"/actions/runs/(?P<run>\d+)/artifacts$", "_artifacts", False),
    ("GET", _REPO + r"/actions/artifacts/(?P<artifact>\d+)/zip$", "_artifact_zip", False),
    ("GET", r"^/_blobs/(?P<artifact>\d+)$", "_blob", False),
    ("POST", r"^/app/installations/(?P<inst>\d+)/access_tokens$", "_access_token", False),
]


@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    answer: Answer
    times: int


class FakeGitHub:
    def __init__(
        self,
        contract: Contract,
        clock: Callable[[], datetime],
        *,
        token: str,
        app: tuple[str, str, int] | None = None,
        token_lifetime: timedelta = timedelta(hours=1),
        parameters: tuple[str, ...] = ("size", "region"),
    ) -> None:
        self._contract = contract
        self._clock = clock
        self._tokens: dict[str, datetime | None] = {token: None}
        self._app = app  # (app id, public key PEM, installation id)
        self._token_lifetime = token_lifetime
        self._lock = threading.Lock()
        self.workflows = {APPLY: [101, "active"], DESTROY: [102, "active"]}
        self.inputs = {APPLY: FIXED_INPUTS + parameters, DESTROY: FIXED_INPUTS}
        self.outcomes = {APPLY: "success", DESTROY: "success"}
        self.outputs: dict[str, Any] = {"values": {}, "secrets": {}}
        self.runs: dict[int, FakeRun] = {}
        self.requests: list[tuple[str, str, dict[str, str], str | None]] = []
        self.dispatches: list[dict[str, Any]] = []
        self.violations: list[str] = []
        self.issued: list[str] = []
        self._faults: list[Fault] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.fake = self  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._bodies = Bodies(contract, base_url=self.url, repository=REPOSITORY)

    def __enter__(self) -> FakeGitHub:
        # A short poll interval: shutdown waits for it at the end of every test.
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def fail(
        self,
        method: str,
        path: str,
        status: int,
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
        message: str = "Server Error",
    ) -> None:
        """The next `times` matching requests (`path` a regex) get this answer instead."""
        body = {"message": message, "documentation_url": "https://docs.github.com/rest"}
        self._faults.append(
            Fault(method, re.compile(path), Answer(status, body, headers or {}), times)
        )

    def revoke_installation_tokens(self) -> None:
        for token, expires in list(self._tokens.items()):
            if expires is not None:
                del self._tokens[token]

    def cancel(self, run_id: int) -> None:
        self.runs[run_id].cancelled = True

    def handle(self, method: str, target: str, headers: httpx.Headers, body: bytes) -> Answer:
        url = urlsplit(target)
        query = dict(parse_qsl(url.query))
        with self._lock:
            self.requests.append((method, url.path, query, headers.get("authorization")))
            for verb, pattern, name, in_spec in _ROUTES:
                match = re.match(pattern, url.path)
                if verb == method and match:
                    return self._serve(
                        name, in_spec, match.groupdict(), target, query, headers, body
                    )
            return self._refuse(404, f"{method} {url.path} is not an endpoint the fake serves")

    def _serve(
        self,
        name: str,
        in_spec: bool,
        args: dict[str, str],
        target: str,
        query: dict[str, str],
        headers: httpx.Headers,
        body: bytes,
    ) -> Answer:
        method = "POST" if name in ("_dispatch", "_access_token") else "GET"
        operation = None
        try:
            if in_spec:
                request = httpx.Request(method, f"{self.url}{target}", headers=headers)
                operation = self._contract.check_request(request)
            elif name != "_blob":
                kind = "jobs" if name == "_jobs" else "artifacts"
                extra = set(query) - EXTRA_QUERY.get(kind, set())
                assert not extra, f"undeclared query parameters {sorted(extra)}"
            if name != "_blob":
                assert headers.get("accept") == "application/vnd.github+json", "Accept header"
                assert headers.get("x-github-api-version") == "2022-11-28", "API version header"
        except AssertionError as exc:
            return self._refuse(400, f"{method} {target}: {exc}")
        if "owner" in args and f"{args['owner']}/{args['repo']}" != REPOSITORY:
            return error(404, "Not Found")
        refused = self._authenticate(name, headers)
        if refused is not None:
            return refused
        for fault in self._faults:
            if fault.method == method and fault.path.search(target) and fault.times > 0:
                fault.times -= 1
                return fault.answer
        args.pop("owner", None), args.pop("repo", None)
        answer: Answer = getattr(self, name)(query=query, body=body, headers=headers, **args)
        self._check_answer(name, operation, answer)
        return answer

    def _authenticate(self, name: str, headers: httpx.Headers) -> Answer | None:
        authorization = headers.get("authorization")
        if name == "_blob":
            if authorization is not None:
                self.violations.append("the token was sent to the artifact storage URL")
            return None
        bearer = (authorization or "").removeprefix("Bearer ")
        if name == "_access_token":
            return (
                None
                if self._valid_jwt(bearer)
                else error(401, "A JSON web token could not be decoded")
            )
        if bearer not in self._tokens:
            return error(401, "Bad credentials")
        expires = self._tokens[bearer]
        if expires is not None and expires <= self._clock():
            return error(401, "Bad credentials")
        return None

    def _valid_jwt(self, assertion: str) -> bool:
        if self._app is None:
            return False
        app_id, public_key, _ = self._app
        try:
            claims = jwt.decode(
                assertion,
                public_key,
                algorithms=["RS256"],
                options={"verify_exp": False, "verify_iat": False},
            )
        except jwt.PyJWTError:
            return False
        now = self._clock().timestamp()
        # GitHub: issued no later than now, expiring within 10 minutes of now.
        return bool(
            claims.get("iss") == app_id and claims["iat"] <= now < claims["exp"] <= now + 600
        )

    def _check_answer(self, name: str, operation: dict[str, Any] | None, answer: Answer) -> None:
        if not isinstance(answer.body, dict):
            return
        if operation is not None and str(answer.status) in operation["responses"]:
            schema = self._contract.response_schema(operation, str(answer.status))
        else:
            own = {
                "_jobs": JOBS_SCHEMA,
                "_artifacts": ARTIFACTS_SCHEMA,
                "_access_token": INSTALLATION_TOKEN_SCHEMA,
            }
            schema = own.get(name, {"$ref": "#/components/schemas/basic-error"})
        try:
            self._contract.validate(answer.body, schema)
        except jsonschema.ValidationError as exc:
            self.violations.append(f"the fake answered {name} off-spec: {exc.message}")

    def _refuse(self, status: int, reason: str) -> Answer:
        self.violations.append(reason)
        return error(status, f"fake GitHub: {reason}")

    def _get_repository(self, **_: Any) -> Answer:
        return Answer(200, self._bodies.repository_body())

    def _get_workflow(self, wf: str, **_: Any) -> Answer:
        if wf not in self.workflows:
            return error(404, "Not Found")
        workflow_id, state = self.workflows[wf]
        return Answer(200, self._bodies.workflow(workflow_id, wf, state))

    def _dispatch(self, wf: str, body: bytes, **_: Any) -> Answer:
        if wf not in self.workflows:
            return error(404, "Not Found")
        operation = self._contract.operation(
            "POST", f"/repos/{REPOSITORY}/actions/workflows/{wf}/dispatches"
        )
        try:
            document = json.loads(body)
            self._contract.validate(document, self._contract.request_schema(operation))
        except (ValueError, jsonschema.ValidationError) as exc:
            return self._refuse(422, f"dispatch body: {getattr(exc, 'message', exc)}")
        inputs = document.get("inputs") or {}
        refusal = self._check_inputs(wf, inputs)
        if refusal is not None:
            return error(422, refusal)
        if document["ref"] != "main":
            return error(422, f"No ref found for: {document['ref']}")
        self.dispatches.append(document)
        run_id = 5000 + len(self.runs) + 1
        self.runs[run_id] = FakeRun(
            run_id,
            len(self.runs) + 1,
            wf,
            document["ref"],
            inputs.get("request_id", wf),
            dict(inputs),
            self._clock(),
            self.outcomes[wf],
        )
        if not document.get("return_run_details"):
            return Answer(204)
        api = f"{self.url}/repos/{REPOSITORY}/actions/runs/{run_id}"
        html = f"https://github.com/{REPOSITORY}/actions/runs/{run_id}"
        return Answer(200, {"workflow_run_id": run_id, "run_url": api, "html_url": html})

    def _check_inputs(self, wf: str, inputs: dict[str, Any]) -> str | None:
        declared = self.inputs[wf]
        unexpected = sorted(set(inputs) - set(declared))
        if unexpected:
            return f"Unexpected inputs provided: {json.dumps(unexpected)}"
        missing = [name for name in FIXED_INPUTS if name not in inputs]
        if missing:
            return f"Required input '{missing[0]}' not provided"
        not_strings = sorted(k for k, v in inputs.items() if not isinstance(v, str))
        return f"Inputs must be strings: {not_strings}" if not_strings else None

    def _list_runs(self, wf: str, query: dict[str, str], **_: Any) -> Answer:
        created = query.get("created", "")
        if created and not _CREATED.match(created):
            return self._refuse(422, f"created={created!r} is not GitHub's date syntax")
        per_page, page = int(query.get("per_page", 30)), int(query.get("page", 1))
        if not 1 <= per_page <= 100:
            return self._refuse(422, "per_page is 1-100")
        since = created.lstrip("><=")
        matching = [
            run
            for run in sorted(self.runs.values(), key=lambda r: -r.id)
            if run.workflow == wf
            and query.get("event", "workflow_dispatch") == "workflow_dispatch"
            and query.get("branch", run.ref) == run.ref
            and (not since or iso(run.created_at) >= since)
        ]
        chunk = matching[(page - 1) * per_page : page * per_page]
        workflow_id = self.workflows[wf][0]
        body = {
            "total_count": len(matching),
            "workflow_runs": [self._bodies.run(r, workflow_id) for r in chunk],
        }
        return Answer(200, body)

    def _get_run(self, run: str, **_: Any) -> Answer:
        found = self.runs.get(int(run))
        if found is None:
            return error(404, "Not Found")
        found.polls += 1
        if (
            found.status == "completed"
            and found.workflow == APPLY
            and found.conclusion == "success"
        ):
            found.artifact = found.artifact or outputs_zip(self.outputs)
        return Answer(200, self._bodies.run(found, self.workflows[found.workflow][0]))

    def _jobs(self, run: str, **_: Any) -> Answer:
        found = self.runs.get(int(run))
        return error(404, "Not Found") if found is None else Answer(200, self._bodies.jobs(found))

    def _artifacts(self, run: str, **_: Any) -> Answer:
        found = self.runs.get(int(run))
        if found is None:
            return error(404, "Not Found")
        return Answer(200, self._bodies.artifacts(found, self._clock() + timedelta(days=90)))

    def _artifact_zip(self, artifact: str, **_: Any) -> Answer:
        if self._artifact(int(artifact)) is None:
            return error(404, "Not Found")
        return Answer(302, headers={"Location": f"{self.url}/_blobs/{artifact}?sig=presigned"})

    def _blob(self, artifact: str, **_: Any) -> Answer:
        data = self._artifact(int(artifact))
        return (
            Answer(404) if data is None else Answer(200, data, {"Content-Type": "application/zip"})
        )

    def _artifact(self, artifact_id: int) -> bytes | None:
        run = self.runs.get(artifact_id - 1000)
        return None if run is None else run.artifact

    def _access_token(self, inst: str, **_: Any) -> Answer:
        if self._app is None or int(inst) != self._app[2]:
            return error(404, "Not Found")
        token = f"ghs_fake{len(self.issued) + 1:04d}"
        expires = self._clock() + self._token_lifetime
        self._tokens[token] = expires
        self.issued.append(token)
        return Answer(
            201,
            {
                "token": token,
                "expires_at": iso(expires),
                "permissions": {"actions": "write"},
                "repository_selection": "selected",
            },
        )
