"""The sandbox on HTTP: the twisted.web resource and site that serve the API and control calls."""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Callable

from twisted.python.failure import Failure
from twisted.web import http
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request, Site

from sandbox.answers import Answer, error_envelope, json_answer
from sandbox.api import SandboxApi
from sandbox.config import SandboxConfig
from sandbox.control import ControlEndpoints
from sandbox.endpoints import API_PATHS
from sandbox.odd_values import OddValuesApi
from sandbox.reactor_typing import AbortableTransport, SandboxClock

logger = logging.getLogger(__name__)

TOKEN_IN_URI = re.compile(r"(token=)[^&]*", re.IGNORECASE)


def mask_token(uri: str) -> str:
    return TOKEN_IN_URI.sub(r"\1***", uri)


def first_values(request: Request) -> dict[str, str]:
    args: dict[bytes, list[bytes]] = request.args or {}
    return {
        name.decode("utf-8", "replace"): values[0].decode("utf-8", "replace")
        for name, values in args.items()
        if values
    }


def request_body(request: Request) -> bytes:
    content = request.content
    return b"" if content is None else content.read()


def send_answer(request: Request, answer: Answer) -> None:
    request.setResponseCode(answer.http_status)
    request.setHeader(b"content-type", answer.content_type)
    if answer.location is not None:
        request.setHeader(b"location", answer.location.encode("utf-8"))
    announced = answer.announced_length or len(answer.body)
    request.setHeader(b"content-length", b"%d" % announced)
    request.write(answer.body)
    if answer.announced_length is not None:
        drop_connection(request)
        return
    request.finish()


def drop_connection(request: Request) -> None:
    """Abort the TCP connection under *request* (the data-loss fault)."""
    transport = request.channel.transport
    # The sandbox listens on TCP, so a live transport is an ITCPTransport, which
    # Twisted types as the plain ITransport; None means the connection is gone already.
    if isinstance(transport, AbortableTransport):
        transport.abortConnection()


class SandboxResource(Resource):
    """Routes every path itself: API calls (with latency) and control calls."""

    isLeaf = True

    def __init__(self, api: SandboxApi, reactor: SandboxClock) -> None:
        super().__init__()
        self.api = api
        self.control = ControlEndpoints(api)
        self.reactor = reactor
        self._latency_rng = random.Random(api.config.seed)

    def render_GET(self, request: Request) -> int:
        return self._dispatch(request, "GET")

    def render_POST(self, request: Request) -> int:
        return self._dispatch(request, "POST")

    def _dispatch(self, request: Request, method: str) -> int:
        path = request.path.decode("utf-8", "replace")
        if path in API_PATHS and method == "GET":
            return self._answer_api_later(request, path)
        answer = self._safely(
            lambda: self.control.answer(method, path, first_values(request), request_body(request)),
            path,
        )
        send_answer(request, answer)
        return NOT_DONE_YET

    def _answer_api_later(self, request: Request, path: str) -> int:
        config = self.api.config
        delay = config.latency + self._latency_rng.uniform(0, config.latency_jitter)
        params = first_values(request)
        delayed = self.reactor.callLater(
            delay,
            lambda: send_answer(request, self._safely(lambda: self.api.answer(path, params), path)),
        )

        def cancel_answer(_failure: Failure) -> None:
            # A client that gives up during the delay must not get a write on a dead connection.
            if delayed.active():
                delayed.cancel()

        request.notifyFinish().addErrback(cancel_answer)
        return NOT_DONE_YET

    @staticmethod
    def _safely(produce: Callable[[], Answer], path: str) -> Answer:
        try:
            return produce()
        except Exception:
            logger.exception("sandbox failed to answer %s", path)
            return json_answer(error_envelope(500), 500)


class QuietSite(Site):
    """A Site whose access log never carries the token."""

    noisy = False

    def log(self, request: http.Request) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            uri = mask_token(request.uri.decode("utf-8", "replace"))
            logger.debug(
                "%s %s -> %d", request.method.decode("ascii", "replace"), uri, request.code
            )


def build_site(config: SandboxConfig, reactor: SandboxClock) -> Site:
    api = OddValuesApi(config, clock=reactor.seconds)
    return QuietSite(SandboxResource(api, reactor))
