"""The HAProxy template: valid for the real haproxy, the deploy file its rendering, our limits."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from bot.runtime.haproxy_config import (
    DESK_MAX_BODY_BYTES,
    MESSENGER_MAX_BODY_BYTES,
    WEBCHAT_MAX_BODY_BYTES,
    HaproxyLayout,
    haproxy_binary,
    main,
    production_layout,
    render_haproxy_config,
)

PROJECT_DIR = Path(__file__).resolve().parents[3]
DEPLOY_CONFIG = PROJECT_DIR / "deploy" / "haproxy" / "nightdesk.cfg"
HAPROXY = haproxy_binary()
needs_haproxy = pytest.mark.skipif(HAPROXY is None,
                                   reason="haproxy is not installed (apt-get install haproxy)")


def local(**changes: object) -> HaproxyLayout:
    values: dict[str, object] = dict(
        rasa_servers=("127.0.0.1:5005", "127.0.0.1:5105", "127.0.0.1:5205"),
        receiver="127.0.0.1:5006", desk="127.0.0.1:8080", public_bind="127.0.0.1:8000",
        desk_bind="127.0.0.1:8088", internal_bind="127.0.0.1:5000", rest_channel=True,
        receiver_expected=False, run_as=None, origin="A test.")
    values.update(changes)
    return HaproxyLayout(**values)  # type: ignore[arg-type]


def haproxy_check(tmp_path: Path, text: str) -> subprocess.CompletedProcess:
    assert HAPROXY is not None
    path = tmp_path / "haproxy.cfg"
    path.write_text(text, encoding="utf-8")
    return subprocess.run([HAPROXY, "-c", "-f", str(path)], capture_output=True, text=True,
                          timeout=60)


@needs_haproxy
@pytest.mark.parametrize("layout", [
    production_layout(1), production_layout(2), production_layout(9), local(),
    local(rest_channel=False, receiver_expected=True), local(rasa_servers=("127.0.0.1:1",)),
], ids=["production-1", "production-2", "production-9", "local-3", "local-rest-off",
        "local-1"])
def test_every_rendering_passes_haproxys_own_check(tmp_path: Path, layout) -> None:
    checked = haproxy_check(tmp_path, render_haproxy_config(layout))
    assert checked.returncode == 0, checked.stderr
    assert "WARNING" not in checked.stdout + checked.stderr


@needs_haproxy
def test_the_check_catches_a_broken_configuration(tmp_path: Path) -> None:
    text = render_haproxy_config(local()).replace("balance roundrobin", "balance roundrobbin", 1)
    assert haproxy_check(tmp_path, text).returncode != 0


def test_the_deploy_file_is_the_template_rendered_for_two_instances() -> None:
    assert DEPLOY_CONFIG.read_text(encoding="utf-8") == render_haproxy_config(
        production_layout(2)), "regenerate: python -m bot.runtime.haproxy_config > " \
                               "deploy/haproxy/nightdesk.cfg"


def test_the_command_prints_the_production_configuration(capsys) -> None:
    assert main(["--instances", "3"]) == 0
    assert capsys.readouterr().out == render_haproxy_config(production_layout(3))


def test_production_runs_rasa_on_the_units_ports_and_no_rest_channel() -> None:
    text = render_haproxy_config(production_layout(3))
    assert re.findall(r"server (rasa\d) (\S+) check", text) == [
        ("rasa0", "127.0.0.1:5005"), ("rasa1", "127.0.0.1:5105"), ("rasa2", "127.0.0.1:5205")]
    assert "rest_channel" not in text
    assert "user haproxy" in text
    assert "nbsrv(rasa) ge 3" in text


def test_every_backend_is_health_checked_on_its_readiness_url() -> None:
    text = render_haproxy_config(production_layout(2))
    assert text.count("option httpchk GET /webhooks/health/readyz") == 1
    assert text.count("option httpchk GET /readyz") == 2  # the receiver and the desk
    assert text.count("http-check expect status 200") == 3
    assert "default-server inter 2s fall 2 rise 2" in text
    assert "option redispatch" in text and "retries 3" in text


def test_the_limits_are_our_own_processes_limits() -> None:
    from bot.desk.web.factory import MAX_REQUEST_BYTES
    from bot.messenger.webhook import DEFAULT_MAX_BODY_BYTES

    credentials = yaml.safe_load((PROJECT_DIR / "credentials.yml").read_text(encoding="utf-8"))
    assert MESSENGER_MAX_BODY_BYTES == DEFAULT_MAX_BODY_BYTES == credentials[
        "bot.messenger.channel.MessengerInput"]["max_body_bytes"]
    assert WEBCHAT_MAX_BODY_BYTES == credentials[
        "bot.webchat.channel.WebChatInput"]["max_body_bytes"]
    assert DESK_MAX_BODY_BYTES == MAX_REQUEST_BYTES


def test_nothing_logged_names_a_client_or_a_query_string() -> None:
    (log_format,) = re.findall(r'log-format "([^"]*)"', render_haproxy_config(local()))
    assert not {"%ci", "%hr", "%hrl", "%HU", "%HQ", "%r", "%{+Q}r"} & set(log_format.split())
    assert "%HPO" in log_format


def test_an_empty_layout_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one Rasa server"):
        render_haproxy_config(local(rasa_servers=()))
