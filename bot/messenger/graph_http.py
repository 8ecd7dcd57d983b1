"""The HTTP side of the Graph client: one session, retries, and "did it land?" checks.

Failed calls are retried with exponential backoff and jitter when Graph says "later" (HTTP
5xx, 429, rate-limit error codes 4, 17, 32 and 613) or when the connection fails or times
out; other 4xx answers are final. A rate-limit answer pauses every call of the page, not
only the one that heard it (`bot.messenger.graph_pause`: in this process, and in every process
on the same Redis when `REDIS_URL` is set): each call waits out a pause in force before it goes.

Calls that change nothing when repeated (profile reads, sender actions, thread control, the
Messenger Profile) are simply sent again. Calls that would post twice (Send API messages,
private replies, public replies) are sent again without a second thought only after a clear
"not processed" (429, a rate-limit code, a connection that never opened). After an ambiguous
failure (a timeout, a connection dropped once the request was out, HTTP 5xx) the client first
finds out whether the call landed after all:

- a public reply: the comment's replies (``GET /{comment-id}/comments``) are searched for one
  from the page with the same text; its id is the result, nothing is posted again;
- a Send API text: the page's most recent messages to that customer (the Conversations API,
  ``GET /me/conversations?platform=messenger&user_id=...``) are searched for the same text sent
  since the first attempt began; that message is the result;
- a private reply: Graph allows one per comment, so the retry itself is the check: its "(#10900)
  Activity already replied to" after our own ambiguous attempt means that attempt landed.

A check is one Graph read with the same time limit as the calls. When the check itself fails,
or the message cannot be recognised (templates and media carry no text to compare), the call
is sent again (a duplicate is better than silence) and the unknown outcome is logged.

Nothing personal (a PSID, a comment id, the text sent, the access token) ever goes into a log
line or an exception message; Graph's own error text is kept, scrubbed of those.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import random
import time
from collections.abc import Callable, Iterable
from typing import Any

import aiohttp

from bot.messenger.graph_answers import as_int
from bot.messenger.graph_errors import (
    AttemptFailure,
    Check,
    CheckFailed,
    GraphSendError,
    scrub,
    strings_in,
)
from bot.messenger.graph_limits import RATE_LIMIT_CODES
from bot.messenger.graph_pause import GraphPause, process_pause

logger = logging.getLogger(__name__)


class GraphHttp:
    """Graph API calls for one Facebook Page, sent with retries over one aiohttp session.

    The session is opened on the first call and closed by :meth:`close`. Safe to share
    between concurrent conversations. :class:`bot.messenger.graph_client.GraphClient` builds
    the Messenger calls on it.

    Args:
        base_url: ``https://graph.facebook.com`` or the fake's URL, without the version.
        page_access_token: the Page access token.
        api_version: the Graph API version in the path, such as "v19.0".
        max_attempts: attempts per call, the first included (at least 1).
        backoff_seconds: the wait before the second attempt; it doubles each time, plus up
            to 50 % random jitter, and never exceeds `max_backoff_seconds`.
        timeout_seconds: the time limit of one attempt.
        max_backoff_seconds: the longest wait between two attempts.
        app_secret: when given, every call carries ``appsecret_proof`` (needed when the Meta
            app requires it).
        page_id: the Page's id, to recognise the page's own messages and replies when
            checking whether a call landed; when None it is asked of Graph (``GET /me``) the
            first time a check needs it.
        pause: the rate-limit pause shared with the page's other calls; the process's
            (`bot.messenger.graph_pause.process_pause`) when None.
    """

    def __init__(
        self,
        base_url: str,
        page_access_token: str,
        api_version: str = "v19.0",
        max_attempts: int = 4,
        backoff_seconds: float = 0.5,
        timeout_seconds: float = 10,
        *,
        max_backoff_seconds: float = 30.0,
        app_secret: str | None = None,
        page_id: str | None = None,
        pause: GraphPause | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not page_access_token:
            raise ValueError("a page access token is required")
        self.base_url = base_url.rstrip("/")
        self.api_version = api_version.strip("/")
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.timeout_seconds = timeout_seconds
        self._token = page_access_token
        self._auth = {"access_token": page_access_token}
        if app_secret:
            self._auth["appsecret_proof"] = hmac.new(
                app_secret.encode(), page_access_token.encode(), hashlib.sha256
            ).hexdigest()
        self._session: aiohttp.ClientSession | None = None
        self._page_id = page_id or None
        self._pause = pause or process_pause()

    async def close(self) -> None:
        """Closes the HTTP session, if one was opened. The client may be used again after."""
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    def backoff_delay(self, attempt: int) -> float:
        """The wait after failed attempt number `attempt` (1-based), jitter included."""
        base = self.backoff_seconds * (2 ** (attempt - 1))
        return min(base + random.uniform(0, base / 2), self.max_backoff_seconds)

    async def _known_page_id(self) -> str:
        """The Page's id: given to the constructor, or asked of Graph once and kept."""
        if self._page_id is None:
            answer = await self._read("me", "page id", {"fields": "id"})
            page_id = str(answer.get("id") or "")
            if not page_id:
                raise CheckFailed("Graph did not say the page id")
            self._page_id = page_id
        return self._page_id

    async def _read(
        self, path: str, operation: str, params: dict[str, str], personal: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        """One GET for a check, without retries; raises :class:`CheckFailed` on failure."""
        await self._pause.wait()
        outcome = await self._attempt(
            self._session_for_calls(), "GET", f"{self.base_url}/{self.api_version}/{path}",
            {**params, **self._auth}, None,
        )
        if isinstance(outcome, AttemptFailure):
            raise CheckFailed(f"{operation}: {self._describe(outcome, personal)}")
        return outcome

    def _describe(self, failure: AttemptFailure, secrets: Iterable[str]) -> str:
        """A failure as "HTTP s, error code c (subcode x): detail", safe to log."""
        subcode = f" (subcode {failure.subcode})" if failure.subcode is not None else ""
        secrets = [*secrets, *self._auth.values()]
        return (f"HTTP {failure.status}, error code {failure.code}{subcode}: "
                f"{scrub(failure.detail, secrets, self._token)}")

    def _session_for_calls(self) -> aiohttp.ClientSession:
        """The shared session, opened on first use."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout_seconds)
            )
        return self._session

    async def _call(
        self,
        method: str,
        path: str,
        operation: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        personal: tuple[str, ...] = (),
        idempotent: bool = True,
        check: Check | None = None,
        landed_if: Callable[[AttemptFailure], dict[str, Any] | None] | None = None,
    ) -> dict[str, Any]:
        """One Graph call with retries; Graph's JSON answer on success.

        Args:
            method: "GET" or "POST".
            path: the path after the version, already URL-quoted.
            operation: a name for logs and errors, never personal.
            json: the JSON body.
            params: query parameters besides the token.
            personal: ids in the path, kept out of error messages like the body's strings.
            idempotent: whether sending the call twice does no harm. When False, an
                ambiguous failure (timeout, connection lost, 5xx) is followed by `check`
                before anything else.
            check: for a call that is not idempotent, finds out whether an attempt landed
                (one Graph read per ambiguous failure); its answer is returned when it did.
            landed_if: for a call Graph refuses to repeat: turns a refusal that follows an
                ambiguous failure of ours into the answer to return (the first attempt
                landed); None for a refusal that stays an error.

        Raises:
            GraphSendError: a final answer that is not a success, or the last attempt failed.
        """
        url = f"{self.base_url}/{self.api_version}/{path}"
        query = {**(params or {}), **self._auth}
        secrets = [*strings_in(json), *strings_in(params), *personal]
        session = self._session_for_calls()
        started = time.time()
        ambiguous_before = False
        attempt = 0
        while True:
            attempt += 1
            await self._pause.wait()
            outcome = await self._attempt(session, method, url, query, json)
            if not isinstance(outcome, AttemptFailure):
                if attempt > 1:
                    logger.info("Graph %s succeeded on attempt %d", operation, attempt)
                return outcome
            failure = outcome
            if ambiguous_before and landed_if is not None:
                landed = landed_if(failure)
                if landed is not None:
                    logger.info(
                        "Graph %s attempt %d/%d was refused as done already (%s): an earlier "
                        "attempt had landed, so it counts as sent",
                        operation, attempt, self.max_attempts, self._describe(failure, secrets),
                    )
                    return landed
            if failure.ambiguous and not idempotent:
                ambiguous_before = True
                landed = await self._landed(operation, attempt, failure, secrets, started,
                                            check, retry_tells=landed_if is not None)
                if landed is not None:
                    return landed
            delay = self.backoff_delay(attempt)
            if failure.rate_limited:  # every call of the page waits it out, the next of ours too
                await self._pause.pause_for(delay)
            last = attempt >= self.max_attempts
            if not failure.retryable or last:
                logger.error(
                    "Graph %s failed for good on attempt %d/%d%s: %s",
                    operation, attempt, self.max_attempts,
                    "" if failure.retryable else " (not retried)",
                    self._describe(failure, secrets),
                )
                raise GraphSendError(
                    failure.status,
                    failure.code,
                    f"Graph API {operation} failed after {attempt} attempt"
                    f"{'s' if attempt != 1 else ''}: {self._describe(failure, secrets)}",
                    subcode=failure.subcode,
                    error_type=failure.error_type,
                    attempts=attempt,
                    operation=operation,
                )
            logger.warning(
                "Graph %s attempt %d/%d failed: %s; retrying in %.2f s%s",
                operation, attempt, self.max_attempts, self._describe(failure, secrets), delay,
                " (every call of the page pauses)" if failure.rate_limited else "",
            )
            if not failure.rate_limited:
                await asyncio.sleep(delay)

    async def _landed(
        self,
        operation: str,
        attempt: int,
        failure: AttemptFailure,
        secrets: list[str],
        started: float,
        check: Check | None,
        *,
        retry_tells: bool,
    ) -> dict[str, Any] | None:
        """After an ambiguous failure: the answer to return if the call landed, else None."""
        where = f"Graph {operation} attempt {attempt}/{self.max_attempts}"
        if check is None:
            if retry_tells:
                logger.info("%s may have landed (%s); a retry will tell",
                            where, self._describe(failure, secrets))
            else:
                logger.warning(
                    "%s may have landed (%s) and this kind of call cannot be checked: the "
                    "outcome is unknown, it is sent again if attempts remain (a duplicate is "
                    "better than silence)", where, self._describe(failure, secrets),
                )
            return None
        try:
            answer = await check(started)
        except CheckFailed as exc:
            logger.warning(
                "%s may have landed (%s) and checking failed (%s): the outcome is unknown, it "
                "is sent again if attempts remain (a duplicate is better than silence)",
                where, self._describe(failure, secrets), exc,
            )
            return None
        if answer is None:
            logger.info("%s did not land (checked after: %s)", where,
                        self._describe(failure, secrets))
            return None
        logger.warning("%s had landed although %s; not sent again", where,
                       self._describe(failure, secrets))
        return answer

    async def _attempt(
        self,
        session: aiohttp.ClientSession,
        method: str,
        url: str,
        query: dict[str, str],
        json: dict[str, Any] | None,
    ) -> dict[str, Any] | AttemptFailure:
        """One HTTP exchange: Graph's answer on success, else what went wrong."""
        try:
            async with session.request(method, url, params=query, json=json) as response:
                status = response.status
                try:
                    answer = await response.json(content_type=None)
                except ValueError:
                    answer = None
        except asyncio.TimeoutError:
            return AttemptFailure(None, None, None, None,
                            f"timed out: no answer within {self.timeout_seconds:g} s", True,
                            ambiguous=True)
        except aiohttp.ClientConnectorError as exc:
            # The request never left: nothing can have happened on Graph's side.
            return AttemptFailure(None, None, None, None,
                            f"connection failed ({type(exc).__name__}): {str(exc) or 'no detail'}",
                            True)
        except aiohttp.ClientError as exc:
            return AttemptFailure(None, None, None, None,
                            f"connection lost ({type(exc).__name__}): {str(exc) or 'no detail'}",
                            True, ambiguous=True)
        error = answer.get("error") if isinstance(answer, dict) else None
        if 200 <= status < 300 and isinstance(answer, dict) and not error:
            return answer
        if not isinstance(error, dict):
            error = {}
        code = as_int(error.get("code"))
        not_processed = status == 429 or code in RATE_LIMIT_CODES
        retryable = status >= 500 or not_processed
        detail = str(error.get("message") or f"HTTP {status} without a Graph error")
        error_type = error.get("type")
        return AttemptFailure(status, code, as_int(error.get("error_subcode")),
                        str(error_type) if error_type else None, detail, retryable,
                        ambiguous=status >= 500 and not not_processed)
