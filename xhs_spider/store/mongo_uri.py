"""MongoDB URIs: the database one names, checked before anything connects,
and the URI as it may be shown, its passwords masked."""

from __future__ import annotations

import re

from pymongo.errors import ConfigurationError
# What parse_uri checks, without the DNS lookups of mongodb+srv:// (pymongo
# is pinned: a rename shows in the tests of the store).
from pymongo.uri_parser_shared import _validate_uri

_PASSWORD_OPTION = re.compile(r"((?:^|&)[^=&]*password[^=&]*=)[^&]*", re.IGNORECASE)
_PASSWORD_OPTION_VALUE = re.compile(r"password[^=&]*=([^&]+)", re.IGNORECASE)


def database_name(uri: str) -> str:
    """The database that a ``mongodb://`` URI names in its path.

    ``ValueError``, with the password masked, if pymongo cannot read the URI
    (a port out of range, an unescaped ``@``, a space in the database name)
    or it names no database: found before anything connects.
    """
    try:
        parsed = _validate_uri(uri, warn=False)
    except (ConfigurationError, ValueError, TypeError) as exc:  # InvalidURI included
        raise ValueError(
            "MongoDB URI %s is malformed: %s" % (masked_uri(uri), _uri_problem(uri, exc))
        ) from None
    if not parsed["database"]:
        raise ValueError(
            "MongoDB URI %s names no database; add one to its path, e.g. mongodb://host:27017/xhs"
            % masked_uri(uri)
        )
    return str(parsed["database"])


def _credentials(uri: str) -> tuple[str, str, str]:
    """(``scheme://``, user info, the rest): the user info runs to the *last*
    ``@``, so that a password holding an unescaped ``/`` or ``@`` is still
    taken for one, and masked, rather than for a host or a database."""
    head, separator, rest = uri.partition("://")
    userinfo, at, hosts = rest.rpartition("@")
    return head + separator, userinfo if at else "", hosts if at else rest


def _uri_problem(uri: str, exc: Exception) -> str:
    """pymongo's complaint about *uri*, in words that never quote a password."""
    _, userinfo, _ = _credentials(uri)
    user, _, password = userinfo.partition(":")
    message = str(exc)
    escape = ("a user name or password holding @ : / ? # or % must be percent-escaped "
              "(urllib.parse.quote_plus)")
    if re.search(r"[@/?#]", user) or re.search(r"[@/?#:]", password):
        return escape
    if message.startswith("Port"):
        return "a port must be a whole number up to 65535"
    if "must be escaped" in message:
        return escape
    if message.startswith("Bad database name"):
        return message + ': a database name holds no space, /, \\, ., " or $'
    for secret in [password, *_PASSWORD_OPTION_VALUE.findall(uri)]:
        if secret:
            message = message.replace(secret, "***")
    return message


def masked_uri(uri: str) -> str:
    """``uri`` with its password, and any password option, replaced by ***."""
    head, userinfo, rest = _credentials(uri)
    if ":" in userinfo:
        userinfo = userinfo.split(":", 1)[0] + ":***"
    hosts_and_path, question_mark, query = rest.partition("?")
    query = _PASSWORD_OPTION.sub(r"\1***", query)
    return head + (userinfo + "@" if userinfo else "") + hosts_and_path + question_mark + query
