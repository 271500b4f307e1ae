"""HTTP sessions for the ``orgreg`` command and the ``registry`` directive.

A :class:`requests.Session` whose requests name this version in their
User-Agent, with urllib3's :class:`~urllib3.util.retry.Retry` mounted on it:
connection errors, read errors and 408/425/429/5xx answers are retried (as the
caller's policy says: :func:`retry_policy`) with
exponential backoff, and a ``Retry-After`` is honoured (up to a minute).
"""

from __future__ import annotations

import ipaddress
import random
from urllib.parse import urlsplit

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from .._version import __version__

#: answers worth asking again: timeouts, rate limits, unavailable servers
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
#: the longest ``Retry-After`` waited for, in seconds
MAX_RETRY_AFTER = 60.0


def user_agent(purpose: str) -> str:
    """The User-Agent of requests made for *purpose*."""
    return f"orgreg-sphinx/{__version__} ({purpose})"


class Backoff(Retry):
    """:class:`Retry` whose first retry already waits ``backoff_factor`` seconds
    (urllib3's waits none), doubled after each retry, plus up to a quarter more at
    random; a ``Retry-After`` is honoured up to :data:`MAX_RETRY_AFTER`."""

    def get_backoff_time(self) -> float:
        """The delay before the next retry."""
        if not self.history:
            return 0.0
        delay = float(self.backoff_factor) * 2.0 ** (len(self.history) - 1)
        delay += random.uniform(0, delay / 4)
        return min(delay, float(self.backoff_max))

    def get_retry_after(self, response: BaseHTTPResponse) -> float | None:
        """The server's ``Retry-After`` in seconds, at most :data:`MAX_RETRY_AFTER`
        (a value that is neither seconds nor a date is ignored, as browsers do)."""
        try:
            seconds = super().get_retry_after(response)
        except urllib3.exceptions.InvalidHeader:
            return None
        return None if seconds is None else min(seconds, MAX_RETRY_AFTER)


def retry_policy(
    retries: int,
    first_delay: float,
    *,
    reads: bool = True,
    connects: bool = True,
    retry_after: bool = True,
) -> Backoff:
    """Up to *retries* retries of HEAD and GET, the first after *first_delay* s.

    *reads* (timeouts and broken answers after the request was sent, TLS errors
    included) and *connects* switch those kinds off; answers with a status in
    :data:`RETRY_STATUSES` are retried, the last one is returned when retries
    run out. *retry_after*: wait as long as the server's ``Retry-After`` says.
    """
    return Backoff(
        total=retries,
        connect=retries if connects else 0,
        read=retries if reads else 0,
        status=retries,
        # TLS errors on the way (urllib3 counts them as "other") are read errors
        other=retries if reads else 0,
        backoff_factor=first_delay,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"HEAD", "GET"}),
        respect_retry_after_header=retry_after,
        raise_on_status=False,
    )


def session(purpose: str, retry: Retry, pool_size: int = 10) -> requests.Session:
    """A session with *retry* on http:// and https:// and room for *pool_size*
    connections to one host at once."""
    http = requests.Session()
    http.headers["User-Agent"] = user_agent(purpose)
    # pools for many hosts at once: a pool evicted while a thread uses it fails
    adapter = HTTPAdapter(
        max_retries=retry, pool_connections=max(32, pool_size), pool_maxsize=max(1, pool_size)
    )
    http.mount("http://", adapter)
    http.mount("https://", adapter)
    return http


def _causes(err: BaseException) -> list[BaseException]:
    """*err* and what it wraps (urllib3's MaxRetryError reasons, requests'
    wrapped exceptions, ``raise ... from``), outermost first."""
    chain: list[BaseException] = []
    current: BaseException | None = err
    while current is not None and not any(current is seen for seen in chain):
        chain.append(current)
        if isinstance(current, urllib3.exceptions.MaxRetryError) and current.reason:
            current = current.reason
        elif current.args and isinstance(current.args[0], BaseException):
            current = current.args[0]
        else:
            current = current.__cause__ or current.__context__
    return chain


def is_timeout(err: BaseException) -> bool:
    """True when *err* (from requests or urllib3) means no answer came in time."""
    for cause in _causes(err):
        if isinstance(cause, urllib3.exceptions.NewConnectionError):
            return False  # urllib3 derives it from ConnectTimeoutError, yet it is none
        if isinstance(cause, requests.Timeout | urllib3.exceptions.TimeoutError | TimeoutError):
            return True
    return False


def is_connect_error(err: BaseException) -> bool:
    """True when *err* means no connection was made (refused, unknown host)."""
    return any(isinstance(c, urllib3.exceptions.NewConnectionError) for c in _causes(err))


def reason(err: BaseException) -> str:
    """What went wrong, from the innermost cause (``Connection refused``), without
    the wrappers requests and urllib3 put around it."""
    chain = _causes(err)
    for cause in reversed(chain):
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror
    return str(chain[-1]) or type(chain[-1]).__name__


def is_loopback(host: str) -> bool:
    """True for ``localhost`` (and its sub-domains) and addresses that reach this
    machine: loopback (127.0.0.0/8, ::1, also IPv4-mapped) and unspecified
    (0.0.0.0, ::)."""
    host = host.lower().strip("[]").rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback or address.is_unspecified


def is_loopback_url(url: str) -> bool:
    """True when *url*'s host is a loopback address (:func:`is_loopback`)."""
    try:
        return is_loopback(urlsplit(url).hostname or "")
    except ValueError:
        return False
