"""The house plan's layering, pinned (docs/architecture.md):

- imports run one way, down ``LAYERS`` (cli/web -> registry -> eligibility -> protocol ->
  clinical; conduct beside registry in the shell), read from every module's AST, so an
  import inside a function counts too;
- the pure core imports no Django, neither in its own source nor through anything it
  imports (each module is imported in a fresh interpreter where Django cannot load);
- no underscore name is imported from another module, and no underscore module from
  outside its own package.

A new package under ``src/trialdesk`` must be given a layer here (a test says so).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import trialdesk

SRC = Path(trialdesk.__file__).resolve().parent.parent
PACKAGE = SRC / "trialdesk"

#: trialdesk's packages from the top of the import chain down. A module may import its own
#: package and the packages of any lower layer, never a package of its own layer or above.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("cli",),  # the one `trialdesk` command
    ("web",),  # settings, urls, base templates: mounts the apps below
    ("cellproduct",),  # Django app: donor, cord, lot, dose unit; links doses to conduct
    ("conduct",),  # Django app that runs a trial; it may read the registry
    ("registry",),  # Django app: listings, search, prescreener
    ("interop",),  # pure core: CT.gov records, FHIR, CDISC exports (built from analysis)
    ("analysis", "product"),  # pure core: endpoints, safety, plots; cell product rules
    ("eligibility",),  # pure core: rules on patients and cohorts, FHIR patients
    ("protocol",),  # pure core: the trial's record and protocol.yaml
    ("dosefinding", "clinical"),  # pure core: designs; units, scores, CTCAE
)

#: The packages that must never import Django (ARCHITECTURE.md, "Two layers").
PURE_CORE = ("analysis", "product", "interop", "eligibility", "protocol", "dosefinding", "clinical")
#: Shell modules that must not import Django either: the registry's version stamp is read
#: by the search engines and the text index without the models (no import cycle).
DJANGO_FREE_SHELL = ("registry/stamp.py",)

RANK = {name: rank for rank, layer in enumerate(LAYERS) for name in layer}


def package_names(root: Path = PACKAGE) -> list[str]:
    """The sub-packages of trialdesk present on disk (folders with ``__init__.py``)."""
    return sorted(p.parent.name for p in root.glob("*/__init__.py"))


def module_files(root: Path = PACKAGE, package: str | None = None) -> list[Path]:
    """Every module file of the importable packages (a folder without ``__init__.py``, such
    as ``interop/data``, holds data and scripts, not modules)."""

    def importable(path: Path) -> bool:
        folder = path.parent
        while (folder / "__init__.py").is_file():
            if folder == root:
                return True
            folder = folder.parent
        return False

    return sorted(p for p in (root / package if package else root).rglob("*.py") if importable(p))


def module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, root: Path = PACKAGE):
    """(line, imported module, imported names) of every import in the file, at any depth;
    relative imports resolved against the module's package."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, ()
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, module] if module else base)
            yield node.lineno, module, tuple(a.name for a in node.names)


def upward_imports(root: Path = PACKAGE) -> list[str]:
    """'file:line: pkg imports other (layer ...)' for each import against ``LAYERS``."""
    found = []
    for path in module_files(root):
        own = module_name(path, root).split(".")
        if len(own) < 2:
            continue
        for line, module, names in imports_of(path, root):
            parts = module.split(".")
            if parts[0] != root.name:
                continue
            # ``from trialdesk import registry`` names the package in the imported names.
            targets = [parts[1]] if len(parts) > 1 else [n for n in names if n in RANK]
            for target in targets:
                if target == own[1]:
                    continue
                if RANK[target] <= RANK[own[1]]:
                    where = path.relative_to(root.parent)
                    found.append(
                        f"{where}:{line}: {own[1]} imports {module or target} "
                        f"({target} is not below {own[1]} in LAYERS)"
                    )
    return found


def django_in_source(packages=PURE_CORE, root: Path = PACKAGE) -> list[str]:
    found = []
    for package in packages:
        if not (root / package).is_dir():
            continue
        for path in module_files(root, package):
            for line, module, _ in imports_of(path, root):
                if module.split(".")[0] == "django":
                    found.append(f"{path.relative_to(root.parent)}:{line}: imports {module}")
    return found


def private_imports(root: Path = PACKAGE) -> list[str]:
    """Imports of an underscore name from another module, or of an underscore module from
    outside the package that holds it (a package's own modules may share a private one)."""
    found = []
    for path in module_files(root):
        importer = module_name(path, root)
        for line, module, names in imports_of(path, root):
            where = f"{path.relative_to(root.parent)}:{line}"
            for name in names:
                if name.startswith("_") and not name.startswith("__"):
                    found.append(f"{where}: imports {name} from {module}")
            parts = module.split(".")
            for i, part in enumerate(parts):
                owner = ".".join(parts[:i])
                private = part.startswith("_") and not part.startswith("__")
                if private and not (importer == owner or importer.startswith(owner + ".")):
                    found.append(f"{where}: imports {module}, private to {owner}")
    return found


