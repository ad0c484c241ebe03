"""`make mutate`: mutation testing of the core with mutmut, one group of modules at a time, each mutant tried
against its group's fast tests only (mutmut narrows them further to the tests that run the mutated function).

The groups, their files and their tests are in pyproject.toml under [tool.llm-usage.mutate]; a group is one
table, so a module joins the run by adding a `[[tool.llm-usage.mutate.groups]]`. Every group runs in a scratch
copy of the sources outside the working tree (mutmut writes its mutants/ beside the pyproject it reads, and
other work in this tree must never import a mutant), against one embedded PostgreSQL whose template1 is
migrated once: each mutant's test session then creates its database already at head in milliseconds.

    python tests/mutation/run.py [--workers N] [--group NAME ...] [--workdir DIR] [--report PATH]
    python tests/mutation/run.py --rerun DIR    # after adding tests: try again only what survived in DIR
    python tests/mutation/run.py --group export --mutants 'service.export_slots.*'   # only these (fnmatch)
"""

from __future__ import annotations

import argparse
import asyncio
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.mutation.report import KILLED, GroupResult, status, write_report  # noqa: E402

SKIPPED = shutil.ignore_patterns("__pycache__", "*.egg-info", ".*", "mutants", "node_modules")
SOURCE_PATHS = ("modules", "service", "llm_usage_client")
# The client is imported as `llm_usage_client` from client/; mutmut names a mutant by its file's path, so the
# scratch copy holds the package at its top (as llm_usage_client/), where mutmut's own sys.path finds it.
CLIENT = "client/llm_usage_client/"
MUTMUT_TABLE = "\n# written by tests/mutation/run.py for one group\n"


def settings() -> dict[str, Any]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    mutate: dict[str, Any] = data["tool"]["llm-usage"]["mutate"]
    return mutate


def toml_table(name: str, values: dict[str, Any]) -> str:
    """A TOML table of strings, numbers, booleans and lists of them (JSON spells those the TOML way)."""
    return f"[{name}]\n" + "".join(f"{key} = {json.dumps(value)}\n" for key, value in values.items())


def mutated_files(group: dict[str, Any]) -> list[str]:
    """The group's files, as paths in the scratch copy."""
    found = {str(p.relative_to(ROOT)) for pattern in group["mutate"] for p in ROOT.glob(pattern)}
    return sorted(path.removeprefix("client/") if path.startswith(CLIENT) else path for path in found)


def test_paths(group: dict[str, Any]) -> list[str]:
    """The group's tests that exist (a file, a folder or a file::test id)."""
    missing = [t for t in group["tests"] if not (ROOT / t.split("::")[0]).exists()]
    if missing:
        print(f"[{group['name']}] no such test path (skipped): {missing}", flush=True)
    return [t for t in group["tests"] if t not in missing]


def top_level() -> list[str]:
    """What the scratch copy holds besides mutmut's own: the tree as tests see it (some read README.md,
    schema.graphql or docs/), without the venv, git, caches and data."""
    names = [p.name for p in ROOT.iterdir()]
    return sorted(set(names) - SKIPPED(str(ROOT), names))


def copy_tree(scratch: Path, snapshot: str, groups: list[dict[str, Any]]) -> None:
    """`worktree`: the files as they are. `index`: git's staged state, plus the runner and the test files the
    group names as they are now, so that a tree others are editing mid-change still gives a consistent copy
    (other groups' test files stay as staged: someone's half-done edit there must not break this group's)."""
    if snapshot == "index":
        subprocess.run(["git", "checkout-index", "--all", "--force", f"--prefix={scratch}/"], cwd=ROOT, check=True)
        named = {t.split("::")[0] for group in groups for t in group["tests"]}
        overlay = [ROOT / t for t in named if (ROOT / t).is_file()] + list((ROOT / "tests/mutation").glob("*.py"))
        for source in overlay:
            target = scratch / source.relative_to(ROOT)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
        return
    for name in top_level():
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, scratch / name, ignore=SKIPPED, dirs_exist_ok=True)
        else:
            shutil.copy2(source, scratch / name)


def mutmut_config(shared: dict[str, Any], group: dict[str, Any]) -> dict[str, Any]:
    config = dict(shared)
    config["source_paths"] = list(SOURCE_PATHS)
    config["only_mutate"] = mutated_files(group)
    config["also_copy"] = [name for name in top_level() if name not in SOURCE_PATHS]
    config["pytest_add_cli_args_test_selection"] = test_paths(group) + list(group.get("pytest_args", []))
    return config


def write_mutmut_config(scratch: Path, shared: dict[str, Any], group: dict[str, Any]) -> None:
    pyproject = scratch / "pyproject.toml"
    text = pyproject.read_text().split(MUTMUT_TABLE)[0].split("\n[tool.mutmut]\n")[0]
    pyproject.write_text(text + MUTMUT_TABLE + toml_table("tool.mutmut", mutmut_config(shared, group)))


async def migrate_template(url: str) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    from service.migrations import upgrade_to_head

    engine = create_async_engine(url.replace("/postgres?", "/template1?"))
    try:
        await upgrade_to_head(engine)
    finally:
        await engine.dispose()


def start_database(scratch: Path) -> str:
    """A server for the group, its template1 at the head of the scratch copy's own migrations (run from the
    copy), so `CREATE DATABASE` in conftest copies a migrated one and its upgrade_to_head has nothing to do."""
    from service.database import start_embedded_postgres

    url = start_embedded_postgres(Path(tempfile.mkdtemp(prefix="llm-usage-mutate-db-")), temporary=True)
    runner = scratch / "tests/mutation/run.py"
    subprocess.run([sys.executable, str(runner), "--migrate-template", url], cwd=scratch, check=True)
    return url


