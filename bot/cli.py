"""The `nightdesk` command: run the product, train, seed the demo shop, talk, look around.

nightdesk up [--latest] [--processes N]   upgrade the schema, seed, train if needed, start
                             everything with the live model (N Rasa servers behind HAProxy:
                             PostgreSQL and Redis)
nightdesk train [--force]    train (or fine-tune) a model unless one matches the data
nightdesk seed               (re)fill the demo shop with fresh orders
nightdesk shell [--name N]   talk to the running bot in the terminal
nightdesk orders [NUMBER]    list the demo shop's orders, or show one
nightdesk tickets            list open handoff tickets
nightdesk tickets handback N --by NAME   give a conversation back to the bot
nightdesk messenger setup [--dry-run]    set the page's Messenger Profile from brand.yml
nightdesk agents add|list|password|deactivate   the desk's people (see bot/commands/agents.py)
nightdesk report [--since yesterday] [--json] [--html FILE]    the night's figures
nightdesk review [assign|new-intent|dismiss]   the trainer's review inbox (bot/trainer)
nightdesk gate | promote | rollback            candidate against live; live without restart
nightdesk customer export|erase ID             a customer's data (see bot/commands/privacy.py)
nightdesk retention run                        erase what is older than retention_days
nightdesk db upgrade|current|history           the database's schema migrations
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from typing import TYPE_CHECKING

from bot.commands.agents import add_agents_parser
from bot.commands.context import command_services
from bot.commands.db import add_db_parser, upgrade_before_start
from bot.commands.models import add_model_parsers
from bot.commands.privacy import add_privacy_parsers, retention_job
from bot.commands.report import add_report_parser
from bot.commands.review import add_review_parser
from bot.language import WordingError
from bot.settings import (
    DEFAULT_RASA_AUTH_TOKEN,
    Brand,
    BrandError,
    Settings,
    SettingsError,
    get_brand,
    get_faq,
    get_settings,
    get_wording,
)

if TYPE_CHECKING:
    from bot.runtime.process_layout import ProcessLayout


def cmd_seed(_: argparse.Namespace) -> int:
    """Fills the demo shop."""
    from bot.orders.seed import seed_demo_shop

    services = command_services()
    count = seed_demo_shop(services.engine, services.clock())
    print(f"Demo shop seeded with {count} orders (try: nightdesk orders).")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    """Trains when needed."""
    from bot.runtime.training import train_if_needed

    model = train_if_needed(get_settings(), force=args.force)
    print(f"Model: {model}")
    return 0


def _demo_admin_line() -> str:
    """Creates the desk's first admin when there is none, and says how to log in."""
    from bot.desk.agents import AgentDirectory
    from bot.desk.passwords import one_time_password

    directory = AgentDirectory(command_services().engine)
    if directory.any_admin():
        return "(log in with your desk account; nightdesk agents add ... for more people)"
    password = one_time_password()
    login = "admin"
    if directory.get(login) is not None:  # a deactivated "admin": pick a free login
        login = f"admin-{one_time_password()[:6].lower()}"
    directory.add(login, "Desk Admin", "admin", password, by="nightdesk up")
    return (f"\n  First admin created: login {login}, one-time password {password}\n"
            f"  (change it: nightdesk agents password {login})")


