#!/usr/bin/env python3
"""Render the package's schema and reference files from our own prose.

A one-off developer tool, never imported by the package. It takes the *structure* of the official
Taskcluster Queue schemas (property names, types, patterns, enums, limits, defaults, required
lists, ``$id``/``$ref``) from a checkout of the oracle folder, and replaces every ``title``,
``description`` and routing-key ``summary`` with the text written for tutorial-kit in
``tools/schema_prose.yml``. It refuses to write anything while a piece of prose is missing.

    python tools/build_schemas.py [--oracle ../shared/taskcluster-schemas] [--missing | --check]

``--check`` writes nothing and fails if the files on disk differ from what would be rendered
(someone edited a JSON file by hand instead of ``schema_prose.yml``).

Prose lookup for a ``title``/``description`` inside a schema file, first match wins:

1. ``files[<file>][<pointer>]`` -- the JSON pointer of the node holding the text ("" = root);
2. ``fields[<local key>]`` (queue schemas only) -- the local key is the path below the last
   ``properties`` or ``definitions`` name, e.g. ``taskId``, ``runs/items``, ``storageType``.

The reference documents take theirs from ``api`` / ``exchanges`` (top level, ``entries`` by
method or exchange name, ``routingKey`` summaries by word name for task and task-group exchanges).
"""

from __future__ import annotations

import argparse
import copy
import json
import pathlib
import sys
from typing import Any

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "tutorial_kit" / "mock"
PROSE = ROOT / "tools" / "schema_prose.yml"
DEFAULT_ORACLE = ROOT.parent / "shared" / "taskcluster-schemas"
#: Schemas and API entries of Queue methods newer than the oracle's release (see its README).
NEWER = ROOT / "tools" / "newer"

#: The shared schemas the package ships: the queue schemas' meta-schema and the meta-schemas of
#: the reference documents (and what they themselves name in ``$schema``).
COMMON = ("metaschema.json", "metadata-metaschema.json", "api-reference-v0.json",
          "exchanges-reference-v0.json", "manifest-v3.json")
TEXT_KEYS = ("title", "description")
#: --draft writes this where prose is still missing (work in progress only, never shipped).
DRAFT_TEXT = "(prose pending)"
DRAFT = False
#: (file, pointer, key) of every per-file text that was used, to report prose nothing uses
USED: set[tuple[str, str, str]] = set()


def local_key(path: list[str]) -> str:
    for i in range(len(path) - 2, -1, -1):
        if path[i] in ("properties", "definitions"):
            return "/".join(path[i + 1:])
    return ""


def rewrite_schema(doc: Any, file: str, prose: dict, missing: list[str]) -> Any:
    files = prose.get("files", {}).get(file, {}) or {}
    fields = prose.get("fields", {}) or {}

    def walk(node: Any, path: list[str]) -> Any:
        if isinstance(node, list):
            return [walk(v, path + [str(i)]) for i, v in enumerate(node)]
        if not isinstance(node, dict):
            return node
        out = {}
        pointer = "/" + "/".join(path) if path else ""
        for key, value in node.items():
            if key in TEXT_KEYS and isinstance(value, str):
                here = files.get(pointer) or {}
                text = here.get(key)
                if text is not None:
                    USED.add((file, pointer, key))
                if text is None:
                    # the shared vocabulary is for queue schemas; common ones spell out each text
                    if file.startswith("queue/"):
                        text = (fields.get(local_key(path)) or {}).get(key)
                if text is None:
                    missing.append(f"{file} {pointer or '(root)'} [{local_key(path)}] {key}: "
                                   + value[:110].replace("\n", " "))
                    text = DRAFT_TEXT if DRAFT else value  # value only feeds the report
                out[key] = text.rstrip("\n") if isinstance(text, str) else text
            else:
                out[key] = walk(value, path + [key])
        return out

    return walk(doc, [])


def _text(table: dict, key: str, where: str, original: str, missing: list[str]) -> str:
    text = (table or {}).get(key)
    if text is None:
        missing.append(f"{where} {key}: " + original[:110].replace("\n", " "))
        return DRAFT_TEXT if DRAFT else original
    return text.rstrip("\n")


def rewrite_api(doc: dict, prose: dict, missing: list[str]) -> dict:
    out = copy.deepcopy(doc)
    for key in TEXT_KEYS:
        out[key] = _text(prose, key, "api.json", doc[key], missing)
    entries = prose.get("entries", {})
    for entry in out["entries"]:
        for key in TEXT_KEYS:
            entry[key] = _text(entries.get(entry["name"]), key, f"api.json {entry['name']}",
                               entry[key], missing)
    return out


def rewrite_exchanges(doc: dict, prose: dict, missing: list[str]) -> dict:
    out = copy.deepcopy(doc)
    for key in TEXT_KEYS:
        out[key] = _text(prose, key, "exchanges.json", doc[key], missing)
    entries = prose.get("entries", {})
    summaries = prose.get("routingKey", {})
    for entry in out["entries"]:
        for key in TEXT_KEYS:
            entry[key] = _text(entries.get(entry["name"]), key, f"exchanges.json {entry['name']}",
                               entry[key], missing)
        family = "taskGroup" if entry["routingKey"][1]["name"] == "taskGroupId" else "task"
        for word in entry["routingKey"]:
            word["summary"] = _text(summaries.get(family), word["name"],
                                    f"exchanges.json routingKey {family}", word["summary"], missing)
    return out


