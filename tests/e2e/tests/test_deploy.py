"""What deploy/ declares: the Prometheus alert rules are valid for promtool, the same groups for
compose and Kubernetes, and the security alerts fire (and stay quiet) as their unit tests say;
every topic the CSMS uses has its Strimzi KafkaTopic.

promtool comes with Debian's prometheus package; .ci/run installs it."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
COMPOSE_RULES = DEPLOY / "compose" / "prometheus-rules.yml"
K8S_RULES = DEPLOY / "k8s" / "components" / "monitoring" / "prometheusrule.yaml"


@pytest.fixture(scope="module")
def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool is missing: apt-get install prometheus (.ci/run does)")
    return path


def run(*args: str) -> str:
    done = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_rule_files_are_valid_and_hold_the_same_groups(promtool, tmp_path):
    run(promtool, "check", "rules", str(COMPOSE_RULES))
    k8s = yaml.safe_load(K8S_RULES.read_text())
    assert k8s["kind"] == "PrometheusRule"
    extracted = tmp_path / "k8s-rules.yml"
    extracted.write_text(yaml.safe_dump({"groups": k8s["spec"]["groups"]}))
    run(promtool, "check", "rules", str(extracted))
    assert k8s["spec"]["groups"] == yaml.safe_load(COMPOSE_RULES.read_text())["groups"]


def test_security_alerts_fire_on_critical_events_and_bursts_only(promtool):
    out = run(promtool, "test", "rules", str(COMPOSE_RULES.with_suffix(".test.yml")))
    assert "SUCCESS" in out


def test_every_topic_the_csms_uses_has_a_strimzi_kafka_topic():
    from csms_runtime.topics import fixed_topics

    manifests = DEPLOY / "k8s" / "overlays" / "production" / "strimzi-topics.yaml"
    declared = {
        doc["spec"]["topicName"]
        for doc in yaml.safe_load_all(manifests.read_text())
        if doc and doc.get("kind") == "KafkaTopic"
    }
    assert set(fixed_topics()) - declared == set()
