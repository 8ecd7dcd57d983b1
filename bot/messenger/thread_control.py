"""Taking a Messenger thread back from the page inbox when a case is handed back to the bot.

On handoff the channel passes thread control to the page inbox (a person). When an agent
hands the case back, the bot must own the thread again, or the customer's next messages keep
arriving on standby. This is done before anything else changes, so a refusal from Graph
leaves the case as it was.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from bot.messenger.graph_client import GraphClient
from bot.messenger.graph_errors import GraphSendError
from bot.messenger.threads import ThreadOwner, ThreadStore
from bot.settings import Settings


class ThreadControlError(RuntimeError):
    """The thread could not be taken back (Messenger not configured, or Graph refused)."""


async def take_back_thread(settings: Settings, engine: Engine, psid: str) -> bool:
    """Takes thread control back when a person owns the conversation's thread.

    Returns:
        True when control was taken back, False when the bot already owned the thread (or the
        conversation is not a Messenger thread).

    Raises:
        ThreadControlError: Messenger is not configured, or Graph refused or was unreachable
            (the `GraphSendError` is chained; its message holds no personal data).
    """
    threads = ThreadStore(engine)
    state = threads.get(psid)
    if state is None or state.owner is ThreadOwner.BOT:
        return False
    messenger = settings.messenger
    if not messenger.page_access_token:
        raise ThreadControlError("Messenger is not configured: set PAGE_ACCESS_TOKEN in .env")
    async with GraphClient(
        messenger.graph_api_url, messenger.page_access_token, messenger.graph_api_version,
        app_secret=messenger.app_secret,
    ) as graph:
        try:
            await graph.take_thread_control(psid, metadata="nightdesk: handed back to the bot")
        except GraphSendError as error:
            raise ThreadControlError(
                f"could not take the Messenger thread back: {error}"
            ) from error
    threads.set_owner(psid, state.page_id, ThreadOwner.BOT, messenger.app_id)
    return True
