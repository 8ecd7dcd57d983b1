"""Graph calls that answer a comment under one of the page's posts: privately or in public."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from bot.messenger.graph_answers import SentMessage, from_id, graph_items, same_text
from bot.messenger.graph_errors import AttemptFailure
from bot.messenger.graph_http import GraphHttp
from bot.messenger.graph_limits import ALREADY_REPLIED_CODE, CHECK_REPLIES, MAX_TEXT_LENGTH
from bot.messenger.message_text import shorten


def _already_replied(failure: AttemptFailure) -> dict[str, Any] | None:
    """For a private reply: Graph's "already replied" as a send answer (ids unknown)."""
    if failure.code == ALREADY_REPLIED_CODE:
        return {"recipient_id": "", "message_id": ""}
    return None


class CommentReplyCalls(GraphHttp):
    """Private and public replies to comments (part of `bot.messenger.graph_client.GraphClient`)."""

    async def private_reply(self, comment_id: str, text: str) -> SentMessage:
        """Answers a comment privately, which opens a Messenger conversation with its author.

        Messenger allows one private reply per comment, so the text is cut (not split) to
        2000 characters. When an attempt timed out or failed with a 5xx and the retry is
        refused with "(#10900) Activity already replied to", the first attempt landed: that
        counts as success. The same refusal to a first attempt is an error (someone else,
        or an earlier run, already replied).

        Returns:
            The author's PSID (`recipient_id`) and the message id; both empty when the reply
            is known to have landed only from Graph's "already replied" (Graph does not say
            them again).

        Raises:
            GraphSendError: Graph refused the reply or could not be reached.
        """
        if not text.strip():
            raise ValueError("cannot send an empty text")
        body = {
            "recipient": {"comment_id": comment_id},
            "message": {"text": shorten(text.strip(), MAX_TEXT_LENGTH)},
        }
        answer = await self._call(
            "POST", "me/messages", "private_reply", json=body, idempotent=False,
            landed_if=_already_replied,
        )
        return SentMessage(str(answer.get("recipient_id", "")), str(answer.get("message_id", "")))

    async def public_reply(self, comment_id: str, text: str) -> str:
        """Replies publicly under a comment.

        After a timeout or a 5xx, the comment's replies are read first: a reply from the page
        with the same text means the attempt landed, and it is not posted again.

        Returns:
            The id of the new comment (or of the one found by the check).

        Raises:
            GraphSendError: Graph refused the reply or could not be reached.
        """
        message = text.strip()
        if not message:
            raise ValueError("cannot send an empty text")
        edge = f"{quote(comment_id, safe='')}/comments"

        async def check(started: float) -> dict[str, Any] | None:
            page_id = await self._known_page_id()
            answer = await self._read(
                edge, "public_reply check",
                {"fields": "from,message,created_time", "order": "reverse_chronological",
                 "limit": str(CHECK_REPLIES)},
                personal=(comment_id, message),
            )
            for reply in graph_items(answer):
                if from_id(reply) == page_id and same_text(reply.get("message"), message):
                    return {"id": str(reply.get("id", ""))}
            return None

        answer = await self._call(
            "POST", edge, "public_reply", json={"message": message}, personal=(comment_id,),
            idempotent=False, check=check,
        )
        return str(answer.get("id", ""))
