"""The desk's Training section (trainers and admins): the review inbox in groups, and labelling.

* ``GET /training``: the messages the bot handled badly, grouped, biggest group first, each
  group of one language and each message shown with its language; for each group: add it to
  an existing intent, create a new intent from it (name, the answer's wordings in every brand
  language, or the handoff to a person), or dismiss it as noise; one message can be
  dismissed alone. ``GET /api/training`` gives the same groups as JSON.
* ``POST /training/{assign|new-intent|dismiss}``: the messages are named by their keys; keys
  no longer in the inbox (someone decided them meanwhile) are refused. Each message is written
  into its own language's data; the trainer's own wordings into the language chosen beside
  them (the group's, unless changed). Writing the data runs `rasa data validate`
  (`bot.trainer.training_data`); a refusal shows its reason (for a new intent, the languages
  its answer is missing in) and changes nothing. Each decision is audited.
"""

from __future__ import annotations

from aiohttp import web

from bot.desk.services import DeskServices
from bot.desk.web.blocking import run_blocking
from bot.desk.web.gate import session_of
from bot.desk.web.rendering import page, refused
from bot.desk.web.request_data import services_of
from bot.desk.web.strings import STRINGS
from bot.trainer.grouping import ReviewGroup, group_items
from bot.trainer.languages import language_name
from bot.trainer.review import examples_by_language
from bot.trainer.training_data import Added, TrainingDataError


def _groups(services: DeskServices) -> list[ReviewGroup]:
    if services.review is None:
        return []
    settings = services.trainer_settings
    return group_items(services.review.items(), settings.group_distance, settings.stop_words)


def _languages(services: DeskServices) -> tuple[str, ...]:
    return services.training.languages if services.training is not None else ()


def _lines(form: object, name: str) -> list[str]:
    return [line.strip() for line in str(form.get(name) or "").splitlines() if line.strip()]


async def training_view(request: web.Request) -> web.Response:
    """The review inbox in groups, with what a trainer can do with each."""
    services = services_of(request)
    groups = await run_blocking(_groups, services)
    intents = await run_blocking(services.training.intents) if services.training else []
    languages = await run_blocking(_languages, services)
    return page(request, "training.html", title=STRINGS.training_title, groups=groups,
                intents=intents, languages=languages, zone=services.zone,
                count=sum(len(group.items) for group in groups))


async def api_training(request: web.Request) -> web.Response:
    """The groups as JSON."""
    groups = await run_blocking(_groups, services_of(request))
    return web.json_response({"groups": [group.as_json() for group in groups]})


def _done(request: web.Request, text: str) -> web.Response:
    return page(request, "done.html", title=STRINGS.training_title, message=text,
                back="/training", back_label=STRINGS.back_to_training)


def _summary(added: Added) -> str:
    return "; ".join(
        STRINGS.split_summary.format(
            training=len(split.training), test=len(split.test),
            duplicates=len(split.duplicates), language=language_name(split.language))
        for split in added.splits) or STRINGS.nothing_new


async def training_decide(request: web.Request) -> web.Response:
    """Assigns, creates an intent from, or dismisses the messages named in the form."""
    services = services_of(request)
    action = request.match_info["action"]
    form = await request.post()
    keys = [str(key) for key in form.getall("key", [])]
    if services.review is None or services.training is None:
        return refused(request, STRINGS.not_done, STRINGS.no_training_data, "/training", 404)
    waiting = {item.key: item for item in await run_blocking(services.review.items)}
    if not keys or any(key not in waiting for key in keys):
        return refused(request, STRINGS.not_done, STRINGS.decided_meanwhile, "/training", 409)
    own = _lines(form, "examples")
    own_language = str(form.get("examples_language") or "") or None
    items = [waiting[key] for key in dict.fromkeys(keys)]
    examples = await run_blocking(examples_by_language, items, own, own_language,
                                  services.review.language_of)
    who = session_of(request).agent.login
    settings = services.trainer_settings
    if action == "dismiss":
        await run_blocking(services.review.decide, keys, "dismissed", by=who)
        await run_blocking(services.agents.audit.record, who, "training.dismiss", "review",
                           {"messages": len(keys)})
        return _done(request, STRINGS.dismissed.format(count=len(keys)))
    try:
        if action == "assign":
            intent = str(form.get("intent") or "")
            added = await run_blocking(services.training.add_examples, intent, examples,
                                       settings.test_every)
        else:
            intent = str(form.get("name") or "").strip()
            answers = {code: _lines(form, f"answers_{code}")
                       for code in services.training.languages}
            added = await run_blocking(
                services.training.create_intent, intent, examples, answers,
                form.get("hand_off") == "yes", settings.test_every)
    except TrainingDataError as error:
        return refused(request, STRINGS.not_done, str(error), "/training", 400)
    await run_blocking(services.review.decide, keys, "assigned", by=who, intent=intent)
    await run_blocking(services.agents.audit.record, who, f"training.{action}",
                       f"intent:{intent}",
                       {"messages": len(keys), "own_wordings": len(own),
                        "training": len(added.training), "test": len(added.test),
                        "languages": added.languages})
    mine = STRINGS.own_wordings_count.format(count=len(own)) if own else ""
    return _done(request, STRINGS.labelled.format(count=len(keys), mine=mine, intent=intent,
                                                  summary=_summary(added)))
