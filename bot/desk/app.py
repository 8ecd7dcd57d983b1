"""The agents' desk process: `python -m bot.desk.app --host H --port P` serves the desk.

`nightdesk up` starts it (from DESK_URL), as does the systemd unit. The application itself
(routes, handlers, pages) is `bot.desk.web`; `main` takes its services from the composition
root (`bot.app_context`) and serves them, closing them when the server stops.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import Sequence

from aiohttp import web

from bot.desk.web.factory import create_app


def main(argv: Sequence[str] | None = None) -> None:
    """Serves the desk on loopback (put it behind HTTPS to reach it from elsewhere)."""
    from bot.app_context import build, desk_services, service_checks
    from bot.desk.canned import CannedRepliesError, load_canned_replies
    from bot.desk.team_channel import TeamChannel
    from bot.handoff.log_redaction import install_log_redaction
    from bot.observability.health import Readiness, condition_check
    from bot.observability.probes import Probes
    from bot.settings import get_brand, get_settings

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
    services = build(settings)
    desk = desk_services(services, canned)
    readiness = Readiness([condition_check("services", lambda: desk is not None, "not built"),
                           *service_checks(services)])
    app = create_app(desk,
                     secure_cookies=settings.desk_url.lower().startswith("https://"),
                     trusted_proxies=settings.desk_trusted_proxies, probes=Probes(readiness))

    async def close_services(_: web.Application):  # noqa: ANN202 - aiohttp's cleanup ctx
        yield
        await services.close()

    app.cleanup_ctx.append(close_services)
    team = TeamChannel(services.engine, services.tickets, settings.team, settings.desk_url)
    if team.targets:
        async def send_transcripts(_: web.Application):  # noqa: ANN202 - aiohttp's cleanup ctx
            task = asyncio.create_task(team.run_forever())
            yield
            task.cancel()  # and waited for, before the services it uses are closed
            with contextlib.suppress(asyncio.CancelledError):
                await task

        app.cleanup_ctx.append(send_transcripts)
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
