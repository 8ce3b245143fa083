"""The one TLS context of the process, trusting what httpx trusts, loaded on the first handshake.

httpx builds a verifying context for every client and transport it makes (unless given one), and
loading the trusted certificates is the expensive part: about 20 ms each time. The package's
clients, workers and widgets all pass :func:`ssl_context` instead. It is a client context as
``httpx.create_ssl_context()`` makes it (certificates required, host names checked), but it
reads its certificates only when a TLS connection is first set up: a kernel that only talks to
a mock on ``http://127.0.0.1`` never pays for them.

What it trusts is what httpx trusts by default, decided at that first handshake: the file named
by ``SSL_CERT_FILE``, else the directory named by ``SSL_CERT_DIR``, else certifi's bundle.
"""

from __future__ import annotations

import functools
import os
import ssl
import sys
import threading
from typing import Any

__all__ = ["ssl_context", "trust_locations", "DeferredTrustContext"]


def trust_locations() -> tuple[str | None, str | None]:
    """(cafile, capath) as ``httpx.create_ssl_context(verify=True, trust_env=True)`` picks them."""
    if os.environ.get("SSL_CERT_FILE"):
        return os.environ["SSL_CERT_FILE"], None
    if os.environ.get("SSL_CERT_DIR"):
        return None, os.environ["SSL_CERT_DIR"]
    import certifi

    return certifi.where(), None


class DeferredTrustContext(ssl.SSLContext):
    """A client TLS context that loads its trusted certificates before its first handshake.

    Everything that sets up TLS with a context goes through :meth:`wrap_socket` (blocking
    sockets) or :meth:`wrap_bio` (asyncio, anyio); both load the certificates first, once.
    """

    _trust_lock: threading.Lock
    _trust_loaded: bool

    def load_trust(self) -> None:
        """Load the trusted certificates now (the first handshake does it otherwise)."""
        if self._trust_loaded:
            return
        with self._trust_lock:
            if not self._trust_loaded:
                cafile, capath = trust_locations()
                self.load_verify_locations(cafile, capath)
                self._trust_loaded = True

    def wrap_socket(self, *args: Any, **kwargs: Any) -> Any:
        self.load_trust()
        return super().wrap_socket(*args, **kwargs)

    def wrap_bio(self, *args: Any, **kwargs: Any) -> Any:
        self.load_trust()
        return super().wrap_bio(*args, **kwargs)

    # What a look at the context shows is what a handshake would use.
    def get_ca_certs(self, binary_form: bool = False) -> Any:
        self.load_trust()
        return super().get_ca_certs(binary_form)

    def cert_store_stats(self) -> Any:
        self.load_trust()
        return super().cert_store_stats()


def new_context() -> DeferredTrustContext:
    """A fresh context set up as ``ssl.create_default_context()`` sets one up for a client."""
    context = DeferredTrustContext(ssl.PROTOCOL_TLS_CLIENT)
    context._trust_lock = threading.Lock()
    context._trust_loaded = False
    # PROTOCOL_TLS_CLIENT already requires certificates and checks host names; the rest is
    # what create_default_context() adds on this Python (tests/client/test_tls.py compares).
    context.verify_mode = ssl.CERT_REQUIRED
    context.check_hostname = True
    if sys.version_info >= (3, 13):
        context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN | ssl.VERIFY_X509_STRICT
    keylog = os.environ.get("SSLKEYLOGFILE")
    if keylog and not sys.flags.ignore_environment and hasattr(context, "keylog_filename"):
        context.keylog_filename = keylog
    return context


@functools.lru_cache(maxsize=1)
def ssl_context() -> DeferredTrustContext:
    """The process's one TLS context (see the module docstring); pass it as httpx's ``verify``."""
    return new_context()
