"""Task payloads the shell engine accepts: docker-worker's and generic-worker's shapes.

The queue never looks inside ``task.payload``; the worker does. Both shapes become one
:class:`RunPlan`. Anything the engine cannot honour raises :class:`MalformedPayload` whose message
tells the learner exactly which field is wrong; the engine then resolves the run
``exception``/``malformed-payload`` instead of guessing.

docker-worker::

    {"image": "ubuntu:latest", "command": ["/bin/bash", "-c", "ls && du /usr"],
     "env": {"A": "1"}, "maxRunTime": 600,
     "artifacts": {"public/passwd.txt": {"type": "file", "path": "/etc/passwd",
                                         "expires": "2026-..."}}}

generic-worker::

    {"command": [["/bin/bash", "-c", "ls"], ["du", "/usr"]], "env": {...}, "maxRunTime": 600,
     "artifacts": [{"type": "file", "path": "passwd.txt", "name": "public/passwd.txt"}],
     "onExitStatus": {"retry": [36]}}
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

#: The longest run the engine allows, whatever the payload asks (a mock is no build farm).
MAX_RUN_TIME_CAP = 3600
ARTIFACT_TYPES = ("file", "directory")
#: The error artifact that tells a learner why a payload was refused.
MALFORMED_ARTIFACT = "public/malformed-payload"
#: Why a payload that fault injection made malformed was refused.
INJECTED_MALFORMED = "the payload was made malformed on purpose by the mock's fault injection"
_ENV_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")


class MalformedPayload(ValueError):
    """The payload cannot be run; the message says why, in a learner's words."""


@dataclass(frozen=True)
class ArtifactSpec:
    name: str
    type: str  # "file" | "directory"
    path: str
    expires: str | None = None  # ISO timestamp; None means the task's expires
    content_type: str | None = None


@dataclass
class RunPlan:
    """What the engine will do for one run, whichever worker's payload it came from."""

    style: str  # "docker-worker" | "generic-worker"
    commands: list[list[str]]  # run in order; the first non-zero exit ends the run
    env: dict[str, str] = field(default_factory=dict)
    max_run_time: int = 600
    artifacts: list[ArtifactSpec] = field(default_factory=list)
    image: Any = None  # docker-worker only; ignored (said so in the log)
    retry_exit_codes: frozenset[int] = frozenset()  # generic-worker onExitStatus.retry
    notes: list[str] = field(default_factory=list)  # lines for the log header


