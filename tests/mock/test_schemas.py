"""The schema and reference files the package ships (tutorial_kit/mock/schemas, .../references).

They must have the official structure (the oracle in ../shared/taskcluster-schemas) with our own
titles and descriptions, and be usable on their own: valid draft-06, every ``$ref`` resolvable
inside the package.
"""

from __future__ import annotations

import functools
import json
import pathlib
from importlib import resources
from typing import Any, Iterator

import jsonschema
import pytest
from jsonschema_specifications import REGISTRY as SPECIFICATIONS
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT6

from tutorial_kit import api
from tutorial_kit.mock.web.validation import Validator

ORIGIN = "https://tc.example.com"
PROSE_KEYS = ("title", "description")
#: Short strings ("Task ID", "Deadline") may coincide with the oracle's; longer ones may not.
SHORT = 25
#: The shared schemas the package needs: the queue schemas' meta-schema and those of the
#: reference documents (and what they name in $schema).
COMMON = ("metaschema.json", "metadata-metaschema.json", "api-reference-v0.json",
          "exchanges-reference-v0.json", "manifest-v3.json")


def package_files(folder: str) -> dict[str, Any]:
    base = resources.files("tutorial_kit.mock").joinpath(folder)
    out: dict[str, Any] = {}

    def walk(node: Any, prefix: str) -> None:
        for child in node.iterdir():
            if child.is_dir():
                walk(child, f"{prefix}{child.name}/")
            elif child.name.endswith(".json"):
                out[prefix + child.name] = json.loads(child.read_text(encoding="utf-8"))

    walk(base, "")
    return out


SCHEMAS = package_files("schemas")
REFERENCES = package_files("references")


def oracle_files(root: pathlib.Path) -> dict[str, Any]:
    return {p.relative_to(root).as_posix(): json.loads(p.read_text(encoding="utf-8"))
            for p in sorted(root.rglob("*.json"))}


def without_prose(node: Any) -> Any:
    """The structure with every title/description string replaced by a marker (presence kept)."""
    if isinstance(node, dict):
        return {k: ("<prose>" if k in PROSE_KEYS and isinstance(v, str) else without_prose(v))
                for k, v in node.items()}
    if isinstance(node, list):
        return [without_prose(v) for v in node]
    return node


