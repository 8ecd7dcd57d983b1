"""The systemd units in deploy/systemd/: `systemd-analyze verify` and what each must say.

The units name /opt/nightdesk, the production install directory; here they are copied to a
temporary directory with /opt/nightdesk replaced by this checkout, so `verify` finds the
executables they start (this checkout's .venv). `verify` only warns about an unknown key or
section and still exits 0, so its output is read too. A missing `User=nightdesk` or
/etc/nightdesk/nightdesk.env does not make it complain (systemd 252).
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[3]
UNIT_DIR = PROJECT_DIR / "deploy" / "systemd"
INSTALL_DIR = "/opt/nightdesk"
SERVICES = ["nightdesk-actions@.service", "nightdesk-rasa@.service",
            "nightdesk-ingress.service", "nightdesk-desk.service"]
JOBS = ["nightdesk-retention.service", "nightdesk-retention.timer"]
UNITS = [*SERVICES, "nightdesk.target", *JOBS]
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")

needs_systemd_analyze = pytest.mark.skipif(
    SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed (apt-get install systemd)")


def _directives(unit: str) -> dict[str, list[str]]:
    """`Section.Key` -> every value it is given in the unit file."""
    found: dict[str, list[str]] = {}
    section = ""
    for raw in (UNIT_DIR / unit).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        found.setdefault(f"{section}.{key.strip()}", []).append(value.strip())
    return found


def _instance(unit: str) -> str:
    """The name to verify a unit under: templates as their instance 0."""
    return unit.replace("@.", "@0.")


def _verify(directory: Path, unit: str) -> list[str]:
    """What `systemd-analyze verify` finds wrong with one unit of `directory` (empty: nothing)."""
    assert SYSTEMD_ANALYZE is not None
    result = subprocess.run([SYSTEMD_ANALYZE, "verify", str(directory / _instance(unit))],
                            capture_output=True, text=True, timeout=60)
    ours = [line for line in (result.stdout + result.stderr).splitlines()
            if "nightdesk" in line or str(directory) in line]
    if result.returncode != 0 and not ours:
        ours = [f"exit code {result.returncode}: {result.stderr.strip()}"]
    return ours


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The units, pointing at this checkout instead of /opt/nightdesk."""
    directory = tmp_path_factory.mktemp("units")
    for unit in UNITS:
        text = (UNIT_DIR / unit).read_text(encoding="utf-8")
        (directory / unit).write_text(text.replace(INSTALL_DIR, str(PROJECT_DIR)),
                                      encoding="utf-8")
    return directory


def test_there_is_one_unit_per_process_kind_and_a_target() -> None:
    assert sorted(path.name for path in UNIT_DIR.glob("nightdesk*")) == sorted(UNITS)


@needs_systemd_analyze
@pytest.mark.parametrize("unit", UNITS)
def test_systemd_analyze_verify_finds_nothing_wrong(installed: Path, unit: str) -> None:
    assert _verify(installed, unit) == []


@needs_systemd_analyze
@pytest.mark.parametrize(("broken", "change"), [
    ("an unknown directive", ("Restart=always", "Restart=always\nRestartEvery=5")),
    ("a bad section", ("[Service]", "[Servce]")),
    ("a missing ExecStart binary", (".venv/bin/python", ".venv/bin/no-such-python")),
])
def test_verify_as_run_here_catches_real_errors(
    tmp_path: Path, broken: str, change: tuple[str, str]
) -> None:
    unit = "nightdesk-actions@.service"
    text = (UNIT_DIR / unit).read_text(encoding="utf-8").replace(INSTALL_DIR, str(PROJECT_DIR))
    assert change[0] in text
    (tmp_path / unit).write_text(text.replace(change[0], change[1], 1), encoding="utf-8")
    assert _verify(tmp_path, unit), f"{broken} went unnoticed"


@pytest.mark.parametrize("unit", SERVICES)
def test_every_service_restarts_reads_the_production_env_and_is_hardened(unit: str) -> None:
    directives = _directives(unit)
    expected = {
        "Service.Restart": ["always"],
        "Service.EnvironmentFile": ["/etc/nightdesk/nightdesk.env"],
        "Service.User": ["nightdesk"],
        "Service.WorkingDirectory": [INSTALL_DIR],
        "Service.NoNewPrivileges": ["yes"],
        "Service.PrivateTmp": ["yes"],
        "Service.ProtectSystem": ["strict"],
        "Service.ProtectHome": ["yes"],
        "Service.ReadWritePaths": [f"{INSTALL_DIR}/var {INSTALL_DIR}/models"],
        "Unit.PartOf": ["nightdesk.target"],
        "Install.WantedBy": ["nightdesk.target"],
    }
    for key, values in expected.items():
        assert directives.get(key) == values, key
    assert float(directives["Service.RestartSec"][0]) > 0
    assert int(directives["Unit.StartLimitBurst"][0]) > 1
    assert int(directives["Unit.StartLimitIntervalSec"][0]) > 0
    assert "network-online.target" in directives["Unit.After"][0]
    assert "postgresql.service" in directives["Unit.After"][0]


