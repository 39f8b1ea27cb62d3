"""The Helm chart, rendered by a real helm for each values set in the chart's ci/ folder, and
every document checked against the Kubernetes schemas of a pinned version.

What a cluster operator relies on: probes on the right paths and ports, the migration as a
hook before install and upgrade, Socket Mode without anything listening, secrets only by
reference, a ConfigMap the bot accepts, HPA and PDB that target the right pods.
"""

from __future__ import annotations

from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from bot.core.config import JobsRunIn
from bot.runtime.cli import _parser
from bot.runtime.config import check_deployment, parse_config
from tests.deploy.helm import (
    CHART,
    KUBERNETES_VERSION,
    OLDEST_KUBERNETES_VERSION,
    HelmFailed,
    InvalidCustomResource,
    Manifest,
    Rendered,
    container,
    env_of,
    lint,
    render,
    validate_custom_resources,
)

# What the rendered configs read from the environment (placeholders, never real secrets).
FAKE_ENVIRON = {"PLATFORM_BOT_SECRET_KEY": "x" * 43 + "=", "POSTGRES_ADMIN_PASSWORD": "pw"}

VALUE_SETS = {
    "defaults": (),
    "http": ("http-values.yaml",),
    "socket": ("socket-values.yaml",),
    "scaled": ("scaled-values.yaml",),
}
SECRET_NAMES = {
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "DATABASE_URL",
    "PLATFORM_BOT_SECRET_KEY",
    "POSTGRES_ADMIN_PASSWORD",
}


@pytest.fixture(scope="session")
def helm_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("helm")


@pytest.fixture(scope="session")
def rendered(helm_home: Path) -> dict[str, Rendered]:
    return {name: Rendered(render(helm_home, files)) for name, files in VALUE_SETS.items()}


CUSTOM_KINDS = {"ServiceMonitor"}


def _validate(manifests: list[Manifest], version: str = KUBERNETES_VERSION) -> None:
    standard = [m for m in manifests if m["kind"] not in CUSTOM_KINDS]
    for manifest in standard:
        kubernetes_validate.validate(manifest, version, strict=True)
    custom = [m for m in manifests if m["kind"] in CUSTOM_KINDS]
    if custom:
        validate_custom_resources(custom)


@pytest.mark.parametrize("version", [KUBERNETES_VERSION, OLDEST_KUBERNETES_VERSION])
@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_every_rendered_document_is_valid_for_the_pinned_kubernetes(
    rendered: dict[str, Rendered], value_set: str, version: str
) -> None:
    manifests = rendered[value_set].manifests
    assert len(manifests) >= 7
    _validate(manifests, version)


def test_the_oldest_version_checked_is_the_one_the_chart_claims() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["kubeVersion"] == f">={OLDEST_KUBERNETES_VERSION}-0"


