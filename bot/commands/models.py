"""`nightdesk gate`, `nightdesk promote`, `nightdesk rollback`: from a candidate to the live bot.

nightdesk gate                  the candidate (the model of the current data) against the live
                                one, on the held-apart NLU examples of every brand language
                                (tests/nlu/test_nlu_<language>.yml, each language judged on
                                its own) and the test stories
nightdesk promote [--by NAME]   load a candidate that passed into every running Rasa server
nightdesk rollback [--by NAME]  put the model live before it back

Every Rasa server (`bot.runtime.rasa_instances`: the ones `nightdesk up` runs, or
NIGHTDESK_RASA_INSTANCES) gets the model, or none keeps it: when one fails, the others are
given the live model back and the command says which failed and exits 1.

Promotions and rollbacks are written to the audit log (who, which model, when).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot.trainer.models import ModelShelf, PromotionError, promote, rollback
from bot.trainer.settings import load_trainer_settings


def _shelf_and_candidate():  # noqa: ANN202 - (Settings, ModelShelf, Path)
    from bot.settings import get_settings
    from bot.trainer.data_fingerprint import model_for_current_data

    settings = get_settings()
    return (settings, ModelShelf(settings.project_dir / "models"),
            model_for_current_data(settings.project_dir))


def _ready_to_audit() -> None:
    """Builds the command's services (and so its audit log) before the model changes.

    A broken brand file or an unreachable database then stops the command with nothing
    changed, rather than with a change left unaudited.
    """
    from bot.commands.context import command_services

    command_services()


def _audit(who: str, action: str, model: str, previous: str | None) -> None:
    from bot.commands.context import command_services

    command_services().audit.record(who, action, f"model:{model}", {"previous": previous})


def cmd_gate(_: argparse.Namespace) -> int:
    """Evaluates the candidate and the live model: each language's held-apart file, stories."""
    from bot.settings import get_brand
    from bot.trainer.gate import (
        MIN_SUPPORT_FOR_F1,
        GateError,
        GateReport,
        agent_reader,
        compare,
        evaluate,
        held_apart_by_language,
        load_agent,
    )
    from bot.trainer.story_gate import compare_stories, play_stories, read_test_stories

    settings, shelf, candidate = _shelf_and_candidate()
    live = shelf.live()
    if not candidate.exists():
        print("nightdesk: no model of the current data yet: run `nightdesk train`",
              file=sys.stderr)
        return 2
    if live is None:
        print("nightdesk: no live model is recorded: `nightdesk up` records the one it loads",
              file=sys.stderr)
        return 2
    if live.model == candidate.name:
        print(f"{candidate.name} is the live model: nothing to compare.")
        return 0
    if not (shelf.models_dir / live.model).exists():
        print(f"nightdesk: the live model {live.model} is no longer in models/", file=sys.stderr)
        return 2
    trainer = load_trainer_settings(settings.project_dir / "trainer.yml")
    tolerance = trainer.gate_tolerance
    try:
        examples = held_apart_by_language(settings.project_dir, get_brand().languages)
    except GateError as error:
        print(f"nightdesk: {error}", file=sys.stderr)
        return 2
    stories = read_test_stories(settings.project_dir / "tests" / "stories")
    counted = ", ".join(f"{len(found)} {code}" for code, found in examples.items())
    evaluations = {}
    for role, path in (("live", shelf.models_dir / live.model), ("candidate", candidate)):
        print(f"{role}: {path.name}: loading, reading held-apart examples ({counted}), "
              f"playing {len(stories)} test stories...", file=sys.stderr)
        agent = load_agent(path)
        read = agent_reader(agent)
        evaluations[role] = ({code: evaluate(found, read) for code, found in examples.items()},
                             set(agent.domain.intents), play_stories(stories, agent))
    (live_nlu, live_intents, live_stories), (candidate_nlu, _, candidate_stories) = (
        evaluations["live"], evaluations["candidate"])
    report = GateReport(
        [compare(code, found, live_nlu[code], candidate_nlu[code], live_intents, tolerance,
                 trainer.gate_intent_f1_drop, MIN_SUPPORT_FOR_F1)
         for code, found in examples.items()],
        tolerance, trainer.gate_intent_f1_drop,
        compare_stories(live_stories, candidate_stories, tolerance))
    shelf.save_gate(candidate, live.model, report.passed, report.as_text(), report.as_json())
    print(report.as_text())
    return 0 if report.passed else 1


def cmd_promote(args: argparse.Namespace) -> int:
    """Loads the candidate into every running Rasa server."""
    from bot.runtime.rasa_instances import rasa_instances

    settings, shelf, candidate = _shelf_and_candidate()
    _ready_to_audit()
    servers = rasa_instances(settings)
    try:
        record = asyncio.run(promote(shelf, candidate, args.by, servers,
                                     settings.rasa_auth_token))
    except PromotionError as error:
        print(f"nightdesk: {error}", file=sys.stderr)
        return 1
    _audit(args.by, "model.promote", record.model, record.previous)
    print(f"{record.model} is live in {_servers(servers)} "
          f"(previous: {record.previous or 'none'}).")
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    """Loads the previous live model back into every running Rasa server."""
    from bot.runtime.rasa_instances import rasa_instances

    settings, shelf, _ = _shelf_and_candidate()
    _ready_to_audit()
    servers = rasa_instances(settings)
    try:
        record = asyncio.run(rollback(shelf, args.by, servers, settings.rasa_auth_token))
    except PromotionError as error:
        print(f"nightdesk: {error}", file=sys.stderr)
        return 1
    _audit(args.by, "model.rollback", record.model, record.previous)
    print(f"{record.model} is live again in {_servers(servers)} "
          f"(previous: {record.previous or 'none'}).")
    return 0


def _servers(urls: tuple[str, ...]) -> str:
    """Where a model went: the one Rasa server, or all of them."""
    return f"the Rasa server {urls[0]}" if len(urls) == 1 else (
        f"all {len(urls)} Rasa servers ({', '.join(urls)})")


def add_model_parsers(sub: argparse._SubParsersAction) -> None:
    """Adds `gate`, `promote` and `rollback` to the `nightdesk` parser."""
    gate = sub.add_parser("gate", help="compare the candidate with the live model")
    gate.set_defaults(func=cmd_gate)
    for name, func, text in (("promote", cmd_promote, "put the candidate live (no restart)"),
                             ("rollback", cmd_rollback, "put the previous model live again")):
        command = sub.add_parser(name, help=text)
        command.add_argument("--by", default="trainer", help="who does it (for the audit log)")
        command.set_defaults(func=func)
