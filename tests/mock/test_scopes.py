"""Scope matching and scope expressions (tutorial_kit.mock.security.scopes)."""

from __future__ import annotations

import pytest

from tutorial_kit import api
from tutorial_kit.mock.security import scopes as S


@pytest.mark.parametrize("held, required, ok", [
    ("queue:status:abc", "queue:status:abc", True),
    ("queue:status:abc", "queue:status:abcd", False),
    ("queue:status:*", "queue:status:abc", True),
    ("queue:status:*", "queue:status:", True),
    ("queue:status:*", "queue:statu", False),
    ("*", "anything:at:all", True),
    ("queue:status:a*c", "queue:status:abc", False),  # only a trailing * is special
    ("queue:status:a*c", "queue:status:a*c", True),
])
def test_scope_match(held, required, ok):
    assert S.scope_match(held, required) is ok


def test_expand_fills_placeholders_and_unrolls_templates():
    entry = api.BY_NAME["createTask"]
    params = {"taskId": "T", "scopes": ["a", "b:*"], "routes": ["r1"], "projectId": "p",
              "schedulerId": "-", "priorities": ["high", "low"], "provisionerId": "prov",
              "workerType": "wt"}
    assert S.expand(entry.scopes, params) == {"AllOf": [
        "a", "b:*", "queue:route:r1", "queue:create-task:project:p", "queue:scheduler-id:-",
        {"AnyOf": ["queue:create-task:high:prov/wt", "queue:create-task:low:prov/wt"]}]}


def test_empty_template_lists_contribute_nothing():
    expr = {"AllOf": [{"for": "r", "in": "routes", "each": "queue:route:<r>"}, "x"]}
    assert S.expand(expr, {"routes": []}) == {"AllOf": ["x"]}
    # an AllOf of nothing is satisfied by anyone, an AnyOf of nothing by no one
    assert S.satisfies([], S.expand({"AllOf": [expr["AllOf"][0]]}, {"routes": []}))
    assert not S.satisfies(["*"], {"AnyOf": []})


def test_numbers_are_substituted_as_text():
    assert S.expand("queue:resolve-task:<taskId>/<runId>", {"taskId": "T", "runId": 0}) == \
        "queue:resolve-task:T/0"


@pytest.mark.parametrize("expr, params", [
    ("queue:status:<taskId>", {}),
    ("queue:status:<taskId>", {"taskId": ["a"]}),
    ({"AllOf": [{"for": "n", "in": "names", "each": "x:<n>"}]}, {"names": "notalist"}),
    ({"Neither": []}, {}),
    (42, {}),
])
def test_bad_expressions_or_params_raise(expr, params):
    with pytest.raises(S.ScopeExpressionError):
        S.expand(expr, params)


def test_satisfies_allof_anyof():
    expr = {"AllOf": ["a", {"AnyOf": ["b", "c"]}]}
    assert S.satisfies(["a", "c"], expr)
    assert S.satisfies(["*"], expr)
    assert not S.satisfies(["a"], expr)
    assert not S.satisfies(["b", "c"], expr)


def test_unsatisfied_reports_only_what_is_missing():
    expr = {"AllOf": ["a", "b", {"AnyOf": ["c", "d"]}]}
    assert S.unsatisfied(["a", "b", "d"], expr) is None
    assert S.unsatisfied(["a"], expr) == {"AllOf": ["b", {"AnyOf": ["c", "d"]}]}
    assert S.unsatisfied(["a", "c"], expr) == "b"
    assert S.unsatisfied([], "x") == "x"


def test_required_params_tell_url_only_expressions_apart():
    url_only = {e.name for e in api.ENTRIES
                if e.scopes is not None and S.required_params(e.scopes) <= set(e.args)}
    # methods the real service checks before any 404 (QUEUE-FACTS §0)
    assert {"task", "status", "reclaimTask", "reportCompleted", "createArtifact",
            "listArtifacts"} <= url_only
    # methods whose scopes need the stored task or the body
    assert not url_only & {"createTask", "cancelTask", "claimWork", "getArtifact",
                           "declareWorker", "scheduleTask"}
    assert S.required_params(api.BY_NAME["getArtifact"].scopes) == {"names"}


@pytest.mark.parametrize("held, template, names", [
    (["queue:status:*"], "queue:status:<taskId>", ("taskId",)),
    (["queue:*"], "queue:list-artifacts:<taskId>:<runId>", ("taskId", "runId")),
    (["*"], "queue:status:<taskId>", ("taskId",)),
    (["queue:ping"], "queue:ping", ()),
    # granted for some values only: the verdict depends on them
    (["queue:status:abc"], "queue:status:<taskId>", None),
    (["queue:status:a*"], "queue:status:<taskId>", None),
    (["queue:list-artifacts:T:*"], "queue:list-artifacts:<taskId>:<runId>", None),
    (["queue:status:\x00*"], "queue:status:<taskId>", None),  # a scope holding the stand-in
    ([], "queue:status:<taskId>", None),
])
def test_granted_for_any_params_only_when_no_value_could_matter(held, template, names):
    assert S.granted_for_any_params(S.ScopeSet(held), template) == names
    if names is not None:  # then every filling is granted, as expand + satisfies would say
        for value in ("", "x", "*", "a:b", "\x00", "%2F"):
            assert S.satisfies(held, S.expand(template, dict.fromkeys(names, value)))


def test_fills_tells_values_expand_would_refuse():
    assert S.fills(("taskId", "runId"), {"taskId": "T", "runId": 0})
    assert not S.fills(("taskId",), {})
    assert not S.fills(("taskId",), {"taskId": None})
    assert not S.fills(("taskId",), {"taskId": ["T"]})


def test_intersection_and_normalisation():
    assert S.intersect_scopes(["queue:*"], ["queue:status:*", "auth:x"]) == ["queue:status:*"]
    assert S.intersect_scopes(["a:b"], ["a:*"]) == ["a:b"]
    assert S.intersect_scopes(["a:b"], ["c"]) == []
    assert S.normalize_scopes(["a:b", "a:*", "a:*", "c"]) == ["a:*", "c"]


def test_format_expression():
    assert S.format_expression("a") == "a"
    assert S.format_expression({"AllOf": ["a"]}) == '{\n  "AllOf": [\n    "a"\n  ]\n}'