def test_the_schema_checks_refuse_a_wrong_manifest(rendered: dict[str, Rendered]) -> None:
    deployment = rendered["defaults"].one("Deployment", "serve")
    broken = {**deployment, "spec": {**deployment["spec"], "replicas": "two"}}
    with pytest.raises(kubernetes_validate.ValidationError):
        _validate([broken])
    misspelt = {**deployment, "spec": {**deployment["spec"], "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        _validate([misspelt])
    (monitor,) = rendered["scaled"].of_kind("ServiceMonitor")
    endpoint = {**monitor["spec"]["endpoints"][0], "interval": "every 15 s"}
    wrong = {**monitor, "spec": {**monitor["spec"], "endpoints": [endpoint]}}
    with pytest.raises(InvalidCustomResource, match="interval"):
        _validate([wrong])


@pytest.mark.parametrize("values_file", [None, "http-values.yaml", "socket-values.yaml"])
def test_helm_lint_passes_strictly(helm_home: Path, values_file: str | None) -> None:
    done = lint(helm_home, values_file)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 chart(s) failed" in done.stdout


def test_each_value_set_renders_the_objects_of_its_mode(rendered: dict[str, Rendered]) -> None:
    common = ["ConfigMap", "Deployment", "Deployment", "Job", "PodDisruptionBudget"]
    common += ["PodDisruptionBudget", "ServiceAccount"]
    assert rendered["defaults"].kinds() == sorted([*common, "Service"])
    assert rendered["http"].kinds() == sorted([*common, "Service", "Ingress"])
    assert rendered["socket"].kinds() == sorted(common)
    scaled = [*common, "Service", "Service", "HorizontalPodAutoscaler"]
    assert rendered["scaled"].kinds() == sorted(
        [*scaled, "HorizontalPodAutoscaler", "ServiceMonitor"]
    )


def _probe_paths(workload: Manifest) -> dict[str, tuple[str, str]]:
    found = {}
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        get = container(workload)[probe]["httpGet"]
        found[probe] = (get["path"], get["port"])
    return found


def _port(workload: Manifest, name: str) -> int:
    (port,) = [p for p in container(workload)["ports"] if p["name"] == name]
    number: int = port["containerPort"]
    return number


@pytest.mark.parametrize("value_set", ["defaults", "http", "scaled"])
def test_serve_probes_ask_readyz_and_healthz_on_the_port_it_binds(
    rendered: dict[str, Rendered], value_set: str
) -> None:
    serve = rendered[value_set].one("Deployment", "serve")
    assert _probe_paths(serve) == {
        "startupProbe": ("/healthz", "http"),
        "readinessProbe": ("/readyz", "http"),
        "livenessProbe": ("/healthz", "http"),
    }
    args = _parser().parse_args(container(serve)["args"])
    assert args.command == "serve"
    assert _port(serve, "http") == args.port == 3000
    assert (args.host, args.threads) == ("0.0.0.0", 32)


def test_serve_takes_its_port_and_processes_from_the_values(helm_home: Path) -> None:
    serve = Rendered(render(helm_home, sets={"serve.port": "8080", "serve.workers": "3"}))
    deployment = serve.one("Deployment", "serve")
    args = _parser().parse_args(container(deployment)["args"])
    assert (args.port, args.workers) == (8080, 3)
    assert _port(deployment, "http") == 8080
    assert serve.one("Service", "serve")["spec"]["ports"][0]["targetPort"] == "http"


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_worker_probes_ask_its_health_port(rendered: dict[str, Rendered], value_set: str) -> None:
    worker = rendered[value_set].one("Deployment", "worker")
    assert container(worker)["args"] == ["worker", "--health-port=8081"]
    assert _port(worker, "health") == 8081
    assert _probe_paths(worker) == {
        "startupProbe": ("/healthz", "health"),
        "readinessProbe": ("/readyz", "health"),
        "livenessProbe": ("/healthz", "health"),
    }


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_the_migration_is_a_hook_before_install_and_upgrade(
    rendered: dict[str, Rendered], value_set: str
) -> None:
    job = rendered[value_set].one("Job", "migrate")
    annotations = job["metadata"]["annotations"]
    assert annotations["helm.sh/hook"].split(",") == ["pre-install", "pre-upgrade"]
    assert "before-hook-creation" in annotations["helm.sh/hook-delete-policy"].split(",")
    assert container(job)["args"] == ["migrate"]
    assert _parser().parse_args(["migrate"]).command == "migrate"
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    # A pre-install hook runs before the release's ConfigMap and ServiceAccount exist.
    pod = job["spec"]["template"]["spec"]
    assert all("configMap" not in volume for volume in pod.get("volumes", []))
    assert "serviceAccountName" not in pod
    assert env_of(job)["DATABASE_URL"]["valueFrom"]["secretKeyRef"]["key"]


def test_socket_mode_renders_no_service_no_ingress_and_no_probes(
    rendered: dict[str, Rendered],
) -> None:
    socket = rendered["socket"]
    assert socket.of_kind("Service") == []
    assert socket.of_kind("Ingress") == []
    deployment = socket.one("Deployment", "socket")
    assert container(deployment)["args"] == ["socket"]
    assert deployment["spec"]["replicas"] == 2
    # `platform-bot socket` listens on nothing: no port to declare, none to probe.
    for field in ("ports", "readinessProbe", "livenessProbe", "startupProbe"):
        assert field not in container(deployment)


@pytest.mark.parametrize(
    ("value_set", "used", "unused"),
    [
        ("defaults", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"),
        ("socket", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"),
    ],
)
def test_pods_get_the_slack_credential_of_their_mode_only(
    rendered: dict[str, Rendered], value_set: str, used: str, unused: str
) -> None:
    for name, template in rendered[value_set].pod_templates():
        env = {entry["name"] for entry in template["spec"]["containers"][0]["env"]}
        assert unused not in env, name
        if "migrate" not in name:
            assert {used, "SLACK_BOT_TOKEN", "DATABASE_URL"} <= env, name


def test_socket_mode_with_an_ingress_is_refused_naming_the_key(helm_home: Path) -> None:
    with pytest.raises(HelmFailed, match=r"ingress\.enabled: Socket Mode receives nothing"):
        render(helm_home, ["socket-values.yaml"], {"ingress.enabled": "true"})


@pytest.mark.parametrize(
    ("files", "sets", "key"),
    [
        (("socket-values.yaml",), {"secretEnv.SLACK_APP_TOKEN": "null"}, "SLACK_APP_TOKEN"),
        ((), {"secretEnv.SLACK_SIGNING_SECRET": "null"}, "SLACK_SIGNING_SECRET"),
        ((), {"secretEnv.DATABASE_URL": "null"}, "DATABASE_URL"),
    ],
)
def test_a_missing_secret_reference_is_refused_naming_it(
    helm_home: Path, files: tuple[str, ...], sets: dict[str, str], key: str
) -> None:
    with pytest.raises(HelmFailed, match=rf"secretEnv\.{key}: required in"):
        render(helm_home, files, sets)


def test_the_ingress_routes_only_slacks_endpoint_to_serve(rendered: dict[str, Rendered]) -> None:
    http = rendered["http"]
    (ingress,) = http.of_kind("Ingress")
    (rule,) = ingress["spec"]["rules"]
    assert rule["host"] == "bot.acme.example"
    (path,) = rule["http"]["paths"]
    assert (path["path"], path["pathType"]) == ("/slack/events", "Exact")
    service = path["backend"]["service"]
    assert service == {
        "name": http.one("Service", "serve")["metadata"]["name"],
        "port": {"name": "http"},
    }
    assert ingress["spec"]["tls"] == [
        {"hosts": ["bot.acme.example"], "secretName": "platform-bot-tls"}
    ]


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_secrets_are_only_references(rendered: dict[str, Rendered], value_set: str) -> None:
    release = rendered[value_set]
    assert release.of_kind("Secret") == []
    for name, template in release.pod_templates():
        for entry in template["spec"]["containers"][0]["env"]:
            if entry["name"] in SECRET_NAMES:
                assert "value" not in entry, f"{name}: {entry['name']} has a value"
                assert set(entry["valueFrom"]) == {"secretKeyRef"}
    # The platform config keeps its ${VAR}s: the values behind them never enter the ConfigMap.
    if value_set == "scaled":
        config = release.platform_config()
        assert "secret_key: ${PLATFORM_BOT_SECRET_KEY}" in config
        assert "admin_password: ${POSTGRES_ADMIN_PASSWORD}" in config


@pytest.mark.parametrize(
    ("sets", "refusal"),
    [
        ({"env.SLACK_BOT_TOKEN": "xoxb-1-2-3"}, 'env: Property name of "SLACK_BOT_TOKEN"'),
        ({"env.DATABASE_URL": "postgresql://u:pw@db/bot"}, 'env: Property name of "DATABASE_URL"'),
        ({"secretEnv.SLACK_BOT_TOKEN.value": "xoxb-1"}, "Additional property value"),
    ],
)
def test_a_secret_given_as_a_value_is_refused(
    helm_home: Path, sets: dict[str, str], refusal: str
) -> None:
    with pytest.raises(HelmFailed) as refused:
        render(helm_home, sets=sets)
    assert refusal in str(refused.value)
    assert "xoxb-1" not in str(refused.value).replace(refusal, "")


@pytest.mark.parametrize(
    ("sets", "field"),
    [
        ({"serve.replicas": "0"}, "serve.replicas: Must be greater than or equal to 1"),
        ({"serve.replicas": "101"}, "serve.replicas: Must be less than or equal to 100"),
        ({"socket.replicas": "11"}, "socket.replicas: Must be less than or equal to 10"),
        ({"worker.healthPort": "65536"}, "worker.healthPort: Must be less than or equal to 65535"),
        ({"mode": "websocket"}, "mode: mode must be one of the following"),
        ({"serve.replicass": "2"}, "Additional property replicass is not allowed"),
    ],
)
def test_values_out_of_range_are_refused_naming_the_field(
    helm_home: Path, sets: dict[str, str], field: str
) -> None:
    with pytest.raises(HelmFailed, match=field.replace(".", r"\.")):
        render(helm_home, sets=sets)


def test_edges_of_the_ranges_render(helm_home: Path) -> None:
    edges = {"serve.replicas": "100", "socket.replicas": "10", "worker.healthPort": "65535"}
    assert (
        Rendered(render(helm_home, sets=edges)).one("Deployment", "serve")["spec"]["replicas"]
        == 100
    )
    socket = Rendered(render(helm_home, ["socket-values.yaml"], {"socket.replicas": "1"}))
    assert socket.one("Deployment", "socket")["spec"]["replicas"] == 1


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_the_config_map_holds_a_config_the_bot_accepts(
    rendered: dict[str, Rendered], value_set: str
) -> None:
    path = "/etc/platform-bot/platform.yaml"
    config = parse_config(rendered[value_set].platform_config(), path, dict(FAKE_ENVIRON))
    # Replicas share PostgreSQL: the deployment checks for that must pass too.
    check_deployment(path, config, shared_database=True)
    for _name, template in rendered[value_set].pod_templates():
        for entry in template["spec"]["containers"][0]["env"]:
            if entry["name"] == "PLATFORM_CONFIG":
                assert entry["value"] == path


def test_pods_roll_when_the_config_changes(helm_home: Path, rendered: dict[str, Rendered]) -> None:
    changed = Rendered(render(helm_home, sets={"config.platform.name": "Other"}))

    def checksum(release: Rendered) -> str:
        template = release.one("Deployment", "serve")["spec"]["template"]
        value: str = template["metadata"]["annotations"]["checksum/config"]
        return value

    assert checksum(changed) != checksum(rendered["defaults"])


def _run_in(release: Rendered, tmp_path: Path) -> JobsRunIn:
    path = tmp_path / "platform.yaml"
    return parse_config(release.platform_config(), path, dict(FAKE_ENVIRON)).jobs.run_in


def test_serve_leaves_jobs_to_workers_only_while_workers_run(
    helm_home: Path, rendered: dict[str, Rendered], tmp_path: Path
) -> None:
    assert _run_in(rendered["defaults"], tmp_path) is JobsRunIn.WORKERS
    alone = Rendered(render(helm_home, sets={"worker.enabled": "false"}))
    assert [
        d["metadata"]["labels"]["app.kubernetes.io/component"] for d in alone.of_kind("Deployment")
    ] == ["serve"]
    assert _run_in(alone, tmp_path) is JobsRunIn.PROCESS
    # The chart sets the one key and keeps the rest of the `jobs` section as given.
    tuned = Rendered(render(helm_home, sets={"config.jobs.workers": "7"}))
    config = parse_config(tuned.platform_config(), tmp_path / "p.yaml", dict(FAKE_ENVIRON))
    assert (config.jobs.run_in, config.jobs.workers) == (JobsRunIn.WORKERS, 7)


def test_autoscaled_deployments_leave_replicas_to_their_hpa(rendered: dict[str, Rendered]) -> None:
    scaled = rendered["scaled"]
    for component, low, high in (("serve", 3, 10), ("worker", 2, 8)):
        deployment = scaled.one("Deployment", component)
        assert "replicas" not in deployment["spec"]
        hpa = scaled.one("HorizontalPodAutoscaler", component)
        target = hpa["spec"]["scaleTargetRef"]
        assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
        assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (low, high)


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_selectors_pick_their_own_role_s_pods(
    rendered: dict[str, Rendered], value_set: str
) -> None:
    release = rendered[value_set]
    pods = {
        d["metadata"]["labels"]["app.kubernetes.io/component"]: d["spec"]["template"]["metadata"][
            "labels"
        ]
        for d in release.of_kind("Deployment")
    }

    def picks(selector: dict[str, str]) -> list[str]:
        return [role for role, labels in pods.items() if selector.items() <= labels.items()]

    for deployment in release.of_kind("Deployment"):
        role = deployment["metadata"]["labels"]["app.kubernetes.io/component"]
        assert picks(deployment["spec"]["selector"]["matchLabels"]) == [role]
    for budget in release.of_kind("PodDisruptionBudget"):
        role = budget["metadata"]["labels"]["app.kubernetes.io/component"]
        assert picks(budget["spec"]["selector"]["matchLabels"]) == [role]
        assert budget["spec"]["maxUnavailable"] == 1
    for service in release.of_kind("Service"):
        role = service["metadata"]["labels"]["app.kubernetes.io/component"]
        assert picks(service["spec"]["selector"]) == [role]


def test_the_service_monitor_scrapes_serve_and_worker_metrics(
    rendered: dict[str, Rendered],
) -> None:
    scaled = rendered["scaled"]
    (monitor,) = scaled.of_kind("ServiceMonitor")
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    endpoints = {(e["port"], e["path"], e["interval"]) for e in monitor["spec"]["endpoints"]}
    assert endpoints == {("http", "/metrics", "15s"), ("health", "/metrics", "15s")}
    selected = monitor["spec"]["selector"]
    (components,) = selected["matchExpressions"]
    for role, port in (("serve", "http"), ("worker", "health")):
        service = scaled.one("Service", role)
        assert selected["matchLabels"].items() <= service["metadata"]["labels"].items()
        assert role in components["values"]
        assert [p["name"] for p in service["spec"]["ports"]] == [port]


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_every_pod_runs_unprivileged(rendered: dict[str, Rendered], value_set: str) -> None:
    for name, template in rendered[value_set].pod_templates():
        pod = template["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] != 0, name
        assert pod["automountServiceAccountToken"] is False, name
        (only,) = pod["containers"]
        security = only["securityContext"]
        assert security["readOnlyRootFilesystem"] is True, name
        assert security["allowPrivilegeEscalation"] is False, name
        assert security["capabilities"]["drop"] == ["ALL"], name
        # A read-only root needs a writable /tmp (gunicorn, metrics, matplotlib).
        assert "/tmp" in {mount["mountPath"] for mount in only["volumeMounts"]}, name
        assert only["resources"]["requests"] and only["resources"]["limits"], name
