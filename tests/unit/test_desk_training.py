"""The desk's Training section over HTTP: the groups, labelling into a copy of the project,
refusals that change nothing, and who may use it."""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime, timedelta, timezone

import pytest
import yaml

from bot.desk.audit import AuditLog
from bot.desk.services import SERVICES
from bot.trainer.review import ReviewInbox
from bot.trainer.settings import TrainerSettings
from bot.trainer.training_data import TrainingData
from tests.rasa_events import events_table, user_event
from tests.unit.test_desk_web import desk, log_in, run  # noqa: F401
from tests.unit.test_trainer_training_data import PROJECT_DIR, RASA_FILES

NIGHT = datetime(2026, 11, 22, 22, 0, tzinfo=timezone.utc)
MESSAGES = [("n1", "can you gift wrap my order?"), ("n2", "do you do gift wrapping"),
            ("n3", "gift wrap please"), ("n4", "is gift wrapping available?"),
            ("n5", "qwertyuiop")]
KEY = re.compile(r'name="key" value="([^"]+)"')
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture()
def training(desk, tmp_path):  # noqa: F811 - the fixture imported above
    import shutil

    app, _, engine = desk
    for part in RASA_FILES:
        source, target = PROJECT_DIR / part, tmp_path / part
        target.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if source.is_dir() else shutil.copy)(source, target)
    events = events_table(engine, replace=True)
    with engine.begin() as connection:
        connection.execute(events.insert(), [
            user_event(sender, text, NIGHT + timedelta(minutes=i), "nlu_fallback", 0.3)
            for i, (sender, text) in enumerate(MESSAGES)])
    app[SERVICES] = dataclasses.replace(
        app[SERVICES], review=ReviewInbox(engine, TrainerSettings(),
                                          clock=lambda: NIGHT + timedelta(hours=10)),
        training=TrainingData(tmp_path, validate=lambda _: None))
    yield app, engine, tmp_path
    events.drop(engine)


async def groups_page(browser, base) -> str:
    async with browser.get(f"{base}/training") as page:
        assert page.status == 200
        return await page.text()


def test_a_trainer_creates_an_intent_from_a_group_and_dismisses_noise(training):
    app, engine, project = training

    async def scenario(browser, base):
        await log_in(browser, base, "tina")
        text = await groups_page(browser, base)
        assert '<a href="/training" aria-current="page">Training</a>' in text
        assert "4 like" in text and "1 like" in text and "qwertyuiop" in text
        assert "Sun 22 Nov 23:00" in text  # 22:00 UTC shown in the brand's zone (Rome)
        token = CSRF.search(text).group(1)
        gift_keys = KEY.findall(text.split('id="group-1"')[1].split("</section>")[0])
        assert len(set(gift_keys)) == 4
        async with browser.post(f"{base}/training/new-intent", data=[
            ("csrf_token", token), *[("key", k) for k in dict.fromkeys(gift_keys)],
            ("name", "gift_wrapping"), ("answers", "Yes, for €3 at checkout.\nWe do: €3.\n"),
            ("examples", "do you wrap presents\n\n  gift paper option?  \n"),
        ]) as created:
            assert created.status == 200
            assert "4 message(s) and 2 wording(s) of your own labelled gift_wrapping: 5 to " \
                "training, 1 to the test file" \
                in await created.text()
        async with browser.get(f"{base}/api/training") as api:
            (left,) = (await api.json())["groups"]
        assert left["typical"] == "qwertyuiop"
        async with browser.post(f"{base}/training/dismiss", data=[
            ("csrf_token", token), ("key", left["items"][0]["key"])]) as dismissed:
            assert "Dismissed 1 message(s)." in await dismissed.text()
        assert "The review inbox is empty." in await groups_page(browser, base)
        # the same keys again: decided meanwhile
        async with browser.post(f"{base}/training/dismiss", data=[
            ("csrf_token", token), ("key", gift_keys[0])]) as stale:
            assert stale.status == 409 and "decided meanwhile" in await stale.text()

    run(app, scenario)
    domain = yaml.safe_load((project / "domain.yml").read_text())
    assert [v["text"] for v in domain["responses"]["utter_gift_wrapping"]] == [
        "Yes, for €3 at checkout.", "We do: €3."]
    wordings = (project / "data/nlu/gift_wrapping.yml").read_text() + \
        (project / "tests/nlu/test_nlu.yml").read_text()
    assert "do you wrap presents" in wordings and "gift paper option?" in wordings
    actions = [entry.action for entry in AuditLog(engine).recent()][:2]
    assert actions == ["training.dismiss", "training.new-intent"]


def test_a_refused_label_changes_nothing_and_agents_may_not_train(training):
    app, _, project = training
    before = {p: p.read_bytes() for p in project.rglob("*.yml")}

    async def scenario(browser, base):
        await log_in(browser, base, "tina")
        text = await groups_page(browser, base)
        token = CSRF.search(text).group(1)
        keys = list(dict.fromkeys(KEY.findall(text)))
        async with browser.post(f"{base}/training/new-intent", data=[
            ("csrf_token", token), *[("key", k) for k in keys], ("name", "greet"),
            ("answers", "Hello")]) as refused:
            assert refused.status == 400 and "exists already" in await refused.text()
        async with browser.post(f"{base}/training/assign", data=[
            ("csrf_token", token), *[("key", k) for k in keys], ("intent", "nope")]) as bad:
            assert bad.status == 400 and "no intent" in await bad.text()
        async with browser.get(f"{base}/api/training") as api:
            assert sum(g["size"] for g in (await api.json())["groups"]) == 5
        await browser.post(f"{base}/logout", data={"csrf_token": token})
        await log_in(browser, base, "anna")  # an agent
        async with browser.get(f"{base}/training") as page:
            assert page.status == 403
        async with browser.get(f"{base}/") as home:
            assert ">Training</a>" not in await home.text()

    run(app, scenario)
    assert {p: p.read_bytes() for p in project.rglob("*.yml")} == before
