"""`nightdesk up --processes N`: the ports, settings and children of the layout, and refusals."""

from __future__ import annotations

from ipaddress import ip_network
from pathlib import Path

import pytest

from bot.runtime import process_layout
from bot.runtime.haproxy_config import render_haproxy_config
from bot.runtime.process_layout import LayoutRefused, plan_layout
from bot.settings import Settings, load_settings

PROJECT_DIR = Path(__file__).resolve().parents[3]
POSTGRES = "postgresql://postgres@127.0.0.1:5432/nightdesk"
REDIS = "redis://127.0.0.1:6379/14"


def settings(**environ: str) -> Settings:
    return load_settings({"NIGHTDESK_HOME": str(PROJECT_DIR), "DATABASE_URL": POSTGRES,
                          "REDIS_URL": REDIS, **environ})


@pytest.fixture(autouse=True)
def haproxy_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(process_layout, "haproxy_binary", lambda: "/usr/sbin/haproxy")


def test_instance_n_listens_on_the_systemd_units_ports_with_its_own_action_server() -> None:
    layout = plan_layout(settings(), 3)
    assert [layout.instance(n).rasa_url for n in range(3)] == [
        "http://127.0.0.1:5005", "http://127.0.0.1:5105", "http://127.0.0.1:5205"]
    assert [layout.instance(n).action_server_url for n in range(3)] == [
        "http://127.0.0.1:5055/webhook", "http://127.0.0.1:5155/webhook",
        "http://127.0.0.1:5255/webhook"]
    assert layout.instance(2).as_environment()["ACTION_SERVER_URL"] == (
        "http://127.0.0.1:5255/webhook")


def test_the_ports_follow_rasa_url_so_tests_can_shift_them() -> None:
    layout = plan_layout(settings(RASA_URL="http://127.0.0.1:9005",
                                  ACTION_SERVER_URL="http://127.0.0.1:9055/webhook"), 2)
    assert layout.instance(1).rasa_url == "http://127.0.0.1:9105"
    assert layout.instance(1).action_server_url == "http://127.0.0.1:9155/webhook"


def test_the_receiver_and_the_desk_reach_rasa_through_haproxy_and_trust_it() -> None:
    front = plan_layout(settings(DESK_TRUSTED_PROXIES="10.0.0.0/8"), 2).front()
    assert front.rasa_url == "http://127.0.0.1:5000"
    assert front.desk_trusted_proxies == (ip_network("10.0.0.0/8"), ip_network("127.0.0.1/32"))
    already = plan_layout(settings(DESK_TRUSTED_PROXIES="127.0.0.0/8"), 2).front()
    assert already.desk_trusted_proxies == (ip_network("127.0.0.0/8"),)


def test_the_config_routes_to_this_machines_ports() -> None:
    layout = plan_layout(settings(NIGHTDESK_PUBLIC_PORT="9800", NIGHTDESK_DESK_PORT="9888",
                                  NIGHTDESK_INTERNAL_PORT="9500", REST_CHANNEL="off",
                                  DESK_URL="http://127.0.0.1:9080",
                                  MESSENGER_INGRESS_PORT="9006"), 2)
    text = render_haproxy_config(layout.haproxy_layout())
    for line in ("bind 127.0.0.1:9800", "bind 127.0.0.1:9888", "bind 127.0.0.1:9500",
                 "server rasa0 127.0.0.1:5005 check", "server rasa1 127.0.0.1:5105 check",
                 "server receiver 127.0.0.1:9006 check", "server desk 127.0.0.1:9080 check"):
        assert line in text
    assert "rest_channel" not in text and "user " not in text
    assert layout.public_url == "http://127.0.0.1:9800"
    assert layout.desk_url == "http://127.0.0.1:9888"


def test_the_children_are_n_action_servers_n_rasa_servers_receiver_desk_and_haproxy(
        monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[tuple[str, str, str]] = []

    def recorder(kind: str):  # noqa: ANN202
        def start(settings: Settings, *args: object, **options: object) -> str:
            url = {"actions": settings.action_server_url}.get(kind, settings.rasa_url)
            ready = args[2] if kind == "haproxy" else options["ready_path"]  # its ready URL
            started.append((kind, url, str(ready)))
            return kind
        return start

    for kind in ("action_server", "rasa_server", "messenger_ingress", "desk", "haproxy"):
        monkeypatch.setattr(process_layout, f"start_{kind}",
                            recorder("actions" if kind == "action_server" else kind))
    layout = plan_layout(settings(PAGE_ACCESS_TOKEN="t", APP_SECRET="s", VERIFY_TOKEN="v"), 2)
    children = layout.children(PROJECT_DIR / "models" / "m.tar.gz", Path("/tmp/logs"))
    for child in children:
        child.start()
    assert started == [
        ("actions", "http://127.0.0.1:5055/webhook", "/readyz"),
        ("actions", "http://127.0.0.1:5155/webhook", "/readyz"),
        ("rasa_server", "http://127.0.0.1:5005", "/webhooks/health/readyz"),
        ("rasa_server", "http://127.0.0.1:5105", "/webhooks/health/readyz"),
        ("messenger_ingress", "http://127.0.0.1:5000", "/readyz"),
        ("desk", "http://127.0.0.1:5000", "/readyz"),
        ("haproxy", "http://127.0.0.1:5005", "http://127.0.0.1:5000/haproxy/readyz"),
    ]
    assert all(child.ready_timeout > 0 for child in children)


@pytest.mark.parametrize(("environ", "message"), [
    ({"DATABASE_URL": "sqlite:///var/x.db"}, "DATABASE_URL must be PostgreSQL"),
    ({"REDIS_URL": ""}, "set REDIS_URL"),
    ({"NIGHTDESK_INTERNAL_PORT": "5105"}, "Rasa server 1 .* and HAProxy internal frontend"),
    ({"NIGHTDESK_PUBLIC_PORT": "8080"}, "desk .*DESK_URL.* and HAProxy public frontend"),
])
def test_what_cannot_run_is_refused_saying_what_to_change(environ, message) -> None:
    with pytest.raises(LayoutRefused, match=message):
        plan_layout(settings(**environ), 2)


@pytest.mark.parametrize("processes", [0, 1, 10])
def test_the_number_of_processes_is_two_to_nine(processes: int) -> None:
    with pytest.raises(LayoutRefused, match="from 2 to 9"):
        plan_layout(settings(), processes)


def test_without_haproxy_it_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(process_layout, "haproxy_binary", lambda: None)
    with pytest.raises(LayoutRefused, match="apt-get install haproxy"):
        plan_layout(settings(), 2)
