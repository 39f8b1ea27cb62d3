"""The `local` driver: the bot's own provisioners, every resource in parallel.

Each resource is checkpointed in its `env_resource` row: PLANNED → OWNED (the name was
free; the generated password is sealed on the row before anything is made, so a resumed run
sets the same one) → READY. A create killed half-way is run again by the job runner and
carries on from each row's state, and every provisioner step converges when repeated. A
roll-back or destroy removes only what reached OWNED: a same-named resource that existed
before (the `exists` check refused it) is never touched. Destroy checks afterwards that
each resource is gone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.db import SessionFactory
from commands.environments.drivers.base import (
    Applied,
    EnvShape,
    Progress,
    ResourceFailed,
    ResourceShape,
)
from commands.environments.models import EnvResource, ResourceState
from commands.environments.service.types import Change
from commands.resources.credentials import CredentialBox, generate_password
from integrations.errors import IntegrationError, ProviderRejected, ProviderUnavailable
from integrations.provisioning_protocols import (
    Credentials,
    DataCloner,
    Provisioner,
    ResourceSpec,
    SqlRunner,
)

logger = logging.getLogger(__name__)
_T = TypeVar("_T")
MAX_PARALLEL = 8


class LocalDriver:
    def __init__(
        self,
        *,
        sessions: SessionFactory,
        box: CredentialBox,
        provisioners: dict[str, Provisioner],
    ) -> None:
        self._sessions = sessions
        self._box = box
        self._provisioners = provisioners

    # -- plans ---------------------------------------------------------------------------

    def plan_create(self, env: EnvShape) -> list[Change]:
        """What a create makes, once each server it needs has answered (a server that is
        down is named now, before Confirm, not half-way through)."""
        engines = {r.engine: r for r in env.resources}
        _each(
            tuple(engines.values()),
            lambda r: _step(r, "checking the server", self._provisioner(r).check),
        )
        changes = []
        for resource in env.resources:
            what = f"{resource.label} `{resource.name}` ({resource.plan})"
            if env.source is not None and self._source_of(env, resource) is not None:
                changes.append(Change("copy", f"{what} with the data of `{env.source.name}`"))
            else:
                changes.append(Change("create", what))
        return changes

    def plan_destroy(self, env: EnvShape) -> list[Change]:
        return [
            Change("destroy", f"{r.label} `{r.name}` and everything in it") for r in env.resources
        ]

    # -- create, roll back, destroy ----------------------------------------------------------

    def create(self, env: EnvShape, progress: Progress) -> Applied:
        def one(resource: ResourceShape) -> Credentials:
            return self._create_one(env, resource, progress)

        made = _each(env.resources, one)
        applied = Applied()
        for resource, credentials in zip(env.resources, made, strict=True):
            # Engines without a server or users (SQLite) leave some of these empty.
            shown = {
                "host": f"{credentials.host}:{credentials.port}" if credentials.host else "",
                "name": credentials.database,
                "user": credentials.username,
            }
            for field, value in shown.items():
                if value:
                    applied.outputs[f"{resource.key}.{field}"] = value
            applied.secrets[f"{resource.key}.url"] = credentials.url
            applied.secrets[f"{resource.key}.password"] = credentials.password
        return applied

    def roll_back(self, env: EnvShape, progress: Progress) -> list[str]:
        return [_failure(r, p) for r, p in self._remove_all(env) if p is not None]

    def destroy(self, env: EnvShape, progress: Progress) -> list[str]:
        failed = [(r, p) for r, p in self._remove_all(env) if p is not None]
        if failed:
            # A server that was down may answer the job's next attempt; a refusal will not.
            down = any(isinstance(p, ProviderUnavailable) for _, p in failed)
            error = ProviderUnavailable if down else ProviderRejected
            raise error("environment", "; ".join(_failure(r, p) for r, p in failed))
        removed = []
        for resource in env.resources:
            progress(f"Removed {resource.label} `{resource.name}`.")
            removed.append(f"{resource.label} `{resource.name}`")
        return removed

    def reissue(self, env: EnvShape, progress: Progress) -> Applied:
        def one(resource: ResourceShape) -> Credentials:
            provisioner = self._provisioner(resource)
            password = self._password(env, resource, fresh=True)
            spec = _spec(resource)
            _step(
                resource,
                "setting the new password",
                lambda: provisioner.create_user(spec, password),
            )
            progress(f"New password set for {resource.label} `{resource.name}`.")
            return provisioner.credentials(spec, password)

        applied = Applied()
        for resource, credentials in zip(env.resources, _each(env.resources, one), strict=True):
            applied.secrets[f"{resource.key}.url"] = credentials.url
            applied.secrets[f"{resource.key}.password"] = credentials.password
        self.forget_passwords(env)
        return applied

    # -- one resource --------------------------------------------------------------------------

    def _create_one(
        self, env: EnvShape, resource: ResourceShape, progress: Progress
    ) -> Credentials:
        provisioner = self._provisioner(resource)
        spec = _spec(resource)
        _step(resource, "checking the server", provisioner.check)
        state = self._state(env, resource)
        if state == ResourceState.PLANNED:
            if _step(resource, "checking the name", lambda: provisioner.exists(spec)):
                raise ResourceFailed(
                    resource.name,
                    "checking the name",
                    ProviderRejected(
                        resource.engine,
                        f"{resource.label} already has `{resource.name}`, which this "
                        "environment did not create; it was left alone. Pick another name.",
                    ),
                )
            self._mark(env, resource, ResourceState.OWNED, password=generate_password())
        password = self._password(env, resource)
        source = self._source_of(env, resource)
        if source is not None:
            cloner = _cloner(provisioner, resource)
            _step(resource, "copying the data", lambda: cloner.clone_resource(_spec(source), spec))
        else:
            _step(resource, "creating it", lambda: provisioner.create_resource(spec))
        _step(resource, "creating its user", lambda: provisioner.create_user(spec, password))
        _step(resource, "granting access", lambda: provisioner.grant(spec))
        mask = env.template.mask_sql.get(resource.key) if source is not None else None
        if mask:
            runner = _sql_runner(provisioner, resource)
            _step(resource, "masking the copy", lambda: runner.run_sql(spec, mask))
        credentials = provisioner.credentials(spec, password)
        self._mark(env, resource, ResourceState.READY)
        progress(f"{resource.label} `{resource.name}` is ready.")
        return credentials

    def _remove_all(self, env: EnvShape) -> list[tuple[ResourceShape, IntegrationError | None]]:
        problems = _each(env.resources, lambda r: self._remove(r, env))
        return list(zip(env.resources, problems, strict=True))

    def _remove(self, resource: ResourceShape, env: EnvShape) -> IntegrationError | None:
        """Drop one resource if it is ours, and check it is gone; what went wrong, if anything."""
        if self._state(env, resource) in (ResourceState.PLANNED, ResourceState.REMOVED):
            return None
        provisioner = self._provisioner(resource)
        spec = _spec(resource)
        try:
            provisioner.drop(spec)
            if provisioner.exists(spec):
                return ProviderRejected(resource.engine, "still there after dropping it")
        except IntegrationError as exc:
            logger.warning("environments: removing %s failed: %s", resource.name, exc.message)
            return exc
        self._mark(env, resource, ResourceState.REMOVED)
        return None

    def _source_of(self, env: EnvShape, resource: ResourceShape) -> ResourceShape | None:
        if env.source is None:
            return None
        for candidate in env.source.resources:
            if candidate.key == resource.key and candidate.engine == resource.engine:
                return candidate
        return None

    def _provisioner(self, resource: ResourceShape) -> Provisioner:
        provisioner = self._provisioners.get(resource.engine)
        if provisioner is None:
            raise ResourceFailed(
                resource.name,
                "finding its engine",
                ProviderRejected(resource.engine, f"{resource.label} is not configured here"),
            )
        return provisioner

    # -- rows ------------------------------------------------------------------------------------

    def _state(self, env: EnvShape, resource: ResourceShape) -> str:
        with self._sessions() as session:
            return _row(session, env, resource).state

    def _mark(
        self,
        env: EnvShape,
        resource: ResourceShape,
        state: ResourceState,
        password: str | None = None,
    ) -> None:
        with self._sessions.begin() as session:
            row = _row(session, env, resource)
            row.state = state
            if password is not None:
                row.password_ciphertext = self._box.seal(password)

    def _password(self, env: EnvShape, resource: ResourceShape, *, fresh: bool = False) -> str:
        with self._sessions.begin() as session:
            row = _row(session, env, resource)
            if fresh or row.password_ciphertext is None:
                row.password_ciphertext = self._box.seal(generate_password())
            return self._box.open(row.password_ciphertext)

    def forget_passwords(self, env: EnvShape) -> None:
        """Once the credentials are sealed for their reveal, the rows need them no more."""
        with self._sessions.begin() as session:
            for row in session.scalars(
                select(EnvResource).where(EnvResource.environment_id == env.id)
            ):
                row.password_ciphertext = None


def _row(session: Session, env: EnvShape, resource: ResourceShape) -> EnvResource:
    query = select(EnvResource).where(
        EnvResource.environment_id == env.id, EnvResource.key == resource.key
    )
    return session.scalars(query).one()


def _each(resources: tuple[ResourceShape, ...], work: Callable[[ResourceShape], _T]) -> list[_T]:
    """`work` on every resource at once; the first failure is raised once all have ended,
    so a roll-back never races a resource still being made."""
    if not resources:
        return []
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, len(resources))) as pool:
        futures = [pool.submit(work, resource) for resource in resources]
    for future in futures:
        error = future.exception()
        if error is not None:
            raise error
    return [future.result() for future in futures]


def _failure(resource: ResourceShape, problem: IntegrationError) -> str:
    return f"{resource.label} `{resource.name}`: {problem.message}"


def _spec(resource: ResourceShape) -> ResourceSpec:
    return ResourceSpec(engine=resource.engine, name=resource.name, limits=resource.limits)


def _step(resource: ResourceShape, step: str, call: Callable[[], _T]) -> _T:
    try:
        return call()
    except IntegrationError as exc:
        raise ResourceFailed(f"{resource.label} `{resource.name}`", step, exc) from exc


def _cloner(provisioner: Provisioner, resource: ResourceShape) -> DataCloner:
    if not callable(getattr(provisioner, "clone_resource", None)):
        raise _cannot(resource, "copying the data")
    return cast(DataCloner, provisioner)


def _sql_runner(provisioner: Provisioner, resource: ResourceShape) -> SqlRunner:
    if not callable(getattr(provisioner, "run_sql", None)):
        raise _cannot(resource, "masking the copy")
    return cast(SqlRunner, provisioner)


def _cannot(resource: ResourceShape, step: str) -> ResourceFailed:
    refusal = ProviderRejected(resource.engine, f"{resource.label} cannot do this here")
    return ResourceFailed(f"{resource.label} `{resource.name}`", step, refusal)