def queue_manifest(doc: dict) -> dict:
    """The upstream manifest lists every service; ours lists the references the mock serves."""
    out = copy.deepcopy(doc)
    out["references"] = [r for r in doc["references"]
                         if r in ("/references/queue/v1/api.json", "/references/queue/v1/exchanges.json")]
    return out


def render(doc: Any) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def dump(path: pathlib.Path, doc: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(doc), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--oracle", type=pathlib.Path, default=DEFAULT_ORACLE)
    parser.add_argument("--missing", action="store_true", help="only list the prose still missing")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; fail if the shipped files are not what would be written")
    parser.add_argument("--draft", action="store_true",
                        help="write anyway, with a placeholder where prose is missing")
    args = parser.parse_args(argv)
    global DRAFT
    DRAFT = args.draft
    if not args.oracle.is_dir():
        print(f"oracle folder {args.oracle} not found", file=sys.stderr)
        return 2
    prose = yaml.safe_load(PROSE.read_text(encoding="utf-8")) or {}
    missing: list[str] = []
    outputs: dict[pathlib.Path, Any] = {}

    queue_dir = args.oracle / "schemas" / "queue" / "v1"
    newer = sorted(p for p in (NEWER / "queue" / "v1").glob("*.json")
                   if p.name != "api-entries.json")
    for src in sorted([*queue_dir.glob("*.json"), *newer], key=lambda p: p.name):
        doc = json.loads(src.read_text(encoding="utf-8"))
        outputs[PACKAGE / "schemas" / "queue" / "v1" / src.name] = rewrite_schema(
            doc, f"queue/v1/{src.name}", prose.get("schemas", {}), missing)
    # The Object service's schemas (object artifacts go through it), all prose per file.
    for src in sorted((args.oracle / "schemas" / "object" / "v1").glob("*.json")):
        doc = json.loads(src.read_text(encoding="utf-8"))
        outputs[PACKAGE / "schemas" / "object" / "v1" / src.name] = rewrite_schema(
            doc, f"object/v1/{src.name}", prose.get("schemas", {}), missing)
    for name in COMMON:
        doc = json.loads((args.oracle / "schemas" / "common" / name).read_text(encoding="utf-8"))
        outputs[PACKAGE / "schemas" / "common" / name] = rewrite_schema(
            doc, f"common/{name}", prose.get("schemas", {}), missing)

    refs = args.oracle / "references"
    api = json.loads((refs / "queue" / "v1" / "api.json").read_text(encoding="utf-8"))
    extra = json.loads((NEWER / "queue" / "v1" / "api-entries.json").read_text(encoding="utf-8"))
    for entry in extra["entries"]:
        before = extra["after"][entry["name"]]
        at = next(i for i, e in enumerate(api["entries"]) if e["name"] == before)
        api["entries"].insert(at + 1, entry)
    exchanges = json.loads((refs / "queue" / "v1" / "exchanges.json").read_text(encoding="utf-8"))
    manifest = json.loads((refs / "manifest.json").read_text(encoding="utf-8"))
    outputs[PACKAGE / "references" / "queue" / "v1" / "api.json"] = rewrite_api(
        api, prose.get("api", {}), missing)
    outputs[PACKAGE / "references" / "queue" / "v1" / "exchanges.json"] = rewrite_exchanges(
        exchanges, prose.get("exchanges", {}), missing)
    outputs[PACKAGE / "references" / "manifest.json"] = queue_manifest(manifest)

    unused = [f"{file} {pointer or '(root)'} {key}"
              for file, pointers in (prose.get("schemas", {}).get("files") or {}).items()
              for pointer, texts in (pointers or {}).items()
              for key in (texts or {}) if (file, pointer, key) not in USED]
    for line in unused:
        print(f"warning: prose for a place the schemas do not have: {line}", file=sys.stderr)
    if missing and not args.draft:
        print(f"{len(missing)} piece(s) of prose missing:")
        for line in missing:
            print("  " + line)
        return 0 if args.missing else 1
    if args.missing:
        print("no prose missing")
        return 0
    if args.check:
        stale = [str(path.relative_to(ROOT)) for path, doc in outputs.items()
                 if not path.exists() or path.read_text(encoding="utf-8") != render(doc)]
        stale += [str(p.relative_to(ROOT)) for folder in ("schemas", "references")
                  for p in (PACKAGE / folder).rglob("*.json") if p not in outputs]
        for name in stale:
            print(f"  out of date: {name}")
        print("up to date" if not stale else f"{len(stale)} file(s) out of date")
        return 1 if stale else 0
    for path, doc in outputs.items():
        dump(path, doc)
    print(f"wrote {len(outputs)} files under {PACKAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
