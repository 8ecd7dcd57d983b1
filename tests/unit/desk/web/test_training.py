"""The desk's Training section over HTTP: the groups of each language, labelling into a copy
of the project (each language into its own data), a new intent's answer in every language,
refusals that change nothing, and who may use it."""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime, timedelta, timezone

import pytest
import yaml

from bot.desk.services import SERVICES
from bot.store.audit import AuditLog
from bot.trainer.review import ReviewInbox
from bot.trainer.settings import load_trainer_settings
from bot.trainer.training_data import TrainingData
from tests.rasa_events import events_table, slot_event, user_event
from tests.unit.desk.web.test_pages import desk, log_in, run  # noqa: F401
from tests.unit.trainer.test_training_data import PROJECT_DIR, RASA_FILES

NIGHT = datetime(2026, 11, 22, 22, 0, tzinfo=timezone.utc)
MESSAGES = [  # each in its own conversation, with the language the bot answered it in
    ("n1", "can you gift wrap my order?", "en"), ("n2", "do you do gift wrapping", "en"),
    ("n3", "gift wrap please", "en"), ("n4", "is gift wrapping available?", "en"),
    ("i1", "potete fare una confezione regalo?", "it"),
    ("i2", "è possibile avere la confezione regalo", "it"),
    ("i3", "si può avere il pacco regalo", "it"),
    ("n5", "qwertyuiop", None)]  # no slot stored: the detector's (the brand's default)
KEY = re.compile(r'name="key" value="([^"]+)"')
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def section(text: str, number: int) -> str:
    return text.split(f'id="group-{number}"')[1].split("</section>")[0]


