"""What the sandbox uses of the Twisted reactor, written as typing Protocols.

Twisted declares the reactor's abilities as zope interfaces (``IReactorTime``,
``IReactorTCP``, ``ITCPTransport``). Their methods have no ``self``, so mypy
cannot check calls through them without the mypy-zope plugin, which this
project does not use. These Protocols describe the same methods the way mypy
understands; Twisted's reactors, ``twisted.internet.task.Clock`` and TCP
transports match them structurally.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, cast, runtime_checkable

from twisted.internet.address import IPv4Address
from twisted.web.server import Site


class DelayedCall(Protocol):
    def active(self) -> bool: ...

    def cancel(self) -> None: ...


class SandboxClock(Protocol):
    """The part of ``IReactorTime`` that the HTTP resource uses."""

    def seconds(self) -> float: ...

    def callLater(
        self, delay: float, callable: Callable[..., object], *args: object, **kw: object
    ) -> DelayedCall: ...


class ListeningPort(Protocol):
    # Listening on an IPv4 address, as the sandbox does, gives an IPv4 host address.
    def getHost(self) -> IPv4Address: ...


class SandboxReactor(SandboxClock, Protocol):
    """The parts of the reactor that the command line uses."""

    running: bool

    def listenTCP(
        self, port: int, factory: Site, backlog: int = 50, interface: str = ""
    ) -> ListeningPort: ...

    def run(self) -> None: ...

    def stop(self) -> None: ...

    def callFromThread(
        self, callable: Callable[..., object], *args: object, **kw: object
    ) -> None: ...


@runtime_checkable
class AbortableTransport(Protocol):
    """The part of ``ITCPTransport`` that drops a connection at once."""

    def abortConnection(self) -> None: ...


def installed_reactor() -> SandboxReactor:
    """The global reactor; importing it installs the default one if none is installed yet."""
    from twisted.internet import reactor

    # Typed as a zope interface that mypy cannot call through (see the module docstring).
    return cast(SandboxReactor, reactor)