@pytest.mark.parametrize(("unit", "command"), [
    ("nightdesk-actions@.service", f"{INSTALL_DIR}/.venv/bin/python -m bot.runtime.serve "
                                   "actions --actions actions --port ${NIGHTDESK_ACTIONS_PORT}"),
    ("nightdesk-ingress.service", f"{INSTALL_DIR}/.venv/bin/python -m bot.messenger.ingress"),
    ("nightdesk-desk.service", f"{INSTALL_DIR}/.venv/bin/python -m bot.desk.app "
                               "--host 127.0.0.1 --port 8080"),
])
def test_each_service_runs_what_nightdesk_up_runs(unit: str, command: str) -> None:
    assert _directives(unit)["Service.ExecStart"] == [command]


def test_the_rasa_unit_runs_the_live_model_after_its_action_server() -> None:
    directives = _directives("nightdesk-rasa@.service")
    (command,) = directives["Service.ExecStart"]
    words = command.split()
    assert words[:4] == ["/usr/bin/env", "ACTION_SERVER_URL=http://127.0.0.1:5%i55/webhook",
                         f"{INSTALL_DIR}/.venv/bin/python",
                         f"{INSTALL_DIR}/deploy/systemd/rasa_live_model.py"]
    assert words[4:] == [
        "--endpoints", f"{INSTALL_DIR}/endpoints.yml",
        "--credentials", f"{INSTALL_DIR}/credentials.yml",
        "--interface", "127.0.0.1", "--port", "${NIGHTDESK_RASA_PORT}",
        "--enable-api", "--auth-token", "${RASA_AUTH_TOKEN}",
    ]
    for path in words[2:4] + [words[5], words[7]]:
        assert (PROJECT_DIR / path.removeprefix(f"{INSTALL_DIR}/")).exists(), path
    assert "nightdesk-actions@%i.service" in directives["Unit.After"][0]
    assert "nightdesk-actions@%i.service" in directives["Unit.Wants"][0]
    assert "NIGHTDESK_RASA_PORT=5%i05" in directives["Service.Environment"]


def test_the_instance_number_chooses_the_ports() -> None:
    assert "NIGHTDESK_ACTIONS_PORT=5%i55" in _directives(
        "nightdesk-actions@.service")["Service.Environment"]
    for unit in ("nightdesk-actions@.service", "nightdesk-rasa@.service"):
        assert _directives(unit)["Install.DefaultInstance"] == ["0"]


def test_the_target_is_wanted_at_boot() -> None:
    assert _directives("nightdesk.target")["Install.WantedBy"] == ["multi-user.target"]


def test_retention_runs_daily_as_a_hardened_oneshot_of_the_cli() -> None:
    service = _directives("nightdesk-retention.service")
    assert service["Service.Type"] == ["oneshot"]
    assert service["Service.ExecStart"] == [
        f"{INSTALL_DIR}/.venv/bin/python -m bot.cli retention run"]
    for key, value in (("Service.User", "nightdesk"), ("Service.ProtectSystem", "strict"),
                       ("Service.EnvironmentFile", "/etc/nightdesk/nightdesk.env"),
                       ("Service.NoNewPrivileges", "yes")):
        assert service[key] == [value], key
    timer = _directives("nightdesk-retention.timer")
    assert timer["Timer.OnCalendar"] == ["*-*-* 04:30:00"]
    assert timer["Timer.Persistent"] == ["true"]
    assert timer["Install.WantedBy"] == ["timers.target"]


# The Rasa unit's helper picks the model as `nightdesk up` does.


def _helper() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "rasa_live_model", UNIT_DIR / "rasa_live_model.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_helper_serves_the_live_model_not_a_newer_candidate(tmp_path: Path) -> None:
    (tmp_path / "live.tar.gz").write_bytes(b"")
    (tmp_path / "candidate.tar.gz").write_bytes(b"")
    (tmp_path / "live.json").write_text(json.dumps(
        {"model": "live.tar.gz", "promoted_by": "trainer", "promoted_at": "2026-01-01"}))
    assert _helper().choose_model(tmp_path, tmp_path / "candidate.tar.gz") == (
        tmp_path / "live.tar.gz")


