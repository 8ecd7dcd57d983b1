"""Graph calls of the Handover Protocol: passing a thread to another app, taking it back."""

from __future__ import annotations

from typing import Any

from bot.messenger.graph_http import GraphHttp
from bot.messenger.graph_limits import MAX_METADATA


class HandoverCalls(GraphHttp):
    """Passing and taking thread control (part of `bot.messenger.graph_client.GraphClient`)."""

    async def pass_thread_control(
        self, psid: str, target_app_id: int | str, metadata: str | None = None
    ) -> bool:
        """Hands the conversation to another app, usually the Page Inbox (a person).

        Args:
            psid: the customer's page-scoped id.
            target_app_id: the receiving app, :data:`PAGE_INBOX_APP_ID` for the Page Inbox.
            metadata: a note for the receiving app (cut to 1000 characters).

        Returns:
            Graph's ``success`` flag.

        Raises:
            GraphSendError: Graph refused the call or could not be reached.
        """
        app_id = str(target_app_id)
        body: dict[str, Any] = {
            "recipient": {"id": psid},
            "target_app_id": int(app_id) if app_id.isdigit() else app_id,
        }
        if metadata:
            body["metadata"] = metadata[:MAX_METADATA]
        answer = await self._call("POST", "me/pass_thread_control", "pass_thread_control",
                                  json=body)
        return bool(answer.get("success"))

    async def take_thread_control(self, psid: str, metadata: str | None = None) -> bool:
        """Takes the conversation back from the app that holds it (needs the primary role).

        Returns:
            Graph's ``success`` flag.

        Raises:
            GraphSendError: Graph refused the call or could not be reached.
        """
        body: dict[str, Any] = {"recipient": {"id": psid}}
        if metadata:
            body["metadata"] = metadata[:MAX_METADATA]
        answer = await self._call("POST", "me/take_thread_control", "take_thread_control",
                                  json=body)
        return bool(answer.get("success"))
