"""The examples the project shows are run: docstring examples (``>>>``) of every module in
``src/trialdesk`` and the fenced ``python`` blocks of README.md and docs/*.md.

Conventions for a ``python`` block in the docs:

- a block of ``>>>`` lines is a doctest: its output is checked;
- any other block is run as code and must not raise;
- ``<!-- example: database -->`` on the line above a block: the file's examples run with
  an empty test database (they may import the seed records from ``protocols/``);
- ``<!-- example: not run (why) -->`` on the line above a block: shown, not run (a sketch
  with names to fill in, for instance); the reason is required.

The blocks of one file run in order, in one namespace, from the repository root.
"""

from __future__ import annotations

import ast
import doctest
import importlib
import pkgutil
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

import trialdesk

REPO = Path(__file__).resolve().parent.parent
DOCS = sorted([REPO / "README.md", *(REPO / "docs").rglob("*.md")])
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
MARK = re.compile(r"<!--\s*example:\s*(.*?)\s*-->", re.S)


# --------------------------------------------------------------------------- docstrings


def modules_with_examples() -> list[str]:
    """trialdesk modules whose source has a docstring with a ``>>>`` example (read from the
    AST, so collecting this test imports nothing)."""
    found = []
    for info in pkgutil.walk_packages(trialdesk.__path__, "trialdesk."):
        if info.name.endswith("__main__"):
            continue
        spec = importlib.util.find_spec(info.name)
        source = Path(spec.origin).read_text(encoding="utf-8")
        tree = ast.parse(source)
        nodes = [tree, *(n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef,
                 ast.AsyncFunctionDef, ast.ClassDef)))]  # fmt: skip
        if any(">>>" in (ast.get_docstring(n, clean=False) or "") for n in nodes):
            found.append(info.name)
    return found


MODULES = modules_with_examples()


def test_the_docstring_examples_are_found():
    # The two known ones (a missed module would make the test below pass vacuously).
    assert {"trialdesk.dosefinding.design", "trialdesk.dosefinding.outcomes"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    tests = [t for t in doctest.DocTestFinder().find(module) if t.examples]
    assert tests, f"{name}: a '>>>' docstring that doctest does not find"
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    report: list[str] = []
    for test in tests:
        runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)


# --------------------------------------------------------------------------- docs


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # 1-based line of the opening fence
    code: str
    mark: str  # "" (run), "database", or "not run (why)"

    @property
    def where(self) -> str:
        path = self.path.relative_to(REPO) if self.path.is_relative_to(REPO) else self.path
        return f"{path}:{self.line}"


def python_blocks(path: Path) -> list[Block]:
    """The fenced ``python`` blocks of a Markdown file, each with the example mark of the
    HTML comment right above it (CommonMark parsing by markdown-it)."""
    tokens = MarkdownIt("commonmark").parse(path.read_text(encoding="utf-8"))
    blocks = []
    for i, token in enumerate(tokens):
        if token.type != "fence" or token.info.split()[:1] != ["python"]:
            continue
        mark = ""
        before = tokens[i - 1] if i else None
        if before is not None and before.type == "html_block":
            found = MARK.fullmatch(before.content.strip())
            if found:
                mark = found.group(1)
        blocks.append(Block(path, token.map[0] + 1, token.content, mark))
    return blocks


def check_marks(blocks: list[Block]) -> list[str]:
    bad = []
    for block in blocks:
        if block.mark in ("", "database"):
            continue
        if not re.fullmatch(r"not run \(.+\)", block.mark):
            bad.append(f"{block.where}: unknown example mark {block.mark!r} (expected "
                       "'database' or 'not run (why)')")  # fmt: skip
    return bad


def run_blocks(blocks: list[Block]) -> list[str]:
    """Run the blocks in order in one namespace; returns the failures' reports."""
    namespace: dict = {"__name__": "__docs__"}
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    failures = []
    for block in blocks:
        if block.mark.startswith("not run"):
            continue
        if ">>>" in block.code:
            test = parser.get_doctest(block.code, namespace, block.where, str(block.path),
                                      block.line)  # fmt: skip
            report: list[str] = []
            before = runner.failures
            runner.run(test, out=report.append, clear_globs=False)
            if runner.failures != before:
                failures.append("".join(report))
            namespace = test.globs
        else:
            try:
                exec(compile(block.code, block.where, "exec"), namespace)
            except Exception as exc:
                failures.append(f"{block.where}: {type(exc).__name__}: {exc}")
    return failures


def doc_params() -> list:
    """A parameter per file with ``python`` blocks; a file with a ``database`` block runs
    under ``django_db`` (so in the PostgreSQL run too)."""
    params = []
    for path in DOCS:
        blocks = python_blocks(path)
        if blocks:
            marks = [pytest.mark.django_db] if any(b.mark == "database" for b in blocks) else []
            params.append(pytest.param(path, marks=marks, id=str(path.relative_to(REPO))))
    return params


@pytest.mark.parametrize("path", doc_params())
def test_docs_python_blocks_run(path, monkeypatch):
    blocks = python_blocks(path)
    assert check_marks(blocks) == []
    monkeypatch.chdir(REPO)
    failures = run_blocks(blocks)
    assert not failures, "\n".join(failures)


def test_the_docs_runner_checks_output_and_marks(tmp_path):
    # A made-up page: a wrong output, a raising block, a skipped one and a bad mark.
    page = tmp_path / "page.md"
    page.write_text(
        "Text.\n\n```python\n>>> x = 1 + 1\n>>> x\n3\n```\n\n"
        "```python\ny = x * 2\nraise ValueError(y)\n```\n\n"
        "<!-- example: not run (a sketch) -->\n```python\nundefined_name\n```\n\n"
        "<!-- example: maybe -->\n```python\nz = 1\n```\n\n```sh\nexit 1\n```\n",
        encoding="utf-8",
    )
    blocks = python_blocks(page)
    assert [(b.line, b.mark) for b in blocks] == [
        (3, ""), (9, ""), (15, "not run (a sketch)"), (20, "maybe")
    ]  # fmt: skip
    failures = run_blocks(blocks)
    assert len(failures) == 2
    assert "Expected:\n    3\nGot:\n    2" in failures[0]
    assert failures[1].endswith("page.md:9: ValueError: 4")
    assert check_marks(blocks) == [
        f"{page}:20: unknown example mark 'maybe' (expected 'database' or 'not run (why)')"
    ]