def test_the_helper_makes_the_model_of_the_data_live_when_nothing_is(tmp_path: Path) -> None:
    (tmp_path / "data.tar.gz").write_bytes(b"")
    assert _helper().choose_model(tmp_path, tmp_path / "data.tar.gz") == tmp_path / "data.tar.gz"
    assert json.loads((tmp_path / "live.json").read_text())["model"] == "data.tar.gz"


def test_the_helper_refuses_to_start_without_any_model(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="run `nightdesk train`"):
        _helper().choose_model(tmp_path, tmp_path / "data.tar.gz")


# Several instances behind HAProxy (Debian's haproxy.service with our drop-in).

DROP_IN = UNIT_DIR / "haproxy.service.d" / "nightdesk.conf"
DEBIAN_HAPROXY_UNIT = Path("/lib/systemd/system/haproxy.service")
PRODUCTION_ENV = PROJECT_DIR / "deploy" / "nightdesk.env"


def _drop_in_directives() -> dict[str, list[str]]:
    return _directives(str(DROP_IN.relative_to(UNIT_DIR)))


def test_the_rasa_unit_says_instances_share_postgresql_and_redis() -> None:
    text = (UNIT_DIR / "nightdesk-rasa@.service").read_text(encoding="utf-8")
    assert "in-memory" not in text
    assert "REDIS_URL" in text and "deploy/haproxy/nightdesk.cfg" in text
    assert "redis-server.service" in _directives("nightdesk-rasa@.service")["Unit.After"][0]


def test_the_target_pulls_in_haproxy_and_says_how_to_enable_n_instances() -> None:
    target = _directives("nightdesk.target")
    assert "haproxy.service" in target["Unit.Wants"][0].split()
    text = (UNIT_DIR / "nightdesk.target").read_text(encoding="utf-8")
    assert "nightdesk-rasa@{0,1}" in text and "nightdesk-actions@{0,1}" in text


def test_the_haproxy_drop_in_runs_our_config_as_part_of_the_target() -> None:
    directives = _drop_in_directives()
    assert directives["Unit.PartOf"] == ["nightdesk.target"]
    assert directives["Service.Environment"] == ["CONFIG=/etc/haproxy/nightdesk.cfg"]
    text = DROP_IN.read_text(encoding="utf-8")
    assert "deploy/haproxy/nightdesk.cfg /etc/haproxy/nightdesk.cfg" in text
    assert (PROJECT_DIR / "deploy" / "haproxy" / "nightdesk.cfg").exists()


@needs_systemd_analyze
@pytest.mark.skipif(not DEBIAN_HAPROXY_UNIT.exists(), reason="Debian's haproxy is not installed")
def test_debians_haproxy_unit_with_our_drop_in_verifies(tmp_path: Path) -> None:
    shutil.copy(DEBIAN_HAPROXY_UNIT, tmp_path / "haproxy.service")
    (tmp_path / "haproxy.service.d").mkdir()
    shutil.copy(DROP_IN, tmp_path / "haproxy.service.d" / "nightdesk.conf")
    assert SYSTEMD_ANALYZE is not None
    result = subprocess.run([SYSTEMD_ANALYZE, "verify", str(tmp_path / "haproxy.service")],
                            capture_output=True, text=True, timeout=60)
    assert str(tmp_path) not in result.stdout + result.stderr
    assert result.returncode == 0, result.stderr


def test_the_production_env_the_units_and_the_haproxy_config_agree() -> None:
    from dotenv import dotenv_values

    from bot.runtime import haproxy_config

    env = dotenv_values(PRODUCTION_ENV)
    assert str(env["REDIS_URL"]).startswith("redis://")
    assert env["RASA_URL"] == f"http://127.0.0.1:{haproxy_config.PRODUCTION_INTERNAL_PORT}"
    assert env["NIGHTDESK_INTERNAL_PORT"] == str(haproxy_config.PRODUCTION_INTERNAL_PORT)
    assert env["NIGHTDESK_PUBLIC_PORT"] == str(haproxy_config.PRODUCTION_PUBLIC_PORT)
    assert env["NIGHTDESK_DESK_PORT"] == str(haproxy_config.PRODUCTION_DESK_PORT)
    assert "127.0.0.1" in str(env["DESK_TRUSTED_PROXIES"]).split(",")
    receiver = f"{env['MESSENGER_INGRESS_HOST']}:{env['MESSENGER_INGRESS_PORT']}"
    assert receiver == haproxy_config.PRODUCTION_RECEIVER
    (desk_command,) = _directives("nightdesk-desk.service")["Service.ExecStart"]
    host, port = haproxy_config.PRODUCTION_DESK.split(":")
    assert desk_command.endswith(f"--host {host} --port {port}")
    assert haproxy_config.instance_port(haproxy_config.PRODUCTION_RASA_PORT, 3) == 5305  # 5%i05
