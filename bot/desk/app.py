"""The agents' desk process: `python -m bot.desk.app --host H --port P` serves the desk.

`nightdesk up` starts it (from DESK_URL), as does the systemd unit. The application itself
(routes, handlers, pages) is `bot.desk.web`; `main` gathers what it works with and serves it.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from datetime import timedelta
from functools import partial

from aiohttp import web

from bot.desk.agents import AgentDirectory
from bot.desk.audit import AuditLog
from bot.desk.claims import ClaimBook
from bot.desk.login_limit import LoginLimit
from bot.desk.notes import NoteBook
from bot.desk.services import DeskServices
from bot.desk.sessions import SessionStore
from bot.desk.web.factory import create_app
from bot.handoff.tickets import TicketService
from bot.messenger.threads import ThreadStore
from bot.orders import OrderBackend


def main(argv: Sequence[str] | None = None) -> None:
    """Serves the desk on loopback (put it behind HTTPS to reach it from elsewhere)."""
    from bot.desk.canned import CannedRepliesError, load_canned_replies
    from bot.desk.replies import reply_to_customer
    from bot.desk.report import figures_for
    from bot.desk.team_channel import TeamChannel
    from bot.handoff.hand_back import hand_back
    from bot.handoff.log_redaction import install_log_redaction
    from bot.hours import OfficeCalendar
    from bot.privacy.customer_data import CustomerData
    from bot.settings import get_brand, get_settings
    from bot.store import create_db_engine, ensure_schema
    from bot.trainer.review import ReviewInbox
    from bot.trainer.settings import load_trainer_settings
    from bot.trainer.training_data import TrainingData

    parser = argparse.ArgumentParser(prog="python -m bot.desk.app", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)
    install_log_redaction()
    settings, brand = get_settings(), get_brand()
    try:  # checked before anything else: a reply missing a language stops the desk, clearly
        canned = tuple(load_canned_replies(settings.project_dir / "canned_replies.yml",
                                           brand.languages))
    except CannedRepliesError as error:
        raise SystemExit(f"nightdesk desk: {error}") from None
    trainer_settings = load_trainer_settings(settings.project_dir / "trainer.yml")
    engine = create_db_engine(settings.database_url)
    ensure_schema(engine)
    tickets = TicketService(engine, OfficeCalendar.from_brand(brand),
                            timedelta(minutes=brand.answer_within_minutes_when_open),
                            clock=settings.clock())
    app = create_app(DeskServices(
        agents=AgentDirectory(engine), sessions=SessionStore(engine),
        login_limit=LoginLimit(engine), tickets=tickets, claims=ClaimBook(engine),
        notes=NoteBook(engine), orders=OrderBackend.create(settings),
        threads=ThreadStore(engine), zone=brand.timezone,
        hand_back=partial(hand_back, settings, engine, tickets),
        send_reply=partial(reply_to_customer, settings, engine, tickets),
        canned=canned, languages=brand.languages,
        report=partial(figures_for, engine, OfficeCalendar.from_brand(brand),
                       languages=brand.languages),
        review=ReviewInbox(engine, trainer_settings), training=TrainingData(settings.project_dir),
        trainer_settings=trainer_settings,
        customer_data=CustomerData(engine, AuditLog(engine, clock=settings.clock()),
                                   settings.clock()),
    ), secure_cookies=settings.desk_url.lower().startswith("https://"),
        trusted_proxies=settings.desk_trusted_proxies)
    team = TeamChannel(engine, tickets, settings.team, settings.desk_url)
    if team.targets:
        async def send_transcripts(_: web.Application):  # noqa: ANN202 - aiohttp's cleanup ctx
            task = asyncio.create_task(team.run_forever())
            yield
            task.cancel()

        app.cleanup_ctx.append(send_transcripts)
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
