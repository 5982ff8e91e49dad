"""A job's plan (`jobs plan`, `jars plan`): a tree of chained operators, or Graphviz DOT."""

from __future__ import annotations

from typing import Any

from flinkctl.flink import objects
from flinkctl.output.formats import OutputFormat
from flinkctl.output.humanize import text
from flinkctl.output.render import Page, Settings, View, render
from flinkctl.output.streams import IO


def _plan(body: dict) -> dict:
    """The plan of a `{"plan": {...}}` body (GET /jobs/:jobid/plan, POST /jars/:jarid/plan)."""
    plan = body.get("plan", body) if isinstance(body, dict) else {}
    return plan if isinstance(plan, dict) else {}


def operator_lines(node: dict) -> list[str]:
    """A plan node's chained operators, from its HTML-ish description ("A<br/>+- B<br/>")."""
    desc = str(node.get("description") or node.get("operator") or node.get("id") or "")
    lines = desc.replace("<br/>", "\n").splitlines()
    lines = [ln.strip().removeprefix("+-").strip() for ln in lines]
    return [ln for ln in lines if ln] or [str(node.get("id"))]


def _downstream(nodes: list[dict]) -> dict[str, list[tuple[dict, dict]]]:
    """node id -> [(consumer node, input edge)]."""
    children: dict[str, list[tuple[dict, dict]]] = {}
    for node in nodes:
        for edge in objects(node.get("inputs")):
            children.setdefault(str(edge.get("id")), []).append((node, edge))
    return children


def _plan_tree(body: dict, page: Page) -> None:
    plan = _plan(body)
    nodes = objects(plan.get("nodes"))
    children = _downstream(nodes)
    sources = [n for n in nodes if not n.get("inputs")]
    seen: set[str] = set()

    def label(node: dict, edge: dict | None) -> str:
        parts = [f"{edge.get('ship_strategy') or '?'} -> "] if edge else []
        parts.append(" -> ".join(operator_lines(node)))
        parts.append(f"  (parallelism {text(node.get('parallelism'))}")
        if page.wide:
            parts.append(f", id {node.get('id')}")
            if edge and edge.get("exchange"):
                parts.append(f", exchange {edge['exchange']}")
        parts.append(")")
        if str(node.get("id")) in seen:
            parts.append(" (see above)")
        return "".join(parts)

    def walk(node: dict, edge: dict | None, depth: int, add) -> None:
        add(label(node, edge), depth)
        node_id = str(node.get("id"))
        if node_id in seen:
            return
        seen.add(node_id)
        for child, child_edge in children.get(node_id, []):
            walk(child, child_edge, depth + 1, add)

    title = f"{plan.get('name') or '-'} ({plan.get('type') or '-'})"
    if not page.terminal:
        page.out(title)
        for src in sources:
            walk(src, None, 1, lambda line, depth: page.out("  " * depth + line))
        return
    from rich.markup import escape
    from rich.tree import Tree

    tree = Tree(f"[bold]{escape(title)}[/bold]")
    stack = [tree]

    def add(line: str, depth: int) -> None:
        del stack[depth:]
        stack.append(stack[-1].add(escape(line)))

    for src in sources:
        walk(src, None, 1, add)
    page.console().print(tree)


PLAN = View(table=_plan_tree, rows=lambda d: _plan(d).get("nodes") or [], name="id")


def _dot_string(value: Any) -> str:
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def plan_dot(body: dict) -> str:
    """The plan of BODY as a Graphviz digraph (`... -o dot | dot -Tpng > plan.png`)."""
    plan = _plan(body)
    lines = [
        f"digraph {_dot_string(plan.get('name') or 'plan')} {{",
        "  rankdir=LR;",
        '  node [shape=box, fontname="Helvetica"];',
        '  edge [fontname="Helvetica", fontsize=10];',
    ]
    nodes = objects(plan.get("nodes"))
    for node in nodes:
        label = "\n".join([*operator_lines(node), f"parallelism {text(node.get('parallelism'))}"])
        lines.append(f"  {_dot_string(node.get('id'))} [label={_dot_string(label)}];")
    for node in nodes:
        for edge in objects(node.get("inputs")):
            lines.append(
                f"  {_dot_string(edge.get('id'))} -> {_dot_string(node.get('id'))}"
                f" [label={_dot_string(edge.get('ship_strategy') or '')}];"
            )
    lines.append("}")
    return "\n".join(lines)


def render_plan(body: dict, settings: Settings, io: IO) -> None:
    """A plan on IO as PLAN renders it, or with `-o dot` (see `with_output(extra=...)`) as DOT."""
    if settings.format is OutputFormat.DOT:
        io.line(plan_dot(body))
    else:
        render(body, PLAN, settings, io)