def verdicts(scratch: Path, files: list[str]) -> dict[str, int | None]:
    """mutmut's exit code per mutant of the group, from its records in the scratch copy."""
    codes: dict[str, int | None] = {}
    for path in files:
        record = scratch / "mutants" / f"{path}.meta"
        if record.exists():
            codes.update(json.loads(record.read_text())["exit_code_by_key"])
    return codes


def keep_earlier_kills(scratch: Path, files: list[str], earlier: dict[str, int | None]) -> None:
    """A rerun changes the test selection, so mutmut forgets every verdict and tries only the mutants named;
    a mutant the earlier run killed stays killed (tests were only added or made stricter since)."""
    for path in files:
        record = scratch / "mutants" / f"{path}.meta"
        if not record.exists():
            continue
        meta = json.loads(record.read_text())
        codes = meta["exit_code_by_key"]
        for mutant, code in codes.items():
            if code is None and status(earlier.get(mutant)) in KILLED:
                codes[mutant] = earlier[mutant]
        record.write_text(json.dumps(meta, indent=4))


def chosen(mutant: str, patterns: list[str] | None) -> bool:
    """Whether `--mutants` (mutmut's fnmatch patterns) takes this mutant; no pattern takes every one."""
    return not patterns or any(fnmatch.fnmatch(mutant, pattern) for pattern in patterns)


def run_group(group: dict[str, Any], options: argparse.Namespace, base: Path, env: dict[str, str]) -> GroupResult:
    name, shared = group["name"], options.shared
    scratch, files = base / name, mutated_files(group)
    names: list[str] = []
    earlier: dict[str, int | None] = {}
    if options.rerun:
        earlier = verdicts(scratch, files)
        (scratch / "verdicts-before-rerun.json").write_text(json.dumps(earlier))  # mutmut resets its own records
        names = [m for m, code in earlier.items() if status(code) not in KILLED and chosen(m, options.mutants)]
        copy_tree(scratch, options.snapshot, [group])  # the sources and tests as they are now, over the old copy
        print(f"[{name}] trying again the {len(names)} mutants that survived", flush=True)
    else:
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        copy_tree(scratch, options.snapshot, [group])
        names = list(options.mutants or [])  # none: every mutant of the group
    shutil.copytree(scratch / CLIENT, scratch / "llm_usage_client", ignore=SKIPPED, dirs_exist_ok=True)
    write_mutmut_config(scratch, shared, group)
    group_env = dict(env, DATABASE_URL=start_database(scratch))
    started = time.monotonic()
    log = scratch / "mutmut.log"
    print(f"[{name}] mutmut run in {scratch} ({options.workers} worker(s)); log: {log}", flush=True)
    if not options.rerun or names:
        with log.open("a" if options.rerun else "w") as out:
            completed = subprocess.run(
                [sys.executable, "-m", "mutmut", "run", "--max-children", str(options.workers), *names],
                cwd=scratch,
                env=group_env,
                stdout=out,
                stderr=subprocess.STDOUT,
                check=False,
            )
        code = completed.returncode
    else:
        code = 0
    if options.rerun:
        keep_earlier_kills(scratch, files, earlier)
    elapsed = time.monotonic() - started
    collected = subprocess.run(
        [sys.executable, str(ROOT / "tests/mutation/report.py"), "--collect", *files],
        cwd=scratch,
        env=group_env,
        capture_output=True,
        text=True,
        check=False,
    )
    if collected.returncode != 0:
        print(collected.stderr, file=sys.stderr)
        return GroupResult(name=name, files={}, survivors=[], seconds=elapsed, error=f"mutmut exit {code}, see {log}")
    result = GroupResult.from_json(name, json.loads(collected.stdout), elapsed)
    if code != 0:
        result.error = f"mutmut exit {code}, see {log}"
    print(f"[{name}] {result.summary()} in {elapsed:.0f}s", flush=True)
    return result


def main() -> int:
    if sys.argv[1:2] == ["--migrate-template"]:
        asyncio.run(migrate_template(sys.argv[2]))
        return 0
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--workers", type=int, default=int(os.environ.get("MUTATE_WORKERS") or 1))
    parser.add_argument("--group", action="append", help="run only these groups (default: all)")
    parser.add_argument("--report", type=Path, default=None, help="the Markdown report (default: in the workdir)")
    parser.add_argument("--workdir", type=Path, default=None, help="scratch folder (default: a new temporary one)")
    parser.add_argument("--rerun", type=Path, default=None, help="a workdir of an earlier run: retry its survivors")
    parser.add_argument(
        "--mutants", action="append", help="only the mutants matching this mutmut name pattern (fnmatch; repeatable)"
    )
    parser.add_argument(
        "--snapshot", choices=("worktree", "index"), default=os.environ.get("MUTATE_SNAPSHOT") or "worktree"
    )
    options = parser.parse_args()

    config = settings()
    groups: list[dict[str, Any]] = config["groups"]
    by_name = {g["name"]: g for g in groups}
    chosen = options.group or list(by_name)
    unknown = [g for g in chosen if g not in by_name]
    if unknown:
        parser.error(f"unknown group(s) {unknown}; known: {sorted(by_name)}")
    base = options.rerun or options.workdir or Path(tempfile.mkdtemp(prefix="llm-usage-mutate-"))
    base.mkdir(parents=True, exist_ok=True)
    if options.rerun:
        chosen = [g for g in chosen if (base / g).is_dir()]
    report = options.report or base / "report.md"
    options.shared = config.get("mutmut", {})

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MUTANT_UNDER_TEST", "DATABASE_URL")}
    results = [run_group(by_name[name], options, base, env) for name in chosen]
    write_report(report, results)
    print(f"report: {report}")
    return 1 if any(r.error for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