def cmd_up(args: argparse.Namespace) -> int:
    """Upgrades the schema, seeds, trains if needed, runs every server until Ctrl-C.

    A server that crashes is restarted. Exits 1 when the schema cannot be upgraded, when a
    server does not start, or when one kept crashing and the supervisor gave
    up (after stopping the others, so that systemd, if it runs this, starts it all again).
    With --processes N > 1: N Rasa servers behind HAProxy (`bot.runtime.process_layout`);
    exits 2 before anything starts when that layout cannot run here.
    """
    from bot.privacy.retention import RETENTION_EVERY, RetentionSchedule
    from bot.runtime.exposure import refuse_unsafe_exposure
    from bot.runtime.processes import StartupError
    from bot.runtime.rasa_instances import forget_instances, record_instances
    from bot.runtime.supervisor import (
        Supervisor,
        SupervisorGaveUp,
        TeamChannelNotifier,
        product_children,
    )
    from bot.runtime.training import train_if_needed
    from bot.trainer.models import ModelShelf, model_to_serve

    settings = get_settings()
    brand = get_brand()
    get_faq()  # a broken faq.yml stops here, with the key that is wrong
    refuse_default_token_off_loopback(settings)
    refuse_unsafe_exposure(settings)
    layout = _planned_layout(settings, args.processes)
    if not upgrade_before_start(settings.database_url):
        return 1
    if settings.orders_backend == "sql":
        cmd_seed(args)
    model, which = model_to_serve(ModelShelf(settings.project_dir / "models"),
                                  train_if_needed(settings), "nightdesk up", args.latest)
    print(which)
    # `kill` (SIGTERM) stops the servers as cleanly as Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)
    # Started in the background by a script (`nightdesk up &`), this process and so its
    # children would ignore SIGINT, the servers' clean stop: each would wait out its grace.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    log_dir = settings.project_dir / "var" / "logs"
    if layout is None:
        print("Starting the action server and the Rasa server "
              "(loading the model takes a while)...")
        children = product_children(settings, model, log_dir)
    else:
        print(f"Starting {layout.processes} action servers, {layout.processes} Rasa servers "
              "(loading the model takes a while) and HAProxy...")
        children = layout.children(model, log_dir)
    notifier = TeamChannelNotifier(settings.team, settings.desk_url)
    supervisor = Supervisor(children, notifier)
    retention = RetentionSchedule(retention_job(), RETENTION_EVERY,
                                  lambda line: print(line, flush=True))
    record_instances(settings, [settings.rasa_url] if layout is None else
                     [layout.instance(n).rasa_url for n in range(layout.processes)])
    try:
        with supervisor:
            if layout is None:
                _print_ready(settings, brand)
            else:
                _print_layout_ready(layout, brand)
            retention.start()
            supervisor.run()
    except StartupError as error:
        print(f"nightdesk: {error}. See var/logs/ for the server output.", file=sys.stderr)
        return 1
    except SupervisorGaveUp:
        print("nightdesk: stopped after giving up (see above).", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    finally:
        forget_instances(settings)
        retention.stop()
        notifier.wait()
    print("\nStopped.")
    return 0


def _planned_layout(settings: Settings, processes: int) -> ProcessLayout | None:
    """None for the single-process layout; else the several-process one, or a refusal."""
    if processes == 1:
        return None
    from bot.runtime.process_layout import LayoutRefused, plan_layout

    try:
        layout = plan_layout(settings, processes)
        layout.write_config()
        return layout
    except LayoutRefused as error:
        raise SettingsError(f"refusing to start: {error}") from None


def _print_layout_ready(layout: ProcessLayout, brand: Brand) -> None:
    """Where everything is in the several-process layout, once every server answers."""
    settings = layout.settings
    rasa = ", ".join(layout.instance(n).rasa_url for n in range(layout.processes))
    print(
        f"\n{brand.bot_name} of {brand.name} is ready: {layout.processes} Rasa servers behind "
        "HAProxy.\n"
        f"  Web chat:      {layout.public_url}/webhooks/webchat/ (open it in a browser)\n"
        f"  Rasa servers:  {rasa}\n"
        f"  Internal:      {layout.internal_url} (HAProxy to the Rasa servers, for our own "
        "processes)\n"
        f"  HAProxy:       {layout.config_path}\n"
        f"  Logs:          {settings.project_dir / 'var' / 'logs'}\n\n"
        "Or talk to the bot in another terminal:\n"
        "  .venv/bin/nightdesk shell --name Anna\n"
        "Stop everything with Ctrl-C (a server that crashes is restarted meanwhile).\n",
        flush=True,
    )
    print(f"Agents' desk:  {layout.desk_url}/  {_demo_admin_line()}", flush=True)
    print(
        f"Messenger webhook (point the Meta app here, through HTTPS): "
        f"{layout.public_url}/webhooks/messenger/webhook"
        if settings.messenger.configured else
        "Messenger is off: set PAGE_ACCESS_TOKEN, APP_SECRET and VERIFY_TOKEN in .env.",
        flush=True,
    )


def _print_ready(settings: Settings, brand: Brand) -> None:
    """Where everything is, once every server answers."""
    print(
        f"\n{brand.bot_name} of {brand.name} is ready.\n"
        f"  Rasa server:   {settings.rasa_url} "
        f"(REST channel: POST {settings.rasa_url}/webhooks/rest/webhook)\n"
        f"  Web chat:      {settings.rasa_url}/webhooks/webchat/ (open it in a browser)\n"
        f"  Action server: {settings.action_server_url}\n"
        f"  Logs:          {settings.project_dir / 'var' / 'logs'}\n\n"
        "Or talk to the bot in another terminal:\n"
        "  .venv/bin/nightdesk shell --name Anna\n"
        "Try: where is my order 10023?  (proof: postcode 20121 or anna.rossi@example.com)\n"
        "Stop everything with Ctrl-C (a server that crashes is restarted meanwhile).\n",
        flush=True,
    )
    print(f"Agents' desk:  {settings.desk_url}/  {_demo_admin_line()}", flush=True)
    messenger = settings.messenger
    print(
        f"Messenger webhook (point the Meta app here, through HTTPS): "
        f"{messenger.ingress_url}/webhooks/messenger/webhook"
        if messenger.configured else
        "Messenger is off: set PAGE_ACCESS_TOKEN, APP_SECRET and VERIFY_TOKEN in .env.",
        flush=True,
    )


def refuse_default_token_off_loopback(settings: Settings) -> None:
    """Rasa's HTTP API exposes conversations: a reachable one needs a real token."""
    from urllib.parse import urlsplit

    host = urlsplit(settings.rasa_url).hostname or ""
    if settings.rasa_auth_token == DEFAULT_RASA_AUTH_TOKEN and host not in {
        "127.0.0.1", "localhost", "::1"
    }:
        raise SettingsError(
            f"RASA_AUTH_TOKEN: set a secret token in .env before serving on {host}"
        )


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def cmd_shell(args: argparse.Namespace) -> int:
    """Interactive terminal chat with the running bot."""
    from bot.runtime.shell import run_shell

    settings = get_settings()
    return run_shell(settings.rasa_url, args.name, args.sender, settings.rest_channel_token)


def cmd_orders(args: argparse.Namespace) -> int:
    """Lists or shows demo-shop orders (this is the demo shop's own data, for trying the bot)."""
    from bot.orders.sql_backend import SqlOrderBackend

    # the demo shop, whatever ORDERS_BACKEND says
    backend = SqlOrderBackend(command_services().engine)
    if args.number:
        order = asyncio.run(backend.get_order(args.number))
        if order is None:
            print(f"No order {args.number} in the demo shop.", file=sys.stderr)
            return 1
        print(f"Order {order.number}: {order.status.value}, {order.currency} {order.total}")
        print(f"  customer: {order.customer_first_name}, {order.email}, {order.postcode}, "
              f"{order.country}")
        print(f"  placed {order.placed_at:%Y-%m-%d %H:%M} UTC, paid by {order.payment_method}")
        for item in order.items:
            state = "shipped" if item.shipped else "not shipped"
            print(f"  - {item.quantity} x {item.name} {item.size or ''} ({state})")
        if order.carrier:
            print(f"  {order.carrier} {order.tracking_number}: {order.tracking_url}")
            print(f"  expected {order.expected_delivery}")
        return 0
    from bot.store import ShopOrderRow, session_scope

    with session_scope(command_services().engine) as session:
        rows = session.query(ShopOrderRow).order_by(ShopOrderRow.number).all()
        if not rows:
            print("The demo shop is empty: run `nightdesk seed`.")
            return 0
        print(f"{'order':<7}{'status':<19}{'name':<12}{'e-mail':<32}{'postcode':<10}country")
        for row in rows:
            c = row.customer
            print(f"{row.number:<7}{row.status:<19}{c.first_name:<12}{c.email:<32}"
                  f"{c.postcode:<10}{c.country}")
    return 0


def cmd_tickets(args: argparse.Namespace) -> int:
    """Lists open tickets, or hands one back to the bot."""
    from bot.messenger.hand_back import HandBackError, hand_back

    services = command_services()
    tickets = services.tickets
    if args.action == "handback":
        try:
            asyncio.run(hand_back(services.settings, services.engine, tickets, args.case,
                                  args.by))
        except HandBackError as error:
            print(f"nightdesk: {error}", file=sys.stderr)
            return 1
        print(f"Case #{args.case} handed back to the bot by {args.by}.")
        return 0
    open_tickets = tickets.list_open()
    if not open_tickets:
        print("No open tickets.")
    for ticket in open_tickets:
        print(f"#{ticket.case_number:<5}{ticket.priority.value:<8}{ticket.reason.value:<19}"
              f"{ticket.customer_name or '-':<12}{ticket.created_at:%Y-%m-%d %H:%M} "
              f"{ticket.summary}")
    return 0


def cmd_messenger_setup(args: argparse.Namespace) -> int:
    """Sets the page's Messenger Profile from brand.yml, or prints it with --dry-run."""
    from bot.messenger.graph_errors import GraphSendError
    from bot.messenger.profile import MissingTokenError, messenger_profile_body, set_up_profile

    brand, wording = get_brand(), get_wording()
    profile = brand.messenger
    if args.dry_run:
        print(json.dumps(messenger_profile_body(profile, brand.languages, wording), indent=2,
                         ensure_ascii=False))
        return 0
    messenger = get_settings().messenger
    try:
        body = asyncio.run(set_up_profile(profile, brand.languages, wording, messenger))
    except MissingTokenError as error:
        print(f"nightdesk: {error}", file=sys.stderr)
        return 2
    except GraphSendError as error:
        message = str(error)
        if messenger.page_access_token:
            message = message.replace(messenger.page_access_token, "<token>")
        print(f"nightdesk: the Messenger Profile was not set: {message}", file=sys.stderr)
        return 1
    menu = body["persistent_menu"][0]["call_to_actions"]
    breakers = body["ice_breakers"][0]["call_to_actions"]
    print(
        f"Messenger Profile set through {messenger.graph_api_url}: Get Started button, "
        f"greeting, {len(breakers)} ice breaker{'s' if len(breakers) != 1 else ''} and a "
        f"menu of {len(menu)} item{'s' if len(menu) != 1 else ''} "
        f"({', '.join(item['title'] for item in menu)})."
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    parser = argparse.ArgumentParser(prog="nightdesk", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="seed, train if needed, start everything")
    up.add_argument("--latest", action="store_true",
                    help="run the model of the current data, not the live one (skips the gate)")
    up.add_argument("--processes", type=int, default=1, metavar="N",
                    help="N Rasa servers (each with its action server) behind HAProxy, as in "
                         "production; N > 1 needs PostgreSQL, REDIS_URL and haproxy")
    up.set_defaults(func=cmd_up)
    train = sub.add_parser("train", help="train a model unless one matches the data")
    train.add_argument("--force", action="store_true", help="train even if nothing changed")
    train.set_defaults(func=cmd_train)
    sub.add_parser("seed", help="fill the demo shop").set_defaults(func=cmd_seed)
    shell = sub.add_parser("shell", help="talk to the running bot in the terminal")
    shell.add_argument("--name", help="your first name, as Messenger would pass it")
    shell.add_argument("--sender", help="conversation id (default: a new one)")
    shell.set_defaults(func=cmd_shell)
    orders = sub.add_parser("orders", help="list the demo shop's orders, or show one")
    orders.add_argument("number", nargs="?")
    orders.set_defaults(func=cmd_orders)
    tickets = sub.add_parser("tickets", help="open handoff tickets; hand one back")
    tickets.add_argument("action", nargs="?", choices=["list", "handback"], default="list")
    tickets.add_argument("case", nargs="?", type=int)
    tickets.add_argument("--by", default="agent", help="who hands it back")
    tickets.set_defaults(func=cmd_tickets)
    messenger = sub.add_parser("messenger", help="the Facebook Page's Messenger set-up")
    messenger_sub = messenger.add_subparsers(
        dest="messenger_command", required=True, metavar="setup"
    )
    setup = messenger_sub.add_parser(
        "setup",
        help="set the Get Started button, greeting, ice breakers and menu from brand.yml",
    )
    setup.add_argument(
        "--dry-run", action="store_true", help="print the profile as JSON; send nothing"
    )
    setup.set_defaults(func=cmd_messenger_setup)
    add_agents_parser(sub)
    add_report_parser(sub)
    add_review_parser(sub)
    add_model_parsers(sub)
    add_privacy_parsers(sub)
    add_db_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `nightdesk` console script."""
    args = build_parser().parse_args(argv)
    if getattr(args, "action", None) == "handback" and args.case is None:
        print("nightdesk: tickets handback needs a case number", file=sys.stderr)
        return 2
    try:
        return args.func(args)
    except (BrandError, SettingsError, WordingError) as error:
        print(f"nightdesk: {error}", file=sys.stderr)
        return 2
    except RuntimeError as error:
        print(f"nightdesk: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
