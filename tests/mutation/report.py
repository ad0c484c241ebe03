"""The results of `make mutate`: read from mutmut's per-file records in a group's scratch copy (`--collect`, run
there), and written as one Markdown report of every group: killed / survived / timeout per module, the
score, and each survivor's diff."""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# mutmut's exit codes (mutmut.stats.status_by_exit_code), folded into the columns of the report.
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 36: "timeout", 37: "killed"}
TIMEOUTS = {-24, 24, 152, 255, 36, -9}
KILLED = {"killed", "timeout"}  # a mutant that hangs the code is caught by the timeout: counted as killed


def status(exit_code: int | None) -> str:
    if exit_code is None:
        return "not checked"
    if exit_code in TIMEOUTS:
        return "timeout"
    return STATUS.get(exit_code, "suspicious")


@dataclass
class GroupResult:
    name: str
    files: dict[str, Counter[str]]
    survivors: list[dict[str, str]]
    seconds: float
    error: str | None = None
    untested: list[str] = field(default_factory=list)

    @classmethod
    def from_json(cls, name: str, data: dict[str, Any], seconds: float) -> GroupResult:
        return cls(
            name=name,
            files={path: Counter(counts) for path, counts in data["files"].items()},
            survivors=data["survivors"],
            untested=data["untested"],
            seconds=seconds,
        )

    def total(self) -> Counter[str]:
        return sum(self.files.values(), Counter())

    def summary(self) -> str:
        t = self.total()
        return f"{t['killed']} killed, {t['survived']} survived, {t['timeout']} timeout, {t['no tests']} untested: {score(t)}"


def score(counts: Counter[str]) -> str:
    """Killed (timeouts count as killed: the mutant hung the code) over every mutant tried or untried."""
    total = sum(counts.values())
    if not total:
        return "n/a"
    return f"{100 * (counts['killed'] + counts['timeout']) / total:.1f}%"


def collect(paths: list[str]) -> dict[str, Any]:
    """Run in a group's scratch copy, after `mutmut run`."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    files: dict[str, dict[str, int]] = {}
    survivors: list[dict[str, str]] = []
    untested: list[str] = []
    for path in paths:
        record = Path("mutants") / f"{path}.meta"
        if not record.exists():
            continue  # a file without a function to mutate
        meta = json.loads(record.read_text())
        counts: Counter[str] = Counter()
        for mutant, exit_code in sorted(meta["exit_code_by_key"].items()):
            verdict = status(exit_code)
            counts[verdict] += 1
            if verdict in ("survived", "no tests", "suspicious", "not checked"):
                diff = get_diff_for_mutant(mutant, path=path)
                survivors.append({"mutant": mutant, "status": verdict, "diff": diff})
                if verdict == "no tests":
                    untested.append(mutant)
        files[path] = dict(counts)
    return {"files": files, "survivors": survivors, "untested": untested}


def write_report(path: Path, results: list[GroupResult]) -> None:
    lines = ["# Mutation report (`make mutate`)", ""]
    lines += ["| group | module | killed | survived | timeout | no tests | score |", "|---|---|---|---|---|---|---|"]
    everything: Counter[str] = Counter()
    for result in results:
        for module, counts in result.files.items():
            lines.append(
                f"| {result.name} | {module} | {counts['killed']} | {counts['survived']} | {counts['timeout']} "
                f"| {counts['no tests']} | {score(counts)} |"
            )
        total = result.total()
        everything += total
        lines.append(
            f"| **{result.name}** | all ({result.seconds:.0f}s{', ' + result.error if result.error else ''}) "
            f"| {total['killed']} | {total['survived']} | {total['timeout']} | {total['no tests']} | {score(total)} |"
        )
    lines += ["", f"**All groups: {score(everything)} killed** ({sum(everything.values())} mutants).", ""]
    for result in results:
        # not tried (a run stopped, or `--mutants` chose others): counted, not listed
        untried = [s for s in result.survivors if s["status"] == "not checked"]
        tried = [s for s in result.survivors if s["status"] != "not checked"]
        if not tried and not untried:
            continue
        lines += [f"## Survivors: {result.name}", ""]
        if untried:
            lines += [f"{len(untried)} mutants were not tried (the run was stopped, or `--mutants` chose others).", ""]
        for survivor in tried:
            lines += [f"### `{survivor['mutant']}` ({survivor['status']})", "", "```diff", survivor["diff"], "```", ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))


if __name__ == "__main__":
    if sys.argv[1:2] != ["--collect"]:
        raise SystemExit("usage: report.py --collect PATH... (in a group's scratch copy)")
    print(json.dumps(collect(sys.argv[2:])))