def _argv(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not value:
        raise MalformedPayload(f"{where} must be a non-empty list of strings")
    for i, word in enumerate(value):
        if not isinstance(word, str):
            raise MalformedPayload(f"{where}[{i}] must be a string, not {type(word).__name__} "
                                   f"{word!r}")
        if "\x00" in word:
            raise MalformedPayload(f"{where}[{i}] contains a NUL character")
    return list(value)


def _env(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MalformedPayload("payload.env must be an object of string values")
    env = {}
    for key, val in value.items():
        if not key or set(key) - _ENV_KEY_CHARS or key[0].isdigit():
            raise MalformedPayload(f"payload.env has an invalid variable name {key!r} "
                                   "(letters, digits and _, not starting with a digit)")
        if not isinstance(val, str):
            raise MalformedPayload(f"payload.env.{key} must be a string, not "
                                   f"{type(val).__name__} {val!r}")
        if "\x00" in val:
            raise MalformedPayload(f"payload.env.{key} contains a NUL character")
        env[key] = val
    return env


def _max_run_time(payload: dict[str, Any], notes: list[str]) -> int:
    if "maxRunTime" not in payload:
        raise MalformedPayload("payload.maxRunTime is required: the most seconds the task may "
                               "run before the worker kills it (e.g. 600)")
    value = payload["maxRunTime"]
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise MalformedPayload(f"payload.maxRunTime must be a positive integer number of "
                               f"seconds, not {value!r}")
    if value > MAX_RUN_TIME_CAP:
        notes.append(f"maxRunTime {value} s is above this engine's cap; "
                     f"using {MAX_RUN_TIME_CAP} s")
        return MAX_RUN_TIME_CAP
    return value


def _expires(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedPayload(f"{where} must be an ISO-8601 timestamp string")
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise MalformedPayload(f"{where} is not an ISO-8601 timestamp: {value!r}") from None
    if parsed.tzinfo is None:
        raise MalformedPayload(f"{where} needs a time zone (end it with Z): {value!r}")
    return value


def _artifact(name: Any, spec: Any, where: str) -> ArtifactSpec:
    if not isinstance(name, str) or not name or len(name) > 1024:
        raise MalformedPayload(f"{where} needs a name of 1-1024 characters")
    if any(not (0x20 <= ord(c) <= 0x7e) for c in name):
        raise MalformedPayload(f"{where}: artifact name {name!r} must be printable ASCII")
    if not isinstance(spec, dict):
        raise MalformedPayload(f"{where} must be an object with type and path")
    kind = spec.get("type", "file")
    if kind not in ARTIFACT_TYPES:
        raise MalformedPayload(f"{where}.type must be one of {', '.join(ARTIFACT_TYPES)}, "
                               f"not {kind!r}")
    path = spec.get("path")
    if not isinstance(path, str) or not path or "\x00" in path:
        raise MalformedPayload(f"{where}.path must be a non-empty string")
    content_type = spec.get("contentType")
    if content_type is not None and not isinstance(content_type, str):
        raise MalformedPayload(f"{where}.contentType must be a string")
    return ArtifactSpec(name, kind, path, _expires(spec.get("expires"), f"{where}.expires"),
                        content_type)


def _docker_worker(payload: dict[str, Any]) -> RunPlan:
    notes: list[str] = []
    command = _argv(payload.get("command"), "payload.command")
    artifacts_in = payload.get("artifacts", {})
    if not isinstance(artifacts_in, dict):
        raise MalformedPayload("payload.artifacts must be an object mapping artifact names to "
                               "{type, path, expires} (docker-worker style)")
    artifacts = [_artifact(name, spec, f"payload.artifacts[{name!r}]")
                 for name, spec in artifacts_in.items()]
    return RunPlan("docker-worker", [command], _env(payload.get("env")),
                   _max_run_time(payload, notes), artifacts, image=payload.get("image"),
                   notes=notes)


def _generic_worker(payload: dict[str, Any]) -> RunPlan:
    notes: list[str] = []
    commands = payload["command"]
    if not commands:
        raise MalformedPayload("payload.command must list at least one command")
    plan_commands = [_argv(c, f"payload.command[{i}]") for i, c in enumerate(commands)]
    artifacts_in = payload.get("artifacts", [])
    if not isinstance(artifacts_in, list):
        raise MalformedPayload("payload.artifacts must be a list of {type, path, name} "
                               "(generic-worker style)")
    artifacts = []
    for i, spec in enumerate(artifacts_in):
        where = f"payload.artifacts[{i}]"
        if not isinstance(spec, dict):
            raise MalformedPayload(f"{where} must be an object with type, path and name")
        # generic-worker names an artifact after its path when no name is given
        artifacts.append(_artifact(spec.get("name", spec.get("path")), spec, where))
    retry: frozenset[int] = frozenset()
    on_exit = payload.get("onExitStatus")
    if on_exit is not None:
        codes = on_exit.get("retry", []) if isinstance(on_exit, dict) else None
        if not isinstance(codes, list) or not all(
                isinstance(c, int) and not isinstance(c, bool) for c in codes):
            raise MalformedPayload("payload.onExitStatus.retry must be a list of exit codes")
        retry = frozenset(codes)
    return RunPlan("generic-worker", plan_commands, _env(payload.get("env")),
                   _max_run_time(payload, notes), artifacts, retry_exit_codes=retry, notes=notes)


def parse_payload(payload: Any) -> RunPlan:
    """Read a task payload as docker-worker's or generic-worker's; raise MalformedPayload."""
    if not isinstance(payload, dict):
        raise MalformedPayload("the payload must be a JSON object")
    command = payload.get("command")
    if command is None:
        raise MalformedPayload("payload.command is required: a list of strings (docker-worker, "
                               "e.g. [\"/bin/bash\", \"-c\", \"ls\"]) or a list of such lists "
                               "(generic-worker)")
    if isinstance(command, list) and any(isinstance(c, list) for c in command):
        return _generic_worker(payload)
    return _docker_worker(payload)
