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

import asyncio
import html

from aiohttp import web

from bot.desk.layout import header, page, refused
from bot.desk.roles import Permission
from bot.desk.services import SERVICES, DeskServices
from bot.desk.ticket_page import time_shown
from bot.desk.web_auth import CSRF_FIELD, require, session_of
from bot.trainer.grouping import ReviewGroup, group_items
from bot.trainer.languages import language_name
from bot.trainer.review import ReviewItem, examples_by_language
from bot.trainer.training_data import Added, TrainingDataError


def _services(request: web.Request) -> DeskServices:
    return request.app[SERVICES]


def _groups(services: DeskServices) -> list[ReviewGroup]:
    if services.review is None:
        return []
    settings = services.trainer_settings
    return group_items(services.review.items(), settings.group_distance, settings.stop_words)


def _languages(services: DeskServices) -> tuple[str, ...]:
    return services.training.languages if services.training is not None else ()


def _hidden(request: web.Request, keys: list[str]) -> str:
    token = html.escape(session_of(request).csrf_token)
    fields = "".join(f'<input type="hidden" name="key" value="{html.escape(k)}">' for k in keys)
    return f'<input type="hidden" name="{CSRF_FIELD}" value="{token}">{fields}'


def _item(request: web.Request, item: ReviewItem) -> str:
    read = (f"{html.escape(item.intent or '?')} ({item.confidence:.2f})"
            if item.confidence is not None else "not read by the model")
    return (f'<li><q lang="{html.escape(item.language)}">{html.escape(item.text)}</q> '
            f'<span class="when"><span class="language">'
            f'{html.escape(language_name(item.language))}</span> · read as {read} · '
            f'{html.escape(", ".join(item.reasons).replace("_", " "))} · '
            f'{time_shown(item.at, _services(request).zone)} · '
            f'{html.escape(item.conversation_id)}</span>'
            f'<form class="inline mark" method="post" action="/training/dismiss">'
            f'{_hidden(request, [item.key])}<button type="submit">Dismiss</button></form></li>')


def _own_wordings(group: ReviewGroup, languages: tuple[str, ...]) -> str:
    """The box for wordings of the trainer's own, in the group's language unless changed."""
    options = "".join(
        f'<option value="{html.escape(code)}"{" selected" if code == group.language else ""}>'
        f"{html.escape(language_name(code))}</option>" for code in languages)
    return ('<label>and wordings of your own (one per line), in '
            f'<select name="examples_language">{options}</select>'
            '<textarea name="examples" rows="2"></textarea></label>')


def _answer_boxes(languages: tuple[str, ...]) -> str:
    """One box per brand language for the new intent's answer."""
    return "".join(
        f'<label>The bot answers in {html.escape(language_name(code))} (one wording per line)'
        f'<textarea name="answers_{html.escape(code)}" lang="{html.escape(code)}" rows="3">'
        "</textarea></label>" for code in languages)


def _lines(form: object, name: str) -> list[str]:
    return [line.strip() for line in str(form.get(name) or "").splitlines() if line.strip()]


def _group(request: web.Request, group: ReviewGroup, intents: list[str],
           languages: tuple[str, ...]) -> str:
    hidden = _hidden(request, group.keys)
    options = "".join(f"<option>{html.escape(name)}</option>" for name in intents)
    own = _own_wordings(group, languages)
    return (
        f'<section class="group" id="group-{group.number}" lang="{html.escape(group.language)}">'
        f"<h2>{len(group.items)} like <q>{html.escape(group.typical)}</q> "
        f'<span class="language">in {html.escape(language_name(group.language))}</span></h2><ul>'
        + "".join(_item(request, item) for item in group.items) + "</ul>"
        + f'<form method="post" action="/training/assign">{hidden}<label>Add to intent '
        f'<select name="intent">{options}</select></label> {own}'
        '<button type="submit">Add</button></form>'
        + f'<form method="post" action="/training/new-intent">{hidden}'
        '<label>New intent <input name="name" pattern="[a-z][a-z0-9_]{2,49}" required '
        f'placeholder="gift_wrapping"></label>{own}'
        + _answer_boxes(languages)
        + '<label><input type="checkbox" name="hand_off" value="yes"> '
        "or hands these to a person</label> "
        '<button type="submit">Create intent</button></form>'
        + f'<form method="post" action="/training/dismiss">{hidden}'
        '<button type="submit">Dismiss the group as noise</button></form></section>'
    )


