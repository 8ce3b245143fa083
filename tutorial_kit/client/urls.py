"""Queue URLs: ``<rootUrl>/api/queue/v1/<route>``, each route parameter one encoded segment."""

from __future__ import annotations

from typing import Any, Mapping
from urllib.parse import quote, urlencode

from tutorial_kit.api import API_VERSION, SERVICE_NAME, Entry

from .errors import TaskclusterError


def _segment(value: Any, entry: Entry, arg: str) -> str:
    # bool is an int, but "True" in a URL is never what a learner meant
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TaskclusterError(
            f"{entry.name}(): {arg} must be a string or an integer, got {type(value).__name__} "
            f"{value!r}", code="InvalidArgument", method=entry.name)
    return quote(str(value), safe="")


def query_string(query: Mapping[str, Any] | None) -> str:
    """``urlencode`` of the non-None options, booleans as ``true``/``false``."""
    if not query:
        return ""
    pairs = [(k, ("true" if v else "false") if isinstance(v, bool) else v)
             for k, v in query.items() if v is not None]
    return urlencode(pairs)


def api_url(root_url: str, entry: Entry, args: tuple[Any, ...],
            query: Mapping[str, Any] | None = None, *, service: str = SERVICE_NAME) -> str:
    """The URL an API call of ``entry`` with route ``args`` goes to."""
    if len(args) != len(entry.args):
        raise TaskclusterError(
            f"{entry.name}() takes {len(entry.args)} route argument(s) "
            f"({', '.join(entry.args) or 'none'}), got {len(args)}",
            code="InvalidArgument", method=entry.name)
    path = entry.route
    for arg, value in zip(entry.args, args):
        path = path.replace(f"<{arg}>", _segment(value, entry, arg), 1)
    url = f"{root_url}/api/{service}/{API_VERSION}/{path.lstrip('/')}"
    qs = query_string(query)
    return f"{url}?{qs}" if qs else url


def with_query_param(url: str, name: str, value: str) -> str:
    """``url`` with one more query parameter at the end."""
    return f"{url}{'&' if '?' in url else '?'}{name}={value}"
