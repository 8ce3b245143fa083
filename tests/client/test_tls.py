"""The process's one TLS context (``tutorial_kit.client.tls``): shared, loaded on first use, and
verifying exactly as httpx's default context does.

The https tests talk to a real TLS server on loopback with a self-signed certificate (made with
the ``openssl`` command; skipped without it). The clients run in a fresh interpreter each, since
what the context trusts is decided once per process, at its first handshake.
"""

from __future__ import annotations

import http.server
import json
import os
import pathlib
import shutil
import ssl
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator

import httpx
import pytest

from tutorial_kit.client.tls import new_context, ssl_context


def test_the_context_verifies_as_httpx_default_context_does(monkeypatch) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    ours, httpx_own = new_context(), httpx.create_ssl_context()
    assert ours.verify_mode == ssl.CERT_REQUIRED and ours.check_hostname is True
    for setting in ("protocol", "verify_mode", "check_hostname", "options", "verify_flags",
                    "minimum_version", "maximum_version"):
        assert getattr(ours, setting) == getattr(httpx_own, setting), setting
    # the same trusted certificates (certifi's bundle), once loaded
    assert ours.cert_store_stats() == httpx_own.cert_store_stats()
    assert ours.cert_store_stats()["x509_ca"] > 0


def test_one_context_per_process_its_certificates_read_on_first_use() -> None:
    assert ssl_context() is ssl_context()
    fresh = new_context()
    assert fresh._trust_loaded is False
    fresh.load_trust()
    assert fresh._trust_loaded is True


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory) -> Iterator[tuple[str, pathlib.Path]]:
    """An https server on 127.0.0.1 with a fresh self-signed certificate for ``localhost``:
    (its root URL, the certificate file)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("no openssl command to make a self-signed certificate with")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj",
                    "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            body = json.dumps({"path": self.path}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    # a refused handshake fails in the server's accept: http.server drops it (an OSError)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://localhost:{server.server_address[1]}", cert
    finally:
        server.shutdown()
        server.server_close()


# Three clients of the package, two sync and one async (anyio's TLS goes through wrap_bio, the
# blocking sockets through wrap_socket), each counted as it sets up TLS with the shared context.
_CLIENTS = """
import asyncio, json, sys
import tutorial_kit
from tutorial_kit.client.tls import ssl_context
from tutorial_kit.widgets._client import get_json

root_url = sys.argv[1]
context = ssl_context()
handshakes = []
for name in ("wrap_socket", "wrap_bio"):
    def counted(*args, _real=getattr(context, name), _name=name, **kwargs):
        handshakes.append(_name)
        return _real(*args, **kwargs)
    setattr(context, name, counted)

out = {"loaded_before": context._trust_loaded}
try:
    queue = tutorial_kit.Queue({"rootUrl": root_url, "maxRetries": 0})
    out["queue"] = queue.ping()
    out["widgets"] = get_json(root_url + "/schemas/x.json")
    async def ping():
        async with tutorial_kit.AsyncQueue({"rootUrl": root_url, "maxRetries": 0}) as aqueue:
            return await aqueue.ping()
    out["async"] = asyncio.run(ping())
except Exception as error:
    out["error"] = f"{type(error).__name__}: {error}"
out["handshakes"] = handshakes
out["loaded_after"] = context._trust_loaded
print(json.dumps(out))
"""


def _run_clients(root_url: str, **env: str) -> dict:
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("SSL_CERT_FILE", "SSL_CERT_DIR")}
    environment.update(env)
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(_CLIENTS), root_url],
                          capture_output=True, text=True, env=environment, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_an_unknown_certificate_is_refused(tls_server) -> None:
    root_url, _cert = tls_server
    out = _run_clients(root_url)
    assert "CERTIFICATE_VERIFY_FAILED" in out["error"], out
    assert "queue" not in out
    assert out["handshakes"] == ["wrap_socket"]  # the first client's, with the shared context


def test_a_trusted_certificate_is_accepted_by_every_client_on_one_context(tls_server) -> None:
    root_url, cert = tls_server
    out = _run_clients(root_url, SSL_CERT_FILE=str(cert))  # as httpx honours it
    assert "error" not in out, out
    assert out["queue"] == {"path": "/api/queue/v1/ping"}
    assert out["widgets"] == {"path": "/schemas/x.json"}
    assert out["async"] == {"path": "/api/queue/v1/ping"}
    # the Queue's and the widgets' pooled clients (two connections) and the AsyncQueue's all
    # set up TLS with the one context, which read its certificates at the first of them
    assert out["handshakes"] == ["wrap_socket", "wrap_socket", "wrap_bio"]
    assert out["loaded_before"] is False and out["loaded_after"] is True
