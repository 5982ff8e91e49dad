"""Generate the man pages and docs/reference.md from the command tree.

`scripts/gen-docs` writes them; `scripts/gen-docs --check` lists stale files and exits 1.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any


def outputs(repo: Path, root: Any = None) -> dict[Path, str]:
    """Every generated file under REPO and its content (ROOT: the click command, for tests)."""
    from flinkctl.docgen import man, reference
    from flinkctl.docgen.tree import load

    tree = load(root)
    out = {repo / "man" / "flinkctl.1": man.main_page(tree)}
    for group in man.groups(tree):
        out[repo / "man" / f"flinkctl-{group.name}.1"] = man.group_page(group)
    out[repo / reference.PATH] = reference.page(tree)
    return out


def stale(repo: Path, root: Any = None) -> tuple[dict[Path, str], list[Path]]:
    """(files whose content differs from the generated one, man pages no longer generated)."""
    wanted = outputs(repo, root)
    changed = {
        p: text
        for p, text in wanted.items()
        if not p.exists() or p.read_text(encoding="utf-8") != text
    }
    extra = sorted(p for p in (repo / "man").glob("*.1") if p not in wanted)
    return changed, extra


def main(argv: list[str] | None, repo: Path, root: Any = None) -> int:
    """`gen-docs [--check]` for the checkout at REPO; returns the exit code."""
    import argparse

    parser = argparse.ArgumentParser(prog="gen-docs", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="list stale files, write nothing")
    args = parser.parse_args(argv)
    changed, extra = stale(repo, root)
    names = [p.relative_to(repo) for p in [*changed, *extra]]
    if args.check:
        for name in names:
            print(f"stale: {name}", file=sys.stderr)
        if names:
            print("run scripts/gen-docs to regenerate", file=sys.stderr)
        return 1 if names else 0
    for path, text in changed.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for path in extra:
        path.unlink()
    for name in names:
        print(f"updated {name}", file=sys.stderr)
    return 0