@require(Permission.TRAIN)
async def training_view(request: web.Request) -> web.Response:
    """The review inbox in groups, with what a trainer can do with each."""
    services = _services(request)
    groups = await asyncio.to_thread(_groups, services)
    intents = await asyncio.to_thread(services.training.intents) if services.training else []
    languages = await asyncio.to_thread(_languages, services)
    count = sum(len(group.items) for group in groups)
    body = (header(request) + "<main><h1>Training</h1>"
            + (f"<p>{count} message(s) the bot handled badly, in {len(groups)} group(s), "
               "biggest first. Then train a candidate with <code>nightdesk train</code>, "
               "check it with <code>nightdesk gate</code> and put it live with "
               "<code>nightdesk promote</code>.</p>" if groups
               else "<p>The review inbox is empty.</p>")
            + "".join(_group(request, group, intents, languages) for group in groups)
            + "</main>")
    return page("Training", body)


@require(Permission.TRAIN)
async def api_training(request: web.Request) -> web.Response:
    """The groups as JSON."""
    groups = await asyncio.to_thread(_groups, _services(request))
    return web.json_response({"groups": [group.as_json() for group in groups]})


def _done(request: web.Request, text: str) -> web.Response:
    body = (header(request) + f'<main><p role="status">{html.escape(text)}</p>'
            '<p><a href="/training">Back to training</a></p></main>')
    return page("Training", body)


def _summary(added: Added) -> str:
    return "; ".join(
        f"{len(split.training)} to training, {len(split.test)} to the test file, "
        f"{len(split.duplicates)} already known, in {language_name(split.language)}"
        for split in added.splits) or "nothing new"


@require(Permission.TRAIN)
async def training_decide(request: web.Request) -> web.Response:
    """Assigns, creates an intent from, or dismisses the messages named in the form."""
    services = _services(request)
    action = request.match_info["action"]
    form = await request.post()
    keys = [str(key) for key in form.getall("key", [])]
    if services.review is None or services.training is None:
        return refused("Not done", "this desk has no training data", "/training", 404)
    waiting = {item.key: item for item in await asyncio.to_thread(services.review.items)}
    if not keys or any(key not in waiting for key in keys):
        return refused("Not done", "these messages were decided meanwhile, or never were in "
                       "the inbox: reload the page", "/training", 409)
    own = _lines(form, "examples")
    own_language = str(form.get("examples_language") or "") or None
    items = [waiting[key] for key in dict.fromkeys(keys)]
    examples = examples_by_language(items, own, own_language, services.review.language_of)
    who = session_of(request).agent.login
    settings = services.trainer_settings
    if action == "dismiss":
        services.review.decide(keys, "dismissed", by=who)
        services.agents.audit.record(who, "training.dismiss", "review", {"messages": len(keys)})
        return _done(request, f"Dismissed {len(keys)} message(s).")
    try:
        if action == "assign":
            intent = str(form.get("intent") or "")
            added = await asyncio.to_thread(services.training.add_examples, intent, examples,
                                            settings.test_every)
        else:
            intent = str(form.get("name") or "").strip()
            answers = {code: _lines(form, f"answers_{code}")
                       for code in services.training.languages}
            added = await asyncio.to_thread(
                services.training.create_intent, intent, examples, answers,
                form.get("hand_off") == "yes", settings.test_every)
    except TrainingDataError as error:
        return refused("Not done", str(error), "/training", 400)
    services.review.decide(keys, "assigned", by=who, intent=intent)
    services.agents.audit.record(who, f"training.{action}", f"intent:{intent}",
                                 {"messages": len(keys), "own_wordings": len(own),
                                  "training": len(added.training),
                                  "test": len(added.test), "languages": added.languages})
    mine = f" and {len(own)} wording(s) of your own" if own else ""
    return _done(request, f"{len(keys)} message(s){mine} labelled {intent}: {_summary(added)}.")


def add_training_routes(app: web.Application) -> None:
    """The Training section's routes."""
    app.router.add_get("/training", training_view)
    app.router.add_get("/api/training", api_training)
    app.router.add_post(r"/training/{action:assign|new-intent|dismiss}", training_decide)
