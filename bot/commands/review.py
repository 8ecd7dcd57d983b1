"""`nightdesk review`: the review inbox from the terminal, and what a trainer decides on it.

nightdesk review [--json]                         the groups, biggest first, with their messages
nightdesk review assign GROUP.. --intent NAME [--example TEXT.. [--language LANG]]
nightdesk review new-intent GROUP.. --name NAME (--answer LANG TEXT.. | --hand-off)
                                  [--example TEXT.. [--language LANG]]
nightdesk review dismiss GROUP..                  noise: the messages leave the inbox

A GROUP is a number from the list (``3``), or one message of it (``3.2``); numbers are those
of the list as it is when the command runs, and the command says which texts it took. Each
group is of one language, shown with it, and its messages are written into that language's
data. `--example` adds a wording of the trainer's own to the messages (repeat it for more),
in `--language` (by default the language of the chosen messages, or, without one, the
language the detector reads in it); with `--example`, no GROUP is needed. A new intent's
answer is given in every brand language: `--answer it "..." --answer en "..."` (repeat a
language for variations); the command names the languages still missing.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.trainer.languages import language_name, named
from bot.trainer.review import ReviewInbox, ReviewItem, examples_by_language
from bot.trainer.settings import TrainerSettings, load_trainer_settings
from bot.trainer.training_data import Added, MissingAnswerError, TrainingData, TrainingDataError

if TYPE_CHECKING:  # grouping loads scikit-learn: only when a review command runs
    from bot.trainer.grouping import ReviewGroup


@dataclass(frozen=True)
class _Context:
    inbox: ReviewInbox
    data: TrainingData
    settings: TrainerSettings
    who: str


def _context(args: argparse.Namespace) -> _Context:
    from bot.commands.context import command_services

    services = command_services()
    settings = services.settings
    trainer = load_trainer_settings(settings.project_dir / "trainer.yml")
    return _Context(ReviewInbox(services.engine, trainer), TrainingData(settings.project_dir),
                    trainer, args.by)


def _groups(context: _Context) -> list[ReviewGroup]:
    from bot.trainer.grouping import group_items

    return group_items(context.inbox.items(), context.settings.group_distance,
                       context.settings.stop_words)


class SelectionError(ValueError):
    """A GROUP argument names nothing in the list."""


def select(groups: list[ReviewGroup], wanted: list[str]) -> list[ReviewItem]:
    """The messages named by ``3`` (a whole group) or ``3.2`` (its second message)."""
    chosen: dict[str, ReviewItem] = {}
    for name in wanted:
        group_part, _, item_part = name.partition(".")
        if not group_part.isdigit() or not 1 <= int(group_part) <= len(groups):
            raise SelectionError(f"there is no group {group_part!r} (1 to {len(groups)})")
        items = groups[int(group_part) - 1].items
        if item_part:
            if not item_part.isdigit() or not 1 <= int(item_part) <= len(items):
                raise SelectionError(f"group {group_part} has no message {item_part!r}")
            items = (items[int(item_part) - 1],)
        chosen.update((item.key, item) for item in items)
    return list(chosen.values())


def _show(groups: list[ReviewGroup]) -> str:
    if not groups:
        return "The review inbox is empty."
    lines = []
    for group in groups:
        lines.append(f"[{group.number}] {len(group.items)} message(s) in "
                     f"{language_name(group.language)} ({group.language}) like "
                     f"\"{group.typical}\"")
        for index, item in enumerate(group.items, start=1):
            read = f"{item.intent} {item.confidence:.2f}" if item.confidence is not None \
                else "not read"
            lines.append(f"  {group.number}.{index}  {item.text}  ({read}; "
                         f"{', '.join(item.reasons)}; {item.conversation_id})")
    return "\n".join(lines)


def cmd_list(args: argparse.Namespace) -> int:
    """Prints the groups."""
    groups = _groups(_context(args))
    print(json.dumps([g.as_json() for g in groups], indent=2) if args.json else _show(groups))
    return 0


def _report(verb: str, items: list[ReviewItem], added: Added | None = None,
            own: list[str] | None = None) -> None:
    print(f"{verb} {len(items)} message(s):")
    for item in items:
        print(f"  - [{item.language}] {item.text}")
    if own:
        print(f"and {len(own)} wording(s) of the trainer's own.")
    for split in added.splits if added is not None else ():
        print(f"  {named([split.language])}: to training: {len(split.training)}, to the test "
              f"file: {len(split.test)}, already known: {len(split.duplicates)}")


def _answers(pairs: list[list[str]] | None) -> dict[str, list[str]]:
    answers: dict[str, list[str]] = {}
    for language, text in pairs or ():
        answers.setdefault(language.strip().lower(), []).append(text)
    return answers


def cmd_decide(args: argparse.Namespace) -> int:
    """Assign / new-intent / dismiss."""
    context = _context(args)
    try:
        items = select(_groups(context), args.groups) if args.groups else []
        own = list(getattr(args, "example", None) or [])
        if not items and not own:
            raise SelectionError("name a GROUP of the list, or give an --example")
        if args.review_command == "dismiss":
            context.inbox.decide([i.key for i in items], "dismissed", by=context.who)
            _report("Dismissed", items)
            return 0
        examples = examples_by_language(items, own, args.language, context.inbox.language_of)
        if args.review_command == "assign":
            intent = args.intent
            added = context.data.add_examples(intent, examples, context.settings.test_every)
        else:
            intent = args.name
            added = context.data.create_intent(intent, examples, answers=_answers(args.answer),
                                               hand_off=args.hand_off,
                                               test_every=context.settings.test_every)
    except MissingAnswerError as error:
        print(f"nightdesk: {error}\n  give it with: "
              + " ".join(f'--answer {code} "..."' for code in error.missing), file=sys.stderr)
        return 2
    except (SelectionError, TrainingDataError) as error:
        print(f"nightdesk: {error}", file=sys.stderr)
        return 2
    context.inbox.decide([i.key for i in items], "assigned", by=context.who, intent=intent)
    _report(f"Labelled as {intent}", items, added, own)
    print("Train a candidate with `nightdesk train` when you are done labelling.")
    return 0


def add_review_parser(sub: argparse._SubParsersAction) -> None:
    """Adds `review` to the `nightdesk` parser."""
    review = sub.add_parser("review", help="the trainer's review inbox (misunderstood messages)")
    review.add_argument("--json", action="store_true", help="the groups as JSON")
    review.add_argument("--by", default="trainer", help="who decides (kept with the decision)")
    review.set_defaults(func=cmd_list)
    actions = review.add_subparsers(dest="review_command", metavar="assign|new-intent|dismiss")
    assign = actions.add_parser("assign", help="add the messages to an existing intent")
    assign.add_argument("groups", nargs="*", metavar="GROUP")
    assign.add_argument("--intent", required=True)
    new = actions.add_parser("new-intent", help="create an intent from the messages")
    new.add_argument("groups", nargs="*", metavar="GROUP")
    new.add_argument("--name", required=True, help="the new intent's name, e.g. gift_wrapping")
    answer = new.add_mutually_exclusive_group(required=True)
    answer.add_argument("--answer", action="append", nargs=2, metavar=("LANG", "TEXT"),
                        help="one wording of the bot's answer in a language, e.g. --answer it "
                             "\"Sì...\" (repeat for variations; every brand language)")
    answer.add_argument("--hand-off", action="store_true",
                        help="the bot hands these to a person instead of answering")
    dismiss = actions.add_parser("dismiss", help="noise: take the messages out of the inbox")
    dismiss.add_argument("groups", nargs="+", metavar="GROUP")
    for parser in (assign, new):
        parser.add_argument("--example", action="append", default=[],
                            help="a wording of the trainer's own (repeat for more)")
        parser.add_argument("--language", metavar="LANG",
                            help="the language of the --example wordings (default: that of "
                                 "the chosen messages, else the one read in each)")
    for parser in (assign, new, dismiss):
        parser.add_argument("--by", default=argparse.SUPPRESS,
                            help="who decides (kept with the decision)")
        parser.set_defaults(func=cmd_decide)
