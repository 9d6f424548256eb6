"""Every SQL, shell and Python example of README.md, README.ko.md and docs/*.md runs as written, against a built
warehouse (the session's offline `make run`, tests/conftest.py built_template).

- A fenced block tagged sql, sh, bash, console or python is an example. One that cannot run here carries
  `<!-- example: not-run (why) -->` on the line just above it; the reason is required, and any test file it
  names must exist.
- SQL runs statement by statement on the published copy, opened read-only; the last statement must return rows.
- Shell and Python examples run as a subprocess in a folder laid out like the clone after `make run`: `.venv`,
  `Makefile`, `pyproject.toml` and `requirements.lock` linked from the project, `warehouse/data/` the build's copy,
  and WAREHOUSE_PATH and DAGSTER_HOME pointing there (as conftest's make() sets them). So the examples need no
  placeholder: their relative paths (`warehouse/data/published.duckdb`, `.venv/bin/duckdb`) are the clone's.
"""

from __future__ import annotations

import os
import re
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
import yaml

from pipelines.terms import DATA_TERMS
from tests.conftest import Built, make
from warehouse.backend import EXTENSION_WHEELS, extension_file, load_lake_extensions

PROJECT = Path(__file__).resolve().parent.parent
DOCUMENTS = [PROJECT / "README.md", PROJECT / "README.ko.md", *sorted((PROJECT / "docs").glob("*.md"))]
SHELL = {"sh", "bash", "console"}
RUN = SHELL | {"sql", "python"}
NOT_RUN = re.compile(r"<!--\s*example:\s*not-run\s*(?:\((?P<why>.*)\))?\s*-->")
FENCE = re.compile(r"^```(?P<lang>[\w-]*)\s*$")


@dataclass(frozen=True)
class Example:
    doc: str  # relative to the project
    line: int  # of the opening fence
    lang: str
    code: str
    not_run: str | None  # the reason given, None for an example that runs

    def __str__(self) -> str:
        return f"{self.doc}:{self.line}"

    def commands(self) -> list[str]:
        """The command lines, without comments, blank lines or console prompts (a continued line joined)."""
        lines = [ln[2:] if self.lang == "console" and ln.startswith("$ ") else ln for ln in self.code.splitlines()
                 if not (self.lang == "console" and not ln.startswith("$ "))]
        joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
        return [" ".join(ln.split()) for ln in joined.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]


def examples_of(path: Path) -> list[Example]:
    found: list[Example] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        lang = opening["lang"]
        if lang in RUN:
            marker = NOT_RUN.search(lines[i - 1]) if i else None
            found.append(Example(str(path.relative_to(PROJECT)), i + 1, lang, "\n".join(lines[i + 1:end]) + "\n",
                                 None if marker is None else (marker["why"] or "").strip()))
        i = end + 1
    return found


EXAMPLES = [e for doc in DOCUMENTS for e in examples_of(doc)]
RUNNABLE = [e for e in EXAMPLES if e.not_run is None]


def test_every_example_runs_or_says_why_not() -> None:
    langs = [e.lang for e in RUNNABLE]
    # the documents' examples as written today: three kinds run (so this test cannot pass by finding none)
    assert langs.count("sql") >= 3 and sum(lang in SHELL for lang in langs) >= 3 and "python" in langs, langs
    markers = sum(len(NOT_RUN.findall(doc.read_text(encoding="utf-8"))) for doc in DOCUMENTS)
    skipped = [e for e in EXAMPLES if e.not_run is not None]
    assert markers == len(skipped), "a not-run marker must be the line just above its example's fence"
    for example in skipped:
        assert len(example.not_run) >= 20, f"{example}: say why it is not run"
        for named in re.findall(r"tests/[\w/]+\.py(?:::\w+)?", example.not_run):
            file, _, test = named.partition("::")
            assert (PROJECT / file).is_file(), f"{example}: {file} does not exist"
            if test:
                assert f"def {test}(" in (PROJECT / file).read_text(encoding="utf-8"), f"{example}: no {named}"


@pytest.mark.parametrize("example", [e for e in RUNNABLE if e.lang == "sql"], ids=str)
def test_sql_example_returns_rows(example: Example, built_template: Built) -> None:
    con = duckdb.connect(str(built_template.published), read_only=True)
    try:
        rows = None
        for statement in duckdb.extract_statements(example.code):
            rows = con.execute(statement.query).fetchall()
    finally:
        con.close()
    assert rows, f"{example}: the example returns no row on the offline build"


