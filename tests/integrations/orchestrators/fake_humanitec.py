"""A fake Humanitec Platform Orchestrator API on a local port, held to the official OpenAPI.

Only the endpoints the driver uses are implemented, on a `SpecServer` (`fake.server`): every
request is checked against the spec (operation, query parameters, request body schema, JSON)
and the `Authorization: Bearer` token, and every answer against the operation's response
schema, errors against `HumanitecErrorResponse`; what the spec does not allow is answered
400/405 and recorded in `fake.server.violations`. The endpoints also refuse what Humanitec
documents refusing: an environment id that exists (409), a `from_deploy_id` or `delta_id`
that names nothing (400), a second deployment while one is active (409), unknown ids (404).

Behaviour: deployments stay `in progress` for `polls_to_finish` reads of the deployment, then
succeed (making the active resources their modules' externals and shared resources ask for)
or fail with `deploy_errors`; an environment deleted with `DELETE` is `deleting` for
`delete_polls` reads, then 404. `fake.server.fail_next` queues faults (429 with
Retry-After, 5xx, …). Convert-score does the small part of Humanitec's Score conversion the
driver relies on: one module per workload, resources as externals (shared when they have an
`id`), `${resources.x…}` placeholders rewritten.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.integrations.openapi_contract import Contract
from tests.integrations.orchestrators.spec_server import Answer, Endpoint, SpecServer

ERROR_SCHEMA = {"$ref": "#/components/schemas/HumanitecErrorResponse"}
APP = r"/orgs/(?P<org>[^/]+)/apps/(?P<app>[^/]+)"
ENV = APP + r"/envs/(?P<env>[^/]+)"
OUTPUTS: dict[str, dict[str, Any]] = {
    "postgres": {"host": "pg.internal", "port": 5432},
    "redis": {"host": "redis.internal"},
}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _error(status: int, message: str) -> Answer:
    return status, {"error": f"API-{status}", "message": message}, {}


@dataclass
class Deployment:
    body: dict[str, Any]
    polls_left: int
    delta: dict[str, Any] = field(default_factory=dict)


class FakeHumanitec:
    def __init__(self, contract: Contract, *, token: str, org: str = "acme", app: str = "orders"):
        self.org, self.app = org, app
        self.polls_to_finish = 2
        self.delete_polls = 1
        self.deploy_errors: list[dict[str, str]] = []
        self.delta_answer = "object"  # or "id": the spec allows both
        self.resource_secrets = False
        self.envs: dict[str, dict[str, Any]] = {}
        self.deployments: dict[str, dict[str, Deployment]] = {}
        self.deltas: dict[str, dict[str, Any]] = {}
        self.resources: dict[str, list[dict[str, Any]]] = {}
        self._deleting: dict[str, int] = {}
        self.server = SpecServer(
            contract,
            routes=self._routes(),
            token=token,
            error_body=lambda status, message: _error(status, message)[1],
            error_schema=ERROR_SCHEMA,
        )
        self.add_environment("development", deployed=True)

    def add_environment(self, env_id: str, *, deployed: bool) -> None:
        now = _now()
        env = {
            "id": env_id,
            "name": env_id.title(),
            "type": "development",
            "created_at": now,
            "created_by": "a.user@example.com",
            "status": "active",
            "status_changed_at": now,
        }
        self.envs[env_id] = env
        self.deployments[env_id] = {}
        if deployed:
            deploy = self._new_deployment(env_id, delta_id="", comment="first deployment")
            deploy.body["status"], deploy.polls_left = "succeeded", 0

    def start_deployment(self, env_id: str, *, comment: str) -> None:
        """A deployment of an empty Delta, in progress, as someone in the console starts one."""
        self.deltas.setdefault("empty", {})
        self._new_deployment(env_id, "empty", comment)

    # The endpoints: each takes the path's groups and the (validated) body.

    def _routes(self) -> list[tuple[str, str, Endpoint]]:
        routes: list[tuple[str, str, Endpoint]] = [
            ("GET", APP, self._get_app),
            ("POST", APP + "/envs", self._create_env),
            ("GET", ENV, self._get_env),
            ("DELETE", ENV, self._delete_env),
            ("POST", r"/orgs/(?P<org>[^/]+)/artefact-versions/convert-score", self._convert),
            ("POST", APP + "/deltas", self._create_delta),
            ("POST", ENV + "/deploys", self._create_deploy),
            ("GET", ENV + "/deploys", self._list_deploys),
            ("GET", ENV + "/deploys/(?P<deploy>[^/]+)", self._get_deploy),
            ("GET", ENV + "/deploys/(?P<deploy>[^/]+)/errors", self._deploy_errors),
            ("GET", ENV + "/resources", self._active_resources),
        ]
        return [(method, path, self._in_our_app(endpoint)) for method, path, endpoint in routes]

    def _in_our_app(self, endpoint: Endpoint) -> Endpoint:
        def checked(path: dict[str, str], body: Any) -> Answer:
            if path["org"] != self.org or path.get("app", self.app) != self.app:
                return _error(404, "No such Organization or Application.")
            return endpoint(path, body)

        return checked

    def _get_app(self, path: dict[str, str], body: Any) -> Answer:
        now = _now()
        envs = [{"id": e["id"], "name": e["name"], "type": e["type"]} for e in self.envs.values()]
        app = {
            "id": self.app,
            "name": "Orders",
            "org_id": self.org,
            "created_at": now,
            "created_by": "a.user@example.com",
            "envs": envs,
            "status": "active",
            "status_changed_at": now,
        }
        return 200, app, {}

    def _create_env(self, path: dict[str, str], body: Any) -> Answer:
        if body["id"] in self.envs:
            return _error(409, f"Environment {body['id']} already exists.")
        source = self._find_deployment(body.get("from_deploy_id", ""))
        if source is None:
            return _error(400, "from_deploy_id names no deployment of the app.")
        self.add_environment(body["id"], deployed=False)
        env = self.envs[body["id"]]
        env.update(name=body["name"], type=body.get("type", "development"))
        env["from_deploy_id"] = source.body["id"]
        return 201, self._env_body(body["id"]), {}

    def _get_env(self, path: dict[str, str], body: Any) -> Answer:
        env_id = path["env"]
        if env_id in self._deleting:
            self._deleting[env_id] -= 1
            if self._deleting[env_id] < 0:
                self.remove_environment(env_id)
        if env_id not in self.envs:
            return _error(404, f"No Environment with id {env_id}.")
        return 200, self._env_body(env_id), {}

    def _delete_env(self, path: dict[str, str], body: Any) -> Answer:
        env_id = path["env"]
        if env_id not in self.envs:
            return _error(404, f"No Environment with id {env_id}.")
        if self.delete_polls == 0:
            self.remove_environment(env_id)
            return 204, None, {}
        self.envs[env_id].update(status="deleting", status_changed_at=_now())
        self._deleting[env_id] = self.delete_polls
        return 202, None, {}

    def remove_environment(self, env_id: str) -> None:
        """Gone at once, as when someone deletes it in Humanitec's console."""
        for table in (self.envs, self.deployments, self.resources, self._deleting):
            table.pop(env_id, None)

    def _convert(self, path: dict[str, str], body: Any) -> Answer:
        spec = body["spec"]
        name = (spec.get("metadata") or {}).get("name")
        if not name or not isinstance(spec.get("containers"), dict):
            return _error(400, "The Score spec needs metadata.name and containers.")
        externals: dict[str, Any] = {}
        shared: dict[str, Any] = {}
        for res_name, resource in (spec.get("resources") or {}).items():
            converted = {
                "type": resource["type"],
                **({"class": resource["class"]} if "class" in resource else {}),
            }
            (shared if "id" in resource else externals)[resource.get("id", res_name)] = converted
        containers = {
            c_name: {
                "id": c_name,
                "image": c.get("image", ""),
                "variables": {
                    k: _placeholders(v, name, spec) for k, v in (c.get("variables") or {}).items()
                },
            }
            for c_name, c in spec["containers"].items()
        }
        module = {
            "profile": "humanitec/default-module",
            "spec": {"containers": containers},
            "externals": externals,
        }
        return 200, {"modules": {name: module}, "shared": shared}, {}

    def _create_delta(self, path: dict[str, str], body: Any) -> Answer:
        delta_id = uuid.uuid4().hex
        self.deltas[delta_id] = body
        if self.delta_answer == "id":
            return 200, delta_id, {}
        now = _now()
        metadata = {
            **body.get("metadata", {}),
            "created_by": "s-bot",
            "created_at": now,
            "last_modified_at": now,
            "archived": False,
        }
        modules = {"add": {}, "remove": [], "update": {}, **body.get("modules", {})}
        answer = {
            "id": delta_id,
            "metadata": metadata,
            "modules": modules,
            "shared": body.get("shared") or [],
        }
        return 200, answer, {}

    def _create_deploy(self, path: dict[str, str], body: Any) -> Answer:
        env_id = path["env"]
        if env_id not in self.envs:
            return _error(404, f"No Environment with id {env_id}.")
        if body.get("delta_id") not in self.deltas:
            return _error(400, "The Delta does not exist.")
        if any(d.polls_left > 0 for d in self.deployments[env_id].values()):
            return _error(409, "There is already an active deployment.")
        deploy = self._new_deployment(env_id, body["delta_id"], body.get("comment", ""))
        return 201, deploy.body, {}

    def _list_deploys(self, path: dict[str, str], body: Any) -> Answer:
        if path["env"] not in self.envs:
            return _error(404, f"No Environment with id {path['env']}.")
        newest_first = reversed(list(self.deployments[path["env"]].values()))
        return 200, [d.body for d in newest_first], {}

    def _get_deploy(self, path: dict[str, str], body: Any) -> Answer:
        deploy = self.deployments.get(path["env"], {}).get(path["deploy"])
        if deploy is None:
            return _error(404, f"No Deployment with id {path['deploy']}.")
        if deploy.polls_left > 0:
            deploy.polls_left -= 1
            if deploy.polls_left == 0:
                self._finish(path["env"], deploy)
        return 200, deploy.body, {}

    def _deploy_errors(self, path: dict[str, str], body: Any) -> Answer:
        deploy = self.deployments.get(path["env"], {}).get(path["deploy"])
        failed = deploy is not None and deploy.body["status"] == "failed"
        return 200, list(self.deploy_errors) if failed else [], {}

    def _active_resources(self, path: dict[str, str], body: Any) -> Answer:
        return 200, self.resources.get(path["env"], []), {}

    def _new_deployment(self, env_id: str, delta_id: str, comment: str) -> Deployment:
        env = self.envs[env_id]
        deploy_id = uuid.uuid4().hex[:16]
        body = {
            "id": deploy_id,
            "env_id": env_id,
            "delta_id": delta_id,
            "comment": comment,
            "set_id": uuid.uuid4().hex,
            "from_id": env.get("from_deploy_id", ""),
            "created_at": _now(),
            "created_by": "s-bot",
            "status": "in progress",
            "status_changed_at": _now(),
            "export_status": "",
            "export_file": "",
        }
        deploy = Deployment(body, self.polls_to_finish, self.deltas.get(delta_id, {}))
        self.deployments[env_id][deploy_id] = deploy
        env["last_deploy_id"] = deploy_id
        return deploy

    def _finish(self, env_id: str, deploy: Deployment) -> None:
        deploy.body.update(status="failed" if self.deploy_errors else "succeeded")
        deploy.body["status_changed_at"] = _now()
        if self.deploy_errors:
            return
        wanted = [
            (f"modules.{module}.externals.{name}", ext["type"])
            for module, spec in (deploy.delta.get("modules", {}).get("add") or {}).items()
            for name, ext in spec.get("externals", {}).items()
        ] + [
            (f"shared{a['path'].replace('/', '.')}", a["value"]["type"])
            for a in deploy.delta.get("shared") or []
        ]
        self.resources[env_id] = [self._resource(env_id, deploy, *w) for w in wanted]

    def _resource(self, env_id: str, deploy: Deployment, res_id: str, kind: str) -> dict[str, Any]:
        resource = {
            "org_id": self.org,
            "app_id": self.app,
            "env_id": env_id,
            "env_type": self.envs[env_id]["type"],
            "res_id": res_id,
            "def_id": f"default-{kind}",
            "def_version_id": str(uuid.uuid4()),
            "type": kind,
            "driver_type": "humanitec/echo",
            "class": "default",
            "status": "active",
            "resource": dict(OUTPUTS.get(kind, {})),
            "secret_refs": {"password": f"orgs/{self.org}/resources/x/secrets/.password"},
            "updated_at": _now(),
            "deploy_id": deploy.body["id"],
            "gu_res_id": uuid.uuid4().hex,
            "scheduled_deletion": False,
        }
        if self.resource_secrets:
            resource["secrets"] = {"password": "s3cr3t-pw"}
        return resource

    def _find_deployment(self, deploy_id: str) -> Deployment | None:
        return next((d[deploy_id] for d in self.deployments.values() if deploy_id in d), None)

    def _env_body(self, env_id: str) -> dict[str, Any]:
        env = self.envs[env_id]
        body = {k: v for k, v in env.items() if not k.endswith("deploy_id")}
        for key, ref in (("last_deploy", "last_deploy_id"), ("from_deploy", "from_deploy_id")):
            found = self._find_deployment(env.get(ref, ""))
            if found is not None:
                body[key] = found.body
        return body


def _placeholders(value: str, name: str, spec: dict[str, Any]) -> str:
    """Score's `${resources.x.…}` as Humanitec's `${externals.x.…}` or `${shared.id.…}`."""

    def target(found: re.Match[str]) -> str:
        resource = (spec.get("resources") or {}).get(found.group(1), {})
        return "${shared." + resource["id"] if "id" in resource else "${externals." + found.group(1)

    return re.sub(r"\$\{resources\.([a-z0-9-]+)", target, value.replace("${metadata.name}", name))
