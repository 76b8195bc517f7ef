"""Command line: python -m sandbox --port 0 [options].

Prints the base URL as the first stdout line, then serves on 127.0.0.1 until
SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from typing import Any, cast

from sandbox.comment_shapes import COMMENT_SHAPES
from sandbox.config import ConfigError, SandboxConfig
from sandbox.discovery_shapes import DISCOVERY_SHAPES, MIXED
from sandbox.faults import ODD_VALUE_KINDS
from sandbox.reactor_typing import SandboxReactor, installed_reactor
from sandbox.server import build_site

TOKEN_ENV = "XHS_SANDBOX_TOKEN"
DEFAULT_TOKEN = "sandbox-token"
LOOPBACK = "127.0.0.1"

logger = logging.getLogger("sandbox")


def parse_fault_shares(text: str) -> dict[str, float]:
    """Parse ``301=0.2,500=0.1`` into {"301": 0.2, "500": 0.1}."""
    shares: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        code, separator, share = item.partition("=")
        if not separator:
            raise argparse.ArgumentTypeError("expected CODE=SHARE, got %r" % item)
        try:
            shares[str(int(code))] = float(share)
        except ValueError as error:
            raise argparse.ArgumentTypeError("expected CODE=SHARE, got %r" % item) from error
    return shares


def optional_number(text: str) -> float | None:
    return None if text.lower() in ("", "none", "off") else float(text)


def optional_count(text: str) -> int | None:
    return None if text.lower() in ("", "none", "off") else int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox",
                                     description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0 = any free port)")
    parser.add_argument("--token", default=None, help="accepted token (default: $%s or %s)" % (TOKEN_ENV, DEFAULT_TOKEN))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pages", type=int, default=8, help="pages each channel has")
    parser.add_argument("--faults", type=parse_fault_shares, default={}, help="e.g. 301=0.2,500=0.1")
    parser.add_argument("--malformed-rate", type=float, default=0.0)
    parser.add_argument("--truncated-rate", type=float, default=0.0)
    parser.add_argument("--html-error-rate", type=float, default=0.0)
    parser.add_argument("--redirect-rate", type=float, default=0.0, help="HTTP 302 to the same URL")
    parser.add_argument("--dataloss-rate", type=float, default=0.0, help="connection dropped mid-body")
    parser.add_argument("--max-consecutive-faults", type=int, default=2)
    parser.add_argument("--quota", type=optional_count, default=None, help="billed calls allowed (default unlimited)")
    parser.add_argument("--rate-limit", type=optional_number, default=None, help="API requests per second")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every API answer")
    parser.add_argument("--latency-jitter", type=float, default=0.0, help="uniform extra seconds")
    parser.add_argument("--unavailable-rate", type=float, default=0.03, help="share of note ids answering 201")
    parser.add_argument("--note-codes", type=parse_fault_shares, default={},
                        help="codes a share of note ids answer to every detail call, e.g. 400=0.1")
    parser.add_argument("--odd-value-rate", type=float, default=0.0,
                        help="share of note cards and details carrying one odd value")
    parser.add_argument("--odd-values", default=",".join(ODD_VALUE_KINDS),
                        help="kinds of odd values, comma-separated (default: all)")
    parser.add_argument("--retired-paths", default="",
                        help="API paths that answer code 301 to every call, comma-separated")
    parser.add_argument("--discovery-shape", default=MIXED, choices=DISCOVERY_SHAPES,
                        help="shape of the discovery endpoints' data (default: mixed, drawn per endpoint and page)")
    parser.add_argument("--discovery-stuck-page", type=optional_count, default=None,
                        help="from this page on, discovery lists repeat the page before (same cursor)")
    parser.add_argument("--comment-shape", default=MIXED, choices=COMMENT_SHAPES,
                        help="shape of the comment endpoints' data (default: mixed, drawn per endpoint and page)")
    parser.add_argument("--comment-stuck-page", type=optional_count, default=None,
                        help="from this page on, comment and reply pages repeat the page before (same cursor)")
    parser.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    return parser


def runtime_settings(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "faults": args.faults,
        "malformed_rate": args.malformed_rate,
        "truncated_rate": args.truncated_rate,
        "html_error_rate": args.html_error_rate,
        "redirect_rate": args.redirect_rate,
        "dataloss_rate": args.dataloss_rate,
        "max_consecutive_faults": args.max_consecutive_faults,
        "quota": args.quota,
        "rate_limit": args.rate_limit,
        "latency": args.latency,
        "latency_jitter": args.latency_jitter,
        "unavailable_rate": args.unavailable_rate,
        "note_codes": args.note_codes,
        "odd_value_rate": args.odd_value_rate,
        "odd_values": args.odd_values,
        "retired_paths": args.retired_paths,
        "discovery_shape": args.discovery_shape,
        "discovery_stuck_page": args.discovery_stuck_page,
        "comment_shape": args.comment_shape,
        "comment_stuck_page": args.comment_stuck_page,
    }


def build_config(args: argparse.Namespace) -> SandboxConfig:
    token = args.token or os.environ.get(TOKEN_ENV) or DEFAULT_TOKEN
    config = SandboxConfig(token=token, seed=args.seed, pages=args.pages)
    config.apply_update(runtime_settings(args))
    return config


def configure_logging(level: str) -> None:
    from twisted.logger import ILogObserver, STDLibLogObserver, globalLogBeginner

    logging.basicConfig(stream=sys.stderr, level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # STDLibLogObserver implements ILogObserver, which mypy cannot see without the mypy-zope plugin.
    observer = cast(ILogObserver, STDLibLogObserver(name="twisted"))
    globalLogBeginner.beginLoggingTo([observer], redirectStandardIO=False)


def stop_on_interrupt(reactor: SandboxReactor) -> None:
    """Stop on SIGINT even when the parent started us with SIGINT ignored.

    Twisted only handles SIGINT when it still has Python's default handler,
    which is not the case for background jobs of a non-interactive shell.
    """

    def stop(_signal_number: int, _frame: object) -> None:
        logger.info("received SIGINT, shutting down")
        reactor.callFromThread(stop_reactor, reactor)

    signal.signal(signal.SIGINT, stop)


def stop_reactor(reactor: SandboxReactor) -> None:
    if reactor.running:
        reactor.stop()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = build_config(args)
    except ConfigError as error:
        parser.error(str(error))
    configure_logging(args.log_level)

    reactor = installed_reactor()
    port = reactor.listenTCP(args.port, build_site(config, reactor), interface=LOOPBACK)
    url = "http://%s:%d" % (LOOPBACK, port.getHost().port)
    sys.stdout.write(url + "\n")
    sys.stdout.flush()
    logger.info("sandbox serving on %s (seed=%d, pages=%d)", url, config.seed, config.pages)
    stop_on_interrupt(reactor)
    reactor.run()
    logger.info("sandbox stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
