"""What the Procfile, compose and k8s files start: no demo data, no blanket proxy trust."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "k8s"
TRUST_ALL = re.compile(r"forwarded-allow-ips[= ]+['\"]?\*|--proxy-headers")


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def k8s_documents() -> list[dict]:
    return [
        doc for path in K8S.glob("*.yaml") for doc in yaml.safe_load_all(path.read_text()) if doc
    ]


def k8s_commands() -> dict[str, str]:
    return {
        doc["metadata"]["name"]: " ".join(
            doc["spec"]["template"]["spec"]["containers"][0]["command"]
        )
        for doc in k8s_documents()
        if doc["kind"] in ("Deployment", "Job")
    }


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def all_commands() -> list[str]:
    services = compose()["services"].values()
    return [
        *procfile().values(),
        *(s["command"] for s in services if "command" in s),
        *k8s_commands().values(),
    ]


def test_no_process_trusts_every_proxy():
    for command in all_commands():
        assert not TRUST_ALL.search(command), command


def test_procfile_web_trusts_only_forwarded_allow_ips_empty_by_default():
    # uvicorn's own default trusts 127.0.0.1, i.e. any local client: say "none" unless set.
    assert '--forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-}"' in procfile()["web"]


def test_websocket_servers_do_not_compress_each_push_per_socket():
    # permessage-deflate compresses every stock report once per subscriber (~35 % of the
    # server CPU per push, docs/performance.md "Fan-out"); the reports are small JSON.
    commands = [procfile()["web"], compose()["services"]["ws"]["command"], k8s_commands()["ws"]]
    for command in commands:
        assert "--ws-per-message-deflate false" in command, command


def test_compose_web_servers_trust_only_nginx():
    services = compose()["services"]
    nginx_ip = services["nginx"]["networks"]["default"]["ipv4_address"]
    for name in ("web", "ws"):
        assert services[name]["environment"]["FORWARDED_ALLOW_IPS"] == nginx_ip, name
        # The throttles must take the address nginx appended, not one the client sent.
        assert services[name]["environment"]["NUM_PROXIES"] == "1", name


def test_k8s_web_servers_get_forwarded_allow_ips_from_the_configmap():
    [configmap] = [doc for doc in k8s_documents() if doc["kind"] == "ConfigMap"]
    assert configmap["data"]["FORWARDED_ALLOW_IPS"] not in ("", "*")
    assert configmap["data"]["NUM_PROXIES"] == "1"
    for doc in k8s_documents():
        if doc["kind"] == "Deployment" and doc["metadata"]["name"] in ("web", "ws"):
            sources = doc["spec"]["template"]["spec"]["containers"][0]["envFrom"]
            assert {"configMapRef": {"name": configmap["metadata"]["name"]}} in sources


def test_no_deployment_loads_demo_data():
    commands = [compose()["services"]["migrate"]["command"], k8s_commands()["migrate"]]
    for command in commands:
        assert "migrate" in command
        assert "seed_demo_data" not in command
        assert "create_test_data" not in command
