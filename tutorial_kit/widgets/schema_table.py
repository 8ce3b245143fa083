"""SchemaTable: a JSON schema as an expandable tree, loaded live from the deployment in use.

Each row shows a property's name, type, required mark, title and description (markdown), and
its keywords (enum, pattern, format, min/max, default, ...). ``$ref``s are followed, across
files, by fetching sibling schemas from the same deployment. Given an ``instance`` (e.g. the
live status), each row also shows whether the instance has that field, its value, and the
validation errors found at that place.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import ipywidgets as W
import traitlets

from tutorial_kit.render import html as H
from . import _schemas as S
from ._client import root_url_of

#: Keywords drawn elsewhere in the row (or as children), never as chips.
_NOT_CHIPS = frozenset({"$id", "$schema", "$ref", "type", "name", "title", "description", "items",
                        "contains", "properties", "required", "allOf", "anyOf", "oneOf", "not",
                        "definitions", "additionalItems"})
_COMBINATORS = (("allOf", "all of"), ("anyOf", "any of"), ("oneOf", "one of"))
ITEM = "[]"  # the path word for "every item of the array"
_MAX_VALUE = 160


@dataclass
class Node:
    """One row of the tree: a property, an array's items, or a combinator's alternative."""

    name: str  # property name, "[]" for items, "one of" / "#1" for combinators
    path: tuple[str, ...]  # where its values live in an instance ("[]" for any item)
    schema: dict[str, Any]  # after following $ref (the ref's siblings merged over it)
    required: bool = False
    ref: str | None = None  # the absolute $ref that was followed, if any
    # property | items | additional (other keys) | combinator | alternative | recursive | error
    kind: str = "property"
    children: list[Node] = field(default_factory=list)
    message: str = ""  # for kind error/recursive
    errors: list[str] = field(default_factory=list)  # validation errors of the instance here

    @property
    def pointer(self) -> str:
        """The instance path as a string, e.g. ``/status/runs/[]/state`` (``/`` for the root)."""
        return "/" + "/".join(self.path)

    @property
    def types(self) -> list[str]:
        if self.kind in ("combinator", "error", "recursive"):
            return []
        declared = self.schema.get("type")
        if isinstance(declared, list):
            return [str(t) for t in declared]
        if isinstance(declared, str):
            return [declared]
        if "properties" in self.schema:
            return ["object"]
        if "items" in self.schema:
            return ["array"]
        if "enum" in self.schema or "const" in self.schema:
            return []
        return []

    def walk(self, depth: int = 0) -> Iterator[tuple[int, Node]]:
        """Pre-order walk: (depth, node)."""
        yield depth, self
        for child in self.children:
            yield from child.walk(depth + 1)


def build_tree(schema: dict[str, Any], base: str, *, name: str = "", path: tuple[str, ...] = (),
               required: bool = False, kind: str = "property",
               _stack: tuple[str, ...] = ()) -> Node:
    """The tree of ``schema`` (whose refs resolve against ``base``), following every ``$ref``."""
    ref = None
    if isinstance(schema.get("$ref"), str):
        try:
            target, target_base, ref = S.resolve(schema["$ref"], base)
        except S.SchemaLoadError as error:
            return Node(name, path, schema, required, kind="error", message=str(error))
        if ref in _stack:
            return Node(name, path, schema, required, ref=ref, kind="recursive",
                        message=f"recursive reference to {ref} (drawn above)")
        siblings = {k: v for k, v in schema.items() if k != "$ref"}
        schema = {**target, **siblings}
        base = target_base
        _stack = _stack + (ref,)
    else:
        base = S.base_of(schema, base)
    node = Node(name, path, schema, required, ref=ref, kind=kind)
    needed = schema.get("required") if isinstance(schema.get("required"), list) else []
    properties = schema.get("properties")
    if isinstance(properties, dict):
        for key, sub in properties.items():
            if isinstance(sub, dict):
                node.children.append(build_tree(sub, base, name=key, path=path + (key,),
                                                required=key in needed, _stack=_stack))
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict) and extra:
        node.children.append(build_tree(extra, base, name="(any other key)",
                                        path=path + ("*",), kind="additional", _stack=_stack))
    items = schema.get("items")
    if isinstance(items, dict):
        node.children.append(build_tree(items, base, name=ITEM, path=path + (ITEM,),
                                        kind="items", _stack=_stack))
    elif isinstance(items, list):
        for index, sub in enumerate(items):
            if isinstance(sub, dict):
                node.children.append(build_tree(sub, base, name=f"[{index}]",
                                                path=path + (str(index),), kind="items",
                                                _stack=_stack))
    for keyword, label in _COMBINATORS:
        options = schema.get(keyword)
        if isinstance(options, list) and options:
            group = Node(label, path, {keyword: options}, kind="combinator")
            for index, sub in enumerate(options):
                if isinstance(sub, dict):
                    group.children.append(build_tree(sub, base, name=f"#{index + 1}", path=path,
                                                     kind="alternative", _stack=_stack))
            node.children.append(group)
    if isinstance(schema.get("not"), dict):
        group = Node("not", path, {}, kind="combinator")
        group.children.append(build_tree(schema["not"], base, name="#1", path=path,
                                         kind="alternative", _stack=_stack))
        node.children.append(group)
    return node


def values_at(instance: Any, path: tuple[str, ...]) -> list[tuple[str, Any]]:
    """Every value of ``instance`` at ``path`` as (label, value); ``[]`` and ``*`` fan out."""
    found: list[tuple[str, Any]] = [("", instance)]
    for word in path:
        nxt: list[tuple[str, Any]] = []
        for label, value in found:
            if word == ITEM and isinstance(value, list):
                nxt.extend((f"{label}[{i}]", v) for i, v in enumerate(value))
            elif word == "*" and isinstance(value, dict):
                nxt.extend((f"{label}.{k}", v) for k, v in value.items())
            elif isinstance(value, dict) and word in value:
                nxt.append((label, value[word]))
            elif isinstance(value, list) and word.isdigit() and int(word) < len(value):
                nxt.append((f"{label}[{word}]", value[int(word)]))
        found = nxt
    return found


def _short(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + f"{len(value)} keys" + "}"
    if isinstance(value, list):
        return f"[{len(value)} items]"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 1] + "…"


def _chip_value(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) if value else "[ ]"
    if isinstance(value, dict):
        return "{…} (see source)" if value else "{ }"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class SchemaTable(W.VBox):
    """A JSON schema from the deployment in use, as a tree; optionally beside an instance.

    ``schema`` is a name (``"task-status-response.json"``), a path, a URL, or a dict. The
    deployment is ``root_url``, else the ``queue`` client's, else ``TASKCLUSTER_ROOT_URL``.

    The tree opens ``expand`` levels deep (1: the root's own properties, each folded behind
    ▸). A row that is its parent's only child opens with it, since a fold that hides the one
    thing inside is no overview (``task-status-response.json`` shows ``status``'s fields). Rows
    with validation errors open so the errors show. Fields the instance has are marked ●, fields
    it lacks ○.
    """

    instance = traitlets.Any(None, allow_none=True)

    def __init__(self, schema: str | dict[str, Any], root_url: str | None = None, *,
                 queue: Any = None, instance: Any = None, expand: int = 1, service: str = "queue",
                 **kwargs: Any):
        self.expand = int(expand)
        self.tree: Node | None = None
        self.document: dict[str, Any] | None = None
        self.load_error = ""
        self._header = W.HTML()
        self._body = W.HTML()
        self._source_toggle = W.ToggleButton(value=False, description="show source",
                                             tooltip="the schema exactly as served, as JSON")
        self._source = W.HTML(layout=W.Layout(display="none"))
        self._source_toggle.observe(self._on_source, names="value")
        super().__init__(children=[self._header, self._source_toggle, self._body, self._source],
                         **kwargs)
        self.add_class("tk-widget")
        try:
            self.root_url = root_url_of(queue, root_url)
            if isinstance(schema, dict):
                self.url = S.urldefrag(schema.get("$id") or f"{self.root_url}/schemas/inline.json")[0]
                if self.url.startswith("/"):
                    self.url = self.root_url + self.url
                S.preload(self.url, schema)
            else:
                self.url = S.schema_url(str(schema), self.root_url, service)
            self.document = S.load(self.url)
            self.tree = build_tree(self.document, self.document["$id"])
        except (S.SchemaLoadError, ValueError, TypeError) as error:
            self.load_error = str(error)
        self.instance = instance
        self._render()

    # -- public API ------------------------------------------------------------------------------

    @property
    def rows(self) -> list[Node]:
        """Every row, in display order (pre-order)."""
        return [node for _, node in self.tree.walk()] if self.tree else []

    @property
    def errors(self) -> list[tuple[str, str]]:
        """Validation errors of the instance as (row pointer, message)."""
        return [(node.pointer, msg) for node in self.rows for msg in node.errors]

    def row(self, pointer: str) -> Node | None:
        """The first row at an instance pointer, e.g. ``/status/runs/[]/reasonResolved``."""
        for node in self.rows:
            if node.pointer == pointer and node.kind not in ("combinator", "alternative"):
                return node
        return None

    def follow(self, widget: Any, trait: str = "status", wrap: str | None = "status") -> None:
        """Show another widget's live value as the instance, e.g. ``table.follow(status)``.

        With the defaults a StatusWidget's status becomes ``{"status": ...}``, the shape of
        ``task-status-response.json``; pass ``wrap=None`` to use the value as it is.
        """
        def show(value: Any) -> None:
            self.instance = {wrap: value} if wrap else value

        widget.observe(lambda change: show(change["new"]), names=trait)
        if getattr(widget, trait, None):
            show(getattr(widget, trait))

    def __repr__(self) -> str:
        title = (self.document or {}).get("title", "")
        return f"SchemaTable({title!r}, rows={len(self.rows)}, errors={len(self.errors)})"

    # -- instance and validation -------------------------------------------------------------------

    @traitlets.observe("instance")
    def _on_instance(self, change: dict[str, Any]) -> None:
        if self.tree is not None and self._header.value:
            self._render()

    def _validate(self) -> None:
        for node in self.rows:
            node.errors = []
        if self.tree is None or self.instance is None or self.document is None:
            return
        by_path: dict[tuple[str, ...], Node] = {}
        for node in self.rows:
            if node.kind in ("property", "items", "additional"):
                by_path.setdefault(node.path, node)
        try:
            errors = list(S.validator(self.document).iter_errors(self.instance))
        except Exception as error:  # an unresolvable ref must not break the table
            self.tree.errors.append(f"could not validate: {type(error).__name__}: {error}")
            return
        for error in errors:
            path = tuple(ITEM if isinstance(p, int) else str(p) for p in error.absolute_path)
            message = error.message
            if error.validator == "required" and isinstance(error.instance, dict):
                # jsonschema reports one error per missing key; show each at the key's own row.
                missing = [k for k in error.validator_value if k not in error.instance]
                if missing and all(path + (k,) in by_path for k in missing):
                    for key in missing:
                        _add(by_path[path + (key,)],
                             f"{_index_label([*error.absolute_path, key])}: required, but missing")
                    continue
            where = self._nearest(by_path, path)
            _add(where, message if not error.absolute_path else
                 f"{_index_label(error.absolute_path)}: {message}")

    def _nearest(self, by_path: dict[tuple[str, ...], Node], path: tuple[str, ...]) -> Node:
        while path and path not in by_path:
            path = path[:-1]
        return by_path.get(path, self.tree)

    # -- rendering ------------------------------------------------------------------------------------

    def _render(self) -> None:
        if self.load_error or self.tree is None or self.document is None:
            self._header.value = H.stylesheet() + H.banner(self.load_error or "no schema")
            self._body.value = ""
            return
        self._validate()
        doc = self.document
        self._header.value = (
            H.stylesheet() + '<div class="tk-widget tk-schema-head">'
            f'<div class="tk-title">{H.esc(doc.get("title", ""))}</div>'
            f'<div class="tk-desc">{H.markdown(doc.get("description"))}</div>'
            f'<div class="tk-muted tk-mono">{H.esc(self.url)}</div></div>')
        with_instance = " tk-with-instance" if self.instance is not None else ""
        self._body.value = (f'<div class="tk-widget tk-schema{with_instance}" role="tree">'
                            f'{self._node_html(self.tree, 0)}</div>')
        if self._source_toggle.value:
            self._source.value = H.pretty_json(self.document)

    def _on_source(self, change: dict[str, Any]) -> None:
        if change["new"]:
            self._source.value = H.pretty_json(self.document)
            self._source.layout.display = ""
            self._source_toggle.description = "hide source"
        else:
            self._source.layout.display = "none"
            self._source_toggle.description = "show source"

    def _node_html(self, node: Node, depth: int, only_child: bool = False) -> str:
        row = self._row_html(node, root=depth == 0)
        if not node.children:
            return f'<div class="tk-leaf" role="treeitem">{row}</div>'
        opened = (" open" if depth < self.expand or only_child or node.errors
                  or self._child_errors(node) else "")
        alone = len(node.children) == 1 and bool(opened)
        inner = "".join(self._node_html(child, depth + 1, alone) for child in node.children)
        return (f'<details{opened} role="treeitem"><summary>{row}</summary>'
                f'<div role="group">{inner}</div></details>')

    def _child_errors(self, node: Node) -> bool:
        return any(n.errors for _, n in node.walk() if n is not node)

    def _row_html(self, node: Node, root: bool = False) -> str:
        schema = node.schema
        left = []
        if node.kind == "combinator":
            left.append(f'<span class="tk-muted">// {H.esc(node.name)}</span>')
        else:
            left.append(f'<code>{H.esc(node.name or "(root)")}</code>')
            if node.required:
                left.append('<span class="tk-required" title="required property" '
                            'aria-label="required">*</span>')
            for t in node.types:
                left.append(f'<span class="tk-chip tk-type">{H.esc(t)}</span>')
            if node.ref:
                left.append(f'<span class="tk-chip tk-muted tk-ref" title="{H.esc(node.ref)}">'
                            f'$ref {_ref_label(node.ref)}</span>')
        middle = []
        if node.kind in ("error", "recursive"):
            middle.append(f'<span class="tk-error">{H.esc(node.message)}</span>')
        # the root's title and description are the header's already
        if schema.get("title") and not root:
            middle.append(f'<b>{H.esc(schema["title"])}</b>')
        if schema.get("description") and node.kind != "combinator" and not root:
            middle.append(f'<div class="tk-desc">{H.markdown(schema["description"])}</div>')
        chips = [f'<span class="tk-chip">{H.esc(k)}: {H.esc(_chip_value(v))}</span>'
                 for k, v in schema.items()
                 if k not in _NOT_CHIPS and not k.startswith("_") and node.kind != "combinator"]
        middle.append("".join(chips))
        right = []
        if self.instance is not None and node.kind in ("property", "items", "additional"):
            values = values_at(self.instance, node.path)
            if values:
                shown = ", ".join(f"{label} {_short(v)}".strip() for label, v in values[:8])
                more = f" … (+{len(values) - 8})" if len(values) > 8 else ""
                right.append(f'<span class="tk-present" aria-label="present" '
                             f'title="your instance has this field">●</span> '
                             f'<span class="tk-value">{H.esc(shown + more)}</span>')
            else:
                right.append('<span class="tk-muted" aria-label="absent">○ absent</span>')
        for message in node.errors:
            right.append(f'<div class="tk-error" role="alert">✖ {H.esc(message)}</div>')
        return (f'<div class="tk-row" data-path="{H.esc(node.pointer)}" '
                f'data-kind="{H.esc(node.kind)}">'
                f'<div>{" ".join(left)}</div><div>{"".join(middle)}</div>'
                f'<div>{"".join(right)}</div></div>')


def _ref_label(ref: str) -> str:
    """``task.json#/properties/expires`` for a long absolute ref (the title has it all), with
    line-break opportunities after each ``/`` so a narrow column wraps it between words."""
    url, _, fragment = ref.partition("#")
    label = url.rsplit("/", 1)[-1] + (f"#{fragment}" if fragment else "")
    return "/<wbr>".join(H.esc(part) for part in label.split("/"))


def _add(node: Node, message: str) -> None:
    if message not in node.errors:
        node.errors.append(message)


def _index_label(path: Any) -> str:
    return "/" + "/".join(str(p) for p in path)
