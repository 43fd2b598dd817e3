"""The one rule for links staff write into the catalog and the FAQ.

A link is an absolute ``http`` or ``https`` URL with a real host name (letters, digits, hyphens, dots;
international names via IDNA), an optional valid port and no white space. Where residents type personal
data (the catalog's online forms) it must be ``https``; in the FAQ an ``http`` link is allowed with a
warning. Both validators report the same :class:`LinkProblem` codes.
"""

from __future__ import annotations

import re
from enum import Enum
from urllib.parse import urlsplit

_HOST = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9\-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9\-]{0,61}[a-z0-9])?)*$"
)


class LinkProblem(str, Enum):
    """Why a text is not a usable link."""

    SPACE = "space"  # white space inside
    MALFORMED = "malformed"  # cannot be parsed (bad port, brackets…)
    SCHEME = "scheme"  # not http:// or https://
    HOST = "host"  # no host, or not a valid host name
    NOT_HTTPS = "not_https"  # http:// where https:// is required


def link_problem(url: str, *, https_only: bool = False) -> LinkProblem | None:
    """What is wrong with a link, or None when it is usable (see the module docstring)."""
    if any(c.isspace() for c in url):
        return LinkProblem.SPACE
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return LinkProblem.MALFORMED
    if parts.scheme not in ("http", "https"):
        return LinkProblem.SCHEME
    try:
        ascii_host = host if host.isascii() else host.encode("idna").decode("ascii")
    except UnicodeError:
        ascii_host = ""
    if "." not in ascii_host or not _HOST.match(ascii_host):
        return LinkProblem.HOST
    if https_only and parts.scheme != "https":
        return LinkProblem.NOT_HTTPS
    return None