def clone_of(built: Built, root: Path) -> tuple[Path, dict[str, str]]:
    """A folder laid out like the clone after `make run` (see the module docstring) and the user's environment."""
    clone = root / "clone"
    (clone / "warehouse").mkdir(parents=True)
    for name in (".venv", "Makefile", "pyproject.toml", "requirements.lock"):
        (clone / name).symlink_to(PROJECT / name)
    (clone / "warehouse" / "data").symlink_to(built.data, target_is_directory=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KOSIS_", "WAREHOUSE_", "DAGSTER_"))}
    env.update(WAREHOUSE_PATH=str(clone / "warehouse" / "data" / "warehouse.duckdb"), DAGSTER_HOME=str(built.home),
               WAREHOUSE_LOCK_TIMEOUT_S="10")
    return clone, env


def run_example(example: Example, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    if example.lang == "python":
        command, stdin = [str(PROJECT / ".venv" / "bin" / "python"), "-"], example.code
    else:
        command, stdin = ["bash", "-e", "-o", "pipefail", "-c", "\n".join(example.commands())], None
    return subprocess.run(command, cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("example", [e for e in RUNNABLE if e.lang != "sql"], ids=str)
def test_shell_and_python_example_runs_in_the_clone(example: Example, built_copy: Built, tmp_path: Path) -> None:
    clone, env = clone_of(built_copy, tmp_path)
    proc = run_example(example, clone, env)
    assert proc.returncode == 0, f"{example}:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    assert proc.stdout.strip(), f"{example} printed nothing"
    if "load_lake_extensions" in example.code:  # the README's lines that load the DuckLake extensions
        assert "[('ducklake',), ('postgres_scanner',)]" in proc.stdout, proc.stdout
    if "make export" in example.commands():
        assert "TERMS.txt" in proc.stdout.split() and "MANIFEST.txt" in proc.stdout.split(), proc.stdout


def test_the_query_make_run_prints_runs_verbatim(built_template: Built) -> None:
    """Both lines of the summary's example (.venv/bin/duckdb and .venv/bin/python), pasted into a shell where
    `make run` ran (the project)."""
    printed = [ln.split(": ", 1)[1] for ln in built_template.stdout.splitlines()
               if ln.startswith(("Example: ", "   or: "))]
    assert len(printed) == 2 and printed[0].startswith(".venv/bin/duckdb -readonly "), printed
    for line in printed:
        proc = subprocess.run(["bash", "-c", line], cwd=PROJECT, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, f"{line}\n{proc.stderr}"
        assert "worker_rank" in proc.stdout and "73.7" in proc.stdout, proc.stdout  # Table 2's national row


def test_the_lake_extensions_load_from_the_wheels_without_network() -> None:
    """What the README's DuckLake lines do: the helper loads both extensions from the installed wheels; DuckDB's
    extension repository is pointed at nothing, so a download could not have happened."""
    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    try:
        con.execute("SET custom_extension_repository = 'file:///nonexistent-extension-repository'")
        assert all(extension_file(name) is not None for name in EXTENSION_WHEELS)
        load_lake_extensions(con)
        loaded = con.execute("SELECT extension_name, install_path FROM duckdb_extensions() WHERE loaded "
                             "AND extension_name IN ('ducklake', 'postgres_scanner') ORDER BY 1").fetchall()
    finally:
        con.close()
    assert [name for name, _ in loaded] == ["ducklake", "postgres_scanner"]


def latest_release(changelog: str) -> tuple[str, str]:
    version, date = re.search(r"^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$", changelog, re.M).groups()
    return version, date


def test_one_version_in_make_run_pyproject_citation_and_changelog(built_template: Built) -> None:
    lines = built_template.stdout.splitlines()
    success = next(i for i, ln in enumerate(lines) if ln.startswith("Dagster run ") and ": SUCCESS" in ln)
    name, printed = lines[success + 1].split(" ")  # the summary's first line
    project = tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    citation = yaml.safe_load((PROJECT / "CITATION.cff").read_text(encoding="utf-8"))
    released, date = latest_release((PROJECT / "CHANGELOG.md").read_text(encoding="utf-8"))
    assert name == project["name"]
    assert printed == project["version"] == citation["version"] == released
    assert str(citation["date-released"]) == date
    assert citation["license"] == "MIT" and "MIT License" in (PROJECT / "LICENSE").read_text(encoding="utf-8")


def normalized(text: str) -> str:
    return " ".join(text.split())


def test_the_data_terms_are_in_the_readme_and_in_every_export(built_copy: Built, tmp_path: Path) -> None:
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Data terms and attribution\n", 1)[1].split("\n## ", 1)[0]
    assert normalized(DATA_TERMS) in normalized(section)
    citation = yaml.safe_load((PROJECT / "CITATION.cff").read_text(encoding="utf-8"))
    paper = citation["references"][0]
    assert normalized(paper["title"]) in normalized(DATA_TERMS) and paper["year"] == 2013
    proc = make("export", built_copy.root)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    terms = (built_copy.data / "exports" / "TERMS.txt").read_text(encoding="utf-8")
    assert normalized(DATA_TERMS) in normalized(terms)
    # offline, the only KOSIS-form bodies are the paper's own figures: no KOSIS table is named for attribution
    assert "none: no KOSIS table was loaded" in terms and "출처: 통계청 KOSIS, PAPER" not in terms


def makefile_targets() -> set[str]:
    text = (PROJECT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([A-Za-z][\w.-]*)\s*:(?!=)", text, re.M))


def test_the_korean_quick_start_keeps_in_step_with_the_readme_and_the_makefile() -> None:
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    korean = (PROJECT / "README.ko.md").read_text(encoding="utf-8")
    assert "(README.ko.md)" in "\n".join(readme.splitlines()[:5]), "README.md links the Korean quick start at its top"
    named = set(re.findall(r"\bmake ([a-z][\w-]*)", korean))
    assert {"run", "export", "refresh"} <= named
    assert not named - makefile_targets(), f"not in the Makefile: {sorted(named - makefile_targets())}"
    readme_text = normalized(readme)
    blocks = examples_of(PROJECT / "README.ko.md")
    assert blocks
    for block in blocks:
        if block.not_run is None:
            continue  # run by test_sql_example_returns_rows / test_shell_and_python_example_runs_in_the_clone
        missing = [c for c in block.commands() if c not in readme_text]
        assert not missing, f"{block}: commands not in README.md: {missing}"