def test_every_package_has_a_layer():
    undeclared = [name for name in package_names() if name not in RANK]
    assert not undeclared, f"give {undeclared} a layer in tests/test_layering.py LAYERS"
    assert set(PURE_CORE) <= set(RANK)


def test_imports_run_down_the_layers():
    assert upward_imports() == []


def test_the_pure_core_names_no_django_in_its_source():
    assert django_in_source() == []


def test_the_registry_stamp_names_no_django_and_imports_without_it():
    for relative in DJANGO_FREE_SHELL:
        path = PACKAGE / relative
        assert [m for _, m, _ in imports_of(path) if m.split(".")[0] == "django"] == []
        out = subprocess.run(
            [sys.executable, "-c", NO_DJANGO, module_name(path)],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(SRC)},
            timeout=120,
        )
        assert json.loads(out.stdout.strip().splitlines()[-1]) == {"failed": {}, "django": []}


def test_no_private_name_is_imported_across_modules():
    assert private_imports() == []


def signals_connected_outside_app_configs(root: Path = PACKAGE) -> list[str]:
    """Signal connections (``x.connect(...)`` or ``@receiver``) in a module other than an
    app's ``apps.py``: receivers are connected in ``AppConfig.ready()``, so importing a
    models module never wires behaviour (nor imports what the receivers need)."""
    found = []
    for path in module_files(root):
        if path.name == "apps.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            func = node.func if isinstance(node, ast.Call) else None
            name = getattr(func, "attr", None) or getattr(func, "id", None)
            if name in ("connect", "receiver") and not _is_unrelated_connect(func):
                found.append(f"{path.relative_to(root.parent)}:{node.lineno}: {name}")
    return found


def _is_unrelated_connect(func) -> bool:
    """``sqlite3.connect`` and ``psycopg.connect`` open databases; they are not signals."""
    owner = getattr(func, "value", None)
    return getattr(owner, "id", None) in ("sqlite3", "psycopg", "duckdb")


def test_signal_receivers_are_connected_in_app_configs():
    assert signals_connected_outside_app_configs() == []


def test_the_checks_name_the_offending_module_and_line(tmp_path):
    # A made-up tree with one of each fault, so the checks above can fail.
    root = tmp_path / "trialdesk"
    for package in ("protocol", "eligibility", "registry"):
        (root / package).mkdir(parents=True)
        (root / package / "__init__.py").write_text("")
    (root / "__init__.py").write_text("")
    (root / "protocol" / "loader.py").write_text(
        "import json\n\n\ndef f():\n    from trialdesk.registry.models import Trial\n"
    )
    (root / "protocol" / "_units.py").write_text("from ..eligibility import screen\n")
    (root / "eligibility" / "screen.py").write_text(
        "from trialdesk.protocol._units import x\nfrom trialdesk.protocol.loader import _f\n"
        "import django.db\n"
    )
    assert upward_imports(root) == [
        "trialdesk/protocol/_units.py:1: protocol imports trialdesk.eligibility "
        "(eligibility is not below protocol in LAYERS)",
        "trialdesk/protocol/loader.py:5: protocol imports trialdesk.registry.models "
        "(registry is not below protocol in LAYERS)",
    ]
    assert django_in_source(root=root) == ["trialdesk/eligibility/screen.py:3: imports django.db"]
    (root / "registry" / "models.py").write_text(
        "from django.db.models import signals\n\nsignals.post_save.connect(print)\n"
    )
    assert signals_connected_outside_app_configs(root) == [
        "trialdesk/registry/models.py:3: connect"
    ]
    assert private_imports(root) == [
        "trialdesk/eligibility/screen.py:1: imports trialdesk.protocol._units, "
        "private to trialdesk.protocol",
        "trialdesk/eligibility/screen.py:2: imports _f from trialdesk.protocol.loader",
    ]


#: Run in a fresh interpreter: Django made unimportable, then every module named on the
#: command line imported; prints {module: error} for those that failed.
NO_DJANGO = """
import importlib, json, sys

class NoDjango:
    def find_spec(self, name, path=None, target=None):
        if name == "django" or name.startswith("django."):
            raise ImportError(f"the pure core imported {name}")

sys.meta_path.insert(0, NoDjango())
failed = {}
for module in sys.argv[1:]:
    try:
        importlib.import_module(module)
    except Exception as exc:
        failed[module] = f"{type(exc).__name__}: {exc}"
loaded = sorted(m for m in sys.modules if m == "django" or m.startswith("django."))
print(json.dumps({"failed": failed, "django": loaded}))
"""


@pytest.mark.parametrize("package", [p for p in PURE_CORE if (PACKAGE / p).is_dir()])
def test_the_pure_core_imports_without_django(package):
    modules = [module_name(p) for p in module_files(PACKAGE, package)]
    assert modules, f"no modules found in trialdesk.{package}"
    out = subprocess.run(
        [sys.executable, "-c", NO_DJANGO, *modules],
        capture_output=True,
        text=True,
        cwd=SRC.parent,
        env={**os.environ, "PYTHONPATH": str(SRC), "MPLBACKEND": "Agg"},
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"failed": {}, "django": []}