def prose(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for k, v in node.items():
            if k in (*PROSE_KEYS, "summary") and isinstance(v, str):
                yield v
            else:
                yield from prose(v)
    elif isinstance(node, list):
        for v in node:
            yield from prose(v)


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                yield v
            else:
                yield from refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from refs(v)


@functools.lru_cache(maxsize=1)
def package_registry() -> Registry:
    resources_ = [(ORIGIN + doc["$id"].split("#")[0],
                   Resource.from_contents(doc, default_specification=DRAFT6))
                  for doc in SCHEMAS.values()]
    return Registry().with_resources(resources_).combine(SPECIFICATIONS)


# --- on their own ------------------------------------------------------------------------------

def test_package_ships_every_queue_schema_and_the_common_ones():
    queue = [p for p in SCHEMAS if p.startswith("queue/v1/")]
    assert len(queue) == 57 + 2  # two of taskQueueCountsBatch, newer than the oracle
    assert {f"common/{name}" for name in COMMON} <= set(SCHEMAS)
    assert set(REFERENCES) == {"queue/v1/api.json", "queue/v1/exchanges.json", "manifest.json"}
    assert Validator().schema_names() == sorted(SCHEMAS)


@pytest.mark.parametrize("path", sorted(SCHEMAS))
def test_schema_is_valid_draft6_with_its_own_id_and_resolvable_refs(path):
    doc = SCHEMAS[path]
    assert doc["$id"] == f"/schemas/{path}#"
    if path.startswith("queue/"):
        assert doc["$schema"] == "/schemas/common/metaschema.json#"
    # checked in the served (absolute) form: `$schema` must be an absolute URI for draft-06
    jsonschema.Draft6Validator.check_schema(Validator().schema_document(path, ORIGIN))
    registry = package_registry()
    resolver = registry.resolver(base_uri=ORIGIN + doc["$id"].split("#")[0])
    targets = list(refs(doc))
    if doc.get("$schema", "").startswith("/"):
        targets.append(ORIGIN + doc["$schema"])
    for ref in targets:
        resolver.lookup(ref)  # raises Unresolvable if the package lacks the target


def test_cross_file_refs_are_followed():
    v = Validator()
    status = {"taskId": "fN1SbArXTPSVFNUvaOlinQ", "provisionerId": "proj-getting-started",
              "workerType": "tutorial", "taskQueueId": "proj-getting-started/tutorial",
              "schedulerId": "-", "projectId": "none", "taskGroupId": "fN1SbArXTPSVFNUvaOlinQ",
              "priority": "lowest", "deadline": "2030-01-01T00:00:00.000Z",
              "expires": "2031-01-01T00:00:00.000Z", "retriesLeft": 5, "state": "pending",
              "runs": [{"runId": 0, "state": "pending", "reasonCreated": "scheduled",
                        "scheduled": "2029-12-31T00:00:00.000Z"}]}
    assert v.output_errors("task-status-response.json", {"status": status}) == []
    status["runs"][0]["state"] = "unscheduled"  # only a task state, not a run state
    status["priority"] = "normal"  # checked through task.json#/properties/priority
    assert v.output_errors("task-status-response.json", {"status": status}) == [
        "data/status/priority must be equal to one of the allowed values",
        "data/status/runs/0/state must be equal to one of the allowed values",
    ]


@pytest.mark.parametrize("path", sorted(REFERENCES))
def test_reference_document_matches_its_own_schema(path):
    doc = REFERENCES[path]
    registry = package_registry()
    meta = registry.resolver().lookup(ORIGIN + doc["$schema"]).contents
    instance = dict(doc)
    if "$schema" not in meta.get("properties", {}) and meta.get("additionalProperties") is False:
        instance.pop("$schema")  # manifest-v3 does not declare the $schema key it is served with
    jsonschema.Draft6Validator(meta, registry=registry).validate(instance)
    service = doc.get("serviceName")
    for entry in doc.get("entries", []):
        for key in ("input", "output", "schema"):
            if entry.get(key) and entry[key] != "blob":
                assert f"{service}/{entry[key].split('#')[0]}" in SCHEMAS


def test_no_placeholder_prose_and_every_text_is_written_out():
    for path, doc in {**SCHEMAS, **REFERENCES}.items():
        for text in prose(doc):
            assert text.strip(), f"{path}: empty text"
            assert "prose pending" not in text, f"{path}: unfinished prose"


def test_api_table_agrees_with_shipped_api_json():
    shipped = REFERENCES["queue/v1/api.json"]
    assert shipped["serviceName"] == api.SERVICE_NAME and shipped["apiVersion"] == api.API_VERSION

    def schema_name(value: str | None) -> str | None:
        return value.split("#")[0].removeprefix("v1/") if value else None

    rows = [(e["name"], e["method"], e["route"], tuple(e["args"]), tuple(e["query"]),
             e.get("scopes"), schema_name(e.get("input")), schema_name(e.get("output")),
             e["stability"], e["category"]) for e in shipped["entries"]]
    table = [(e.name, e.method, e.route, e.args, e.query, e.scopes, e.input, e.output,
              e.stability, e.category) for e in api.ENTRIES]
    assert table == rows

    exchanges = REFERENCES["queue/v1/exchanges.json"]
    assert exchanges["exchangePrefix"] == api.EXCHANGE_PREFIX
    shipped_x = [(e["name"], e["exchange"], schema_name(e["schema"]),
                  tuple(w["name"] for w in e["routingKey"])) for e in exchanges["entries"]]
    assert [(x.name, x.exchange, x.schema, x.routing_key) for x in api.EXCHANGES] == shipped_x


# --- against the oracle -----------------------------------------------------------------------

def test_every_oracle_schema_has_a_structural_twin(oracle_schemas):
    oracle = oracle_files(oracle_schemas / "schemas")
    wanted = ([p for p in oracle if p.startswith(("queue/", "object/"))]
              + [f"common/{n}" for n in COMMON])
    # the queue's 57 and the Object service's 11 (object artifacts go through it)
    assert len(wanted) == 57 + 11 + len(COMMON)
    for path in wanted:
        assert path in SCHEMAS, f"package lacks {path}"
        # compared as text so that key order counts too (the schema table shows it)
        ours = json.dumps(without_prose(SCHEMAS[path]), indent=1)
        theirs = json.dumps(without_prose(oracle[path]), indent=1)
        assert ours == theirs, f"{path} differs in structure from the oracle"
    # Methods newer than the oracle's release bring their own (tools/newer, see its README).
    newer = {f"queue/v1/{n}" for n in ("task-queue-counts-request.json",
                                       "task-queue-counts-list-response.json")}
    extra = set(SCHEMAS) - set(wanted) - newer
    assert not extra, f"schemas the oracle does not have: {sorted(extra)}"


def test_prose_is_our_own(oracle_schemas):
    theirs = {t.strip() for doc in oracle_files(oracle_schemas).values() for t in prose(doc)}
    copied = sorted({t for doc in [*SCHEMAS.values(), *REFERENCES.values()] for t in prose(doc)
                     if len(t) >= SHORT and t.strip() in theirs})
    assert copied == []
    # and the schema files are really documented
    documented = sum(1 for doc in SCHEMAS.values() for _ in prose(doc))
    assert documented >= 500


#: Queue methods the current official client has and the oracle's release had not.
NEWER_METHODS = ("taskQueueCountsBatch",)


def test_newer_methods_are_the_official_clients():
    """The newer entries match the installed official client's funcinfo exactly."""
    import taskcluster

    shipped = {e["name"]: e for e in REFERENCES["queue/v1/api.json"]["entries"]}
    for name in NEWER_METHODS:
        info = taskcluster.Queue.funcinfo[name]
        for key in ("args", "method", "route", "input", "output", "stability"):
            assert shipped[name][key] == info[key], (name, key)
    # and nothing of the official client is missing from our table
    assert set(taskcluster.Queue.funcinfo) <= {e.name for e in api.ENTRIES}


def test_references_have_the_oracle_entries(oracle_schemas):
    refs_dir = oracle_schemas / "references"
    for path in ("queue/v1/api.json", "queue/v1/exchanges.json"):
        theirs = json.loads((refs_dir / path).read_text(encoding="utf-8"))
        ours = dict(REFERENCES[path])
        # entries newer than the oracle's release (tools/newer) are checked in test_newer_methods
        ours["entries"] = [e for e in ours["entries"] if e["name"] not in NEWER_METHODS]
        assert list(ours) == list(theirs)
        for key in ours:
            if key not in ("entries", *PROSE_KEYS):
                assert ours[key] == theirs[key], f"{path}: {key}"
        assert len(ours["entries"]) == len(theirs["entries"])
        for mine, official in zip(ours["entries"], theirs["entries"]):
            assert list(mine) == list(official)
            for key in mine:
                if key in PROSE_KEYS:
                    continue
                if key == "routingKey":
                    strip = [{k: v for k, v in w.items() if k != "summary"} for w in mine[key]]
                    assert strip == [{k: v for k, v in w.items() if k != "summary"}
                                     for w in official[key]]
                else:
                    assert mine[key] == official[key], f"{path} {mine['name']}: {key}"
    manifest = REFERENCES["manifest.json"]
    official = json.loads((refs_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["$schema"] == official["$schema"]
    assert manifest["references"] == ["/references/queue/v1/api.json",
                                      "/references/queue/v1/exchanges.json"]
    assert set(manifest["references"]) <= set(official["references"])
