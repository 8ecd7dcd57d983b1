"""`nightdesk customer ...` and `nightdesk retention run`: customers' data rights from a shell.

nightdesk customer export ID [--kind conversation|email|order] [--out FILE]
nightdesk customer erase ID --by NAME [--kind ...]
nightdesk retention run

ID is a Messenger PSID, a web chat id, an e-mail address or an order number
(`bot.privacy.subject`). The export is one JSON file, readable by its owner only; the erasure
deletes everything held, everywhere, in one transaction. Each is audited under the name
given (`--by`) or the operating-system user; the audit keeps the id's hash, never the id.
`retention run` erases what is older than brand.yml's `retention_days` (for cron; `nightdesk
up` also runs it daily).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path

from bot.privacy.subject import KINDS, SubjectError

LOG_DIR = Path("var") / "logs"
"""Where `nightdesk up` writes the servers' logs (under the project folder)."""


def _actor(given: str | None) -> str:
    if given:
        return given.strip()[:64]
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _engine_and_audit():  # noqa: ANN202 - (Engine, AuditLog), imported lazily
    from bot.commands.context import command_services

    services = command_services()
    return services.engine, services.audit


def write_private_json(target: Path, document: object) -> None:
    """Writes JSON readable by its owner only, whole or not at all."""
    partial = target.with_name(f".{target.name}.partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as output:
        json.dump(document, output, ensure_ascii=False, indent=2)
        output.write("\n")
    os.replace(partial, target)


def cmd_export(args: argparse.Namespace) -> int:
    """Writes the export file; says where and how much it holds."""
    from bot.privacy.customer_data import export_customer
    from bot.settings import get_settings

    engine, audit = _engine_and_audit()
    try:
        document = export_customer(engine, args.id, by=_actor(args.by), audit=audit,
                                   now=get_settings().clock()(), kind=args.kind)
    except SubjectError as error:
        print(f"nightdesk: {error}", file=sys.stderr)
        return 2
    target = args.out or Path(f"customer-export-{document['asked_for']['kind']}.json")
    try:
        write_private_json(target, document)
    except OSError as error:
        print(f"nightdesk: cannot write {target}: {error.strerror}", file=sys.stderr)
        return 1
    rows = sum(len(found) for found in document["held"].values())
    conversations = len(document["conversations"])
    print(f"Exported {conversations} conversation{'s' if conversations != 1 else ''}, "
          f"{rows} rows, to {target}" if conversations else
          f"Nothing is held about that id; {target} says so.")
    return 0


def cmd_erase(args: argparse.Namespace) -> int:
    """Erases; says how many conversations and rows went."""
    from bot.privacy.customer_data import erase_customer

    engine, audit = _engine_and_audit()
    try:
        erasure = erase_customer(engine, args.id, by=_actor(args.by), audit=audit,
                                 kind=args.kind)
    except SubjectError as error:
        print(f"nightdesk: {error}", file=sys.stderr)
        return 2
    conversations = len(erasure.subject.conversations)
    if not conversations:
        print("Nothing is held about that id; the request is in the audit log.")
        return 0
    print(f"Erased {conversations} conversation{'s' if conversations != 1 else ''} "
          f"({erasure.total} rows: "
          + ", ".join(f"{name} {count}" for name, count in sorted(erasure.rows.items()))
          + "). The audit log keeps the id's hash only.")
    return 0


def cmd_retention(_: argparse.Namespace) -> int:
    """One retention run now."""
    print(retention_job()().summary())
    return 0


def retention_job():  # noqa: ANN201 - Callable[[], RetentionRun], imported lazily
    """One retention run with the settings and brand of this process (for the schedule)."""
    from bot.privacy.retention import run_retention
    from bot.settings import get_brand, get_settings

    def run():  # noqa: ANN202
        settings = get_settings()
        engine, audit = _engine_and_audit()
        return run_retention(engine, days=get_brand().retention_days,
                             now=settings.clock()(), audit=audit,
                             log_dir=settings.project_dir / LOG_DIR)

    return run


def add_privacy_parsers(sub: argparse._SubParsersAction) -> None:
    """Adds `customer` and `retention` to the `nightdesk` parser."""
    customer = sub.add_parser("customer", help="export or erase what is held about a person")
    actions = customer.add_subparsers(dest="customer_command", required=True,
                                      metavar="export|erase")
    export = actions.add_parser("export", help="everything held about them, as one JSON file")
    erase = actions.add_parser("erase", help="delete everything held about them, everywhere")
    for action in (export, erase):
        action.add_argument("id", help="a PSID, web chat id, e-mail address or order number")
        action.add_argument("--kind", choices=KINDS,
                            help="what the id is (default: told from the id)")
    export.add_argument("--out", type=Path, metavar="FILE",
                        help="where to write (default: customer-export-<kind>.json)")
    export.add_argument("--by", help="who asks (default: your user name)")
    erase.add_argument("--by", required=True, help="who erases, for the audit log")
    export.set_defaults(func=cmd_export)
    erase.set_defaults(func=cmd_erase)
    retention = sub.add_parser("retention", help="erase what is older than retention_days")
    retention_actions = retention.add_subparsers(dest="retention_command", required=True,
                                                 metavar="run")
    retention_actions.add_parser("run", help="one run now (for cron)").set_defaults(
        func=cmd_retention)