@pytest.fixture()
def training(desk, tmp_path):  # noqa: F811 - the fixture imported above
    import shutil

    app, _, engine = desk
    for part in RASA_FILES:
        source, target = PROJECT_DIR / part, tmp_path / part
        target.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if source.is_dir() else shutil.copy)(source, target)
    events = events_table(engine, replace=True)
    rows = []
    for i, (sender, text, language) in enumerate(MESSAGES):
        rows.append(user_event(sender, text, NIGHT + timedelta(minutes=i), "nlu_fallback", 0.3))
        if language:
            rows.append(slot_event(sender, "language", language,
                                   NIGHT + timedelta(minutes=i, seconds=1)))
    with engine.begin() as connection:
        connection.execute(events.insert(), rows)
    settings = load_trainer_settings(PROJECT_DIR / "trainer.yml")  # the Italian stop words
    app[SERVICES] = dataclasses.replace(
        app[SERVICES], review=ReviewInbox(engine, settings,
                                          clock=lambda: NIGHT + timedelta(hours=10)),
        training=TrainingData(tmp_path, validate=lambda _: None), trainer_settings=settings)
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
        assert "4 like" in text and "3 like" in text and "1 like" in text
        assert "Sun 22 Nov 23:00" in text  # 22:00 UTC shown in the brand's zone (Rome)
        token = CSRF.search(text).group(1)
        english, italian, noise = section(text, 1), section(text, 2), section(text, 3)
        # each group of one language, shown with it, as is each message
        assert '<span class="language">in English</span>' in english
        assert english.count('<span class="language">English</span>') == 4
        assert '<span class="language">in Italian</span>' in italian
        assert '<q lang="it">si può avere il pacco regalo</q>' in italian
        assert "qwertyuiop" in noise and "in Italian" in noise
        # an answer box per brand language, the own wordings in the group's language
        assert english.index('name="answers_it"') < english.index('name="answers_en"')
        assert '<option value="en" selected>English</option>' in english
        assert '<option value="it" selected>Italian</option>' in italian
        gift_keys = list(dict.fromkeys(KEY.findall(english)))
        assert len(gift_keys) == 4
        create = [("csrf_token", token), *[("key", k) for k in gift_keys],
                  ("name", "gift_wrapping"),
                  ("answers_en", "Yes, for €3 at checkout.\nWe do: €3.\n"),
                  ("examples", "do you wrap presents\n\n  gift paper option?  \n"),
                  ("examples_language", "en")]
        before = {p: p.read_bytes() for p in project.rglob("*.yml")}
        async with browser.post(f"{base}/training/new-intent", data=create) as refused:
            assert refused.status == 400
            assert "missing in Italian (it)" in await refused.text()
        assert {p: p.read_bytes() for p in project.rglob("*.yml")} == before
        async with browser.post(f"{base}/training/new-intent", data=[
                *create, ("answers_it", "Sì, a 3 € al checkout.")]) as created:
            assert created.status == 200
            assert "4 message(s) and 2 wording(s) of your own labelled gift_wrapping: 5 to " \
                "training, 1 to the test file, 0 already known, in English" \
                in await created.text()
        # the Italian group joins the new intent, in the Italian data
        async with browser.post(f"{base}/training/assign", data=[
                ("csrf_token", token), *[("key", k) for k in dict.fromkeys(KEY.findall(italian))],
                ("intent", "gift_wrapping"), ("examples", "incartate anche le scatole?"),
                ("examples_language", "it")]) as assigned:
            assert assigned.status == 200
            assert "3 to training, 1 to the test file, 0 already known, in Italian" in \
                await assigned.text()
        async with browser.get(f"{base}/api/training") as api:
            (left,) = (await api.json())["groups"]
        assert left["typical"] == "qwertyuiop" and left["language"] == "it"
        assert left["items"][0]["language"] == "it"
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
    assert [(v["condition"][0]["value"], v["text"])
            for v in domain["responses"]["utter_gift_wrapping"]] == [
        ("it", "Sì, a 3 € al checkout."), ("en", "Yes, for €3 at checkout."),
        ("en", "We do: €3.")]
    english = (project / "data/nlu/en/gift_wrapping.yml").read_text() + \
        (project / "tests/nlu/test_nlu_en.yml").read_text()
    assert "do you wrap presents" in english and "gift paper option?" in english
    italian = (project / "data/nlu/it/gift_wrapping.yml").read_text() + \
        (project / "tests/nlu/test_nlu_it.yml").read_text()
    assert "si può avere il pacco regalo" in italian and "incartate anche le scatole?" in italian
    assert "pacco regalo" not in english and "gift wrap please" not in italian
    entries = AuditLog(engine).recent()[:3]
    assert [entry.action for entry in entries] == [
        "training.dismiss", "training.assign", "training.new-intent"]


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
            ("answers_en", "Hello"), ("answers_it", "Ciao")]) as refused:
            assert refused.status == 400 and "exists already" in await refused.text()
        async with browser.post(f"{base}/training/new-intent", data=[
            ("csrf_token", token), *[("key", k) for k in keys], ("name", "gift_wrapping")]) \
                as refused:
            assert refused.status == 400
            assert "every brand language (Italian (it), English (en))" in await refused.text()
        async with browser.post(f"{base}/training/assign", data=[
            ("csrf_token", token), ("key", keys[0]), ("intent", "greet"),
                ("examples", "bonjour"), ("examples_language", "fr")]) as foreign:
            assert foreign.status == 400 and "not a brand language" in await foreign.text()
        async with browser.post(f"{base}/training/assign", data=[
            ("csrf_token", token), *[("key", k) for k in keys], ("intent", "nope")]) as bad:
            assert bad.status == 400 and "no intent" in await bad.text()
        async with browser.get(f"{base}/api/training") as api:
            assert sum(g["size"] for g in (await api.json())["groups"]) == 8
        await browser.post(f"{base}/logout", data={"csrf_token": token})
        await log_in(browser, base, "anna")  # an agent
        async with browser.get(f"{base}/training") as page:
            assert page.status == 403
        async with browser.get(f"{base}/") as home:
            assert ">Training</a>" not in await home.text()

    run(app, scenario)
    assert {p: p.read_bytes() for p in project.rglob("*.yml")} == before
