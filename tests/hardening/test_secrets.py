"""No secret (access token, Hawk MAC, bewit, temporary credentials) appears in the server's
logs, its request log, or its error answers.

The server runs from the CLI, logging at INFO to stderr, and is driven through signed calls,
forged calls, signed URLs, claimWork's temporary credentials and an injected 500. Every secret
that went over the wire is collected, and then looked for everywhere the mock writes.
"""

from __future__ import annotations

import base64
import json
import re
import time
from urllib.parse import quote

from tutorial_kit.client.hawk import bewit
from tutorial_kit.client.options import Credentials

from .support import (Answer, ServedQueue, Wire, new_task_id, task_definition, unique_queue,
                      when)

TOKEN = "SeCrEt-" + "t" * 37


def _macs(header: str) -> list[str]:
    return re.findall(r'mac="([^"]+)"', header)


def test_no_secret_in_logs_request_log_or_errors() -> None:
    served = ServedQueue("--no-workers", "--access-token", TOKEN, "--claim-wait", "0.1")
    creds = served.credentials
    wire = Wire.for_root(served.root_url)
    secrets: set[str] = {TOKEN}
    answers: list[Answer] = []
    try:
        queue, task_id = unique_queue(), new_task_id()

        def signed(method: str, route: str, body=None, creds_=creds, ext: str = "") -> Answer:
            target = "/api/queue/v1" + route
            data = json.dumps(body).encode() if body is not None else b""
            ctype = "application/json" if body is not None else ""
            header = wire.sign(creds_, method, target, data, ctype, ext=ext)
            secrets.update(_macs(header))
            answer = wire.send(method, target, body=data if body is not None else None,
                               content_type=ctype or None, authorization=header)
            answers.append(answer)
            return answer

        assert signed("PUT", f"/task/{task_id}", task_definition(queue)).status == 200
        # forged: wrong key, tampered body, authorizedScopes beyond the client
        forged = {"clientId": creds["clientId"], "accessToken": "W" * 44}
        assert signed("PUT", f"/task/{new_task_id()}", task_definition(queue),
                      creds_=forged).status == 401
        ext = base64.urlsafe_b64encode(json.dumps(
            {"authorizedScopes": ["queue:*", "auth:*"]}).encode()).decode()
        signed("GET", f"/task/{task_id}/status", ext=ext)
        # claimWork: temporary credentials, then used and misused
        got = signed("POST", "/claim-work/" + quote(queue, safe=""),
                     {"workerGroup": "wg", "workerId": "wi"})
        temp = got.json()["tasks"][0]["credentials"]
        cert = json.loads(temp["certificate"])
        secrets.update({temp["accessToken"], cert["signature"]})
        temp_ext = base64.urlsafe_b64encode(json.dumps({"certificate": cert}).encode()).decode()
        assert signed("POST", f"/task/{task_id}/runs/0/reclaim", creds_=temp,
                      ext=temp_ext).status == 200
        signed("POST", f"/task/{new_task_id()}/runs/0/reclaim", creds_=temp, ext=temp_ext)
        bad_temp = dict(temp, accessToken="Q" * 44)
        assert signed("POST", f"/task/{task_id}/runs/0/reclaim", creds_=bad_temp,
                      ext=temp_ext).status == 401
        # a private artifact read with bewits, fresh and expired
        assert signed("POST", f"/task/{task_id}/runs/0/artifacts/private%2Fk",
                      {"storageType": "reference", "expires": when(600),
                       "contentType": "text/plain", "url": "https://example.com/k"}
                      ).status == 200
        target = f"/api/queue/v1/task/{task_id}/runs/0/artifacts/private%2Fk"
        c = Credentials(creds["clientId"], creds["accessToken"])
        for expires in (int(time.time()) + 60, int(time.time()) - 60):
            b = bewit(c, wire.origin + target, expires=expires)
            secrets.add(b)
            secrets.add(base64.urlsafe_b64decode(b + "=" * (-len(b) % 4)).decode().split("\\")[2])
            answers.append(wire.send("GET", f"{target}?bewit={b}"))
        assert answers[-2].status == 303 and answers[-1].status == 401
        # the s3 stand-in's signed URLs carry a signature too
        assert signed("POST", f"/task/{task_id}/runs/0/artifacts/private%2Fs",
                      {"storageType": "s3", "expires": when(600),
                       "contentType": "text/plain"}).status == 200
        # an injected 500 and a garbled header
        fault = wire.send("POST", "/mock/v1/faults", body=b'{"kind": "fail", "method": "status", "status": 500}',
                          content_type="application/json")
        assert fault.status in (200, 201), fault.text
        assert signed("GET", f"/task/{task_id}/status").status == 500
        garbled = 'Hawk id="tutorial", ts="1", nonce="n", mac="' + TOKEN + '"'
        answers.append(wire.send("GET", f"/api/queue/v1/task/{task_id}/status",
                                 authorization=garbled))
        request_log = wire.send("GET", "/mock/v1/requests")
        assert request_log.status == 200 and task_id in request_log.text
    finally:
        served.stop()
    served._drain.join(5)
    logs = "".join(served.stderr_lines)
    assert "mock queue listening" in logs  # the log was captured at all
    assert len(secrets) >= 8
    for secret in secrets:
        assert secret not in logs, f"a secret is in the server log: {secret[:6]}…"
        assert secret not in request_log.text, f"a secret is in the request log: {secret[:6]}…"
    for answer in answers:
        if answer.status >= 400:
            for secret in secrets:
                assert secret not in answer.text, f"a secret is in an error: {answer.text[:200]}"
