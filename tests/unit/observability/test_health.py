"""Readiness checks: outcomes, timeouts, a database that does not answer, secrets kept out."""

from __future__ import annotations

import asyncio

from bot.observability.health import (
    Check,
    NotReady,
    Readiness,
    condition_check,
    database_check,
    redis_check,
)
from bot.store import create_db_engine

UNREACHABLE_DB = "postgresql://nightdesk:s3cret-password@127.0.0.1:17999/nightdesk"


def report(checks, timeout: float = 2.0):
    return asyncio.run(Readiness(checks, timeout_seconds=timeout).report())


def test_every_check_ok_is_ready_with_200(tmp_path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    got = report([database_check(engine), condition_check("model", lambda: True, "none")])
    assert got.ready and got.status == 200
    assert got.body() == {"ready": True, "checks": {"database": "ok", "model": "ok"}}


def test_an_unreachable_database_is_a_503_naming_the_check_without_the_url() -> None:
    got = report([database_check(create_db_engine(UNREACHABLE_DB)),
                  condition_check("model", lambda: True, "none")])
    assert got.status == 503 and not got.body()["ready"]
    assert got.checks["model"] == "ok"
    assert got.checks["database"].startswith("failed: ")
    assert "s3cret" not in str(got.body()) and "17999" not in str(got.body())


def test_an_unreachable_redis_fails_its_check() -> None:
    got = report([redis_check("redis://:pw-secret@127.0.0.1:17998/12", timeout_seconds=1)])
    assert got.status == 503 and got.checks["redis"].startswith("failed: ")
    assert "pw-secret" not in str(got.body())


def test_a_check_that_hangs_is_a_timeout_and_is_not_started_twice() -> None:
    started = []

    async def hang() -> None:
        started.append(1)
        await asyncio.sleep(30)

    async def twice():
        readiness = Readiness([Check("slow", hang)], timeout_seconds=0.05)
        first = await readiness.report()
        second = await readiness.report()
        return first, second

    first, second = asyncio.run(twice())
    assert first.checks == {"slow": "timeout"} and second.checks == {"slow": "timeout"}
    assert started == [1]


def test_not_ready_gives_its_own_reason() -> None:
    async def no_model() -> None:
        raise NotReady("no model loaded")

    assert report([Check("model", no_model)]).checks == {"model": "not ready: no model loaded"}


def test_checks_can_appear_later() -> None:
    checks: list[Check] = []
    readiness = Readiness(lambda: checks)
    checks.append(condition_check("services", lambda: False, "not built"))
    got = asyncio.run(readiness.report())
    assert got.checks == {"services": "not ready: not built"} and got.status == 503
