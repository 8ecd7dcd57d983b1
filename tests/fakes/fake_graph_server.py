"""Serving the fake Graph API on loopback: in a running event loop or in a background thread."""

from __future__ import annotations

import asyncio
import logging
import threading

from aiohttp import web

from tests.fakes.fake_graph import FakeGraphApi

logger = logging.getLogger(__name__)


class FakeGraphServer:
    """Runs a :class:`FakeGraphApi` on a loopback port.

    In async code: ``async with FakeGraphServer(api) as base_url: ...``. From synchronous code
    or for other processes: ``with FakeGraphServer(api) as server: server.base_url`` runs it
    in a background thread with its own event loop.

    Args:
        api: the fake to serve (a new one when None).
        host: the address to bind, loopback by default.
        port: the port; 0 picks a free one.
    """

    def __init__(
        self, api: FakeGraphApi | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.api = api or FakeGraphApi()
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:{port}``, to give to the GraphClient (no version, no slash)."""
        if not self.port:
            raise RuntimeError("the fake Graph API is not running")
        return f"http://{self.host}:{self.port}"

    async def start(self) -> str:
        """Starts serving in the running event loop; returns the base URL."""
        if self._runner is not None:
            raise RuntimeError("already running")
        runner = web.AppRunner(self.api.app(), shutdown_timeout=2.0, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        self.api.base_url = self.base_url
        logger.info("Fake Graph API listening on %s", self.base_url)
        return self.base_url

    async def stop(self) -> None:
        """Stops serving (waits up to 2 s for answers still being delayed)."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await self.api.drain(2.0)
            await runner.cleanup()

    async def __aenter__(self) -> str:
        """Starts the server; the base URL."""
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        """Stops the server."""
        await self.stop()

    def start_in_thread(self, timeout: float = 10.0) -> str:
        """Starts serving in a background thread with its own loop; returns the base URL."""
        if self._thread is not None:
            raise RuntimeError("already running")
        started = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:  # noqa: BLE001 - reported to the starting thread
                failure.append(exc)
                started.set()
                loop.close()
                return
            started.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self.stop())
                loop.close()

        self._thread = threading.Thread(target=run, name="fake-graph-api", daemon=True)
        self._thread.start()
        if not started.wait(timeout):
            raise RuntimeError("the fake Graph API did not start in time")
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]
        return self.base_url

    def stop_thread(self, timeout: float = 10.0) -> None:
        """Stops a server started by :meth:`start_in_thread`."""
        thread, loop = self._thread, self._loop
        self._thread = self._loop = None
        if thread is None or loop is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)

    def __enter__(self) -> FakeGraphServer:
        """Starts the server in a background thread."""
        self.start_in_thread()
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Stops the background server."""
        self.stop_thread()
