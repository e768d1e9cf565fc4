"""Mutation score of keras_inits with mutmut 3, per module.

    pip install -e ".[test,dev]"
    python benchmarks/mutation_score.py                 # every module in setup.cfg [mutmut]
    python benchmarks/mutation_score.py --module gain   # one module (see MODULES)
    python benchmarks/mutation_score.py --no-run        # score the last run's results

mutmut copies keras_inits/ and tests/ into mutants/, collects which tests reach
which function once, then runs, per mutant, only those tests in a process
forked after TensorFlow is imported. The configuration (modules mutated, tests
run, process isolation) is the [mutmut] section of setup.cfg; a rerun only
tests mutants without a result (delete mutants/ to start over).

Score per module = killed / (mutants - listed equivalents), where killed counts
mutants the tests failed on or timed out on, and the equivalents are the
mutants in benchmarks/mutation_equivalents.txt (``name | diff | reason`` per
line; matched on the diff, so renumbering after an edit does not break it).
Surviving mutants, mutants no test reaches ("no tests") and anything else
count as not killed. Exit status 1 when a module is below --target.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import os
import re
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTMUT = Path(sys.executable).with_name("mutmut")
EQUIVALENTS = ROOT / "benchmarks" / "mutation_equivalents.txt"
# module -> the glob of its mutant names (mutmut names mutants by dotted module)
MODULES = {
    "fans": "keras_inits.fans.*",
    "gain": "keras_inits.gain.*",
    "initializers": "keras_inits.initializers.*",
    "lsuv": "keras_inits.lsuv.*",
    "residual": "keras_inits.residual.*",
    "transformer": "keras_inits.transformer.*",
}
KILLED = {"killed", "timeout"}
_NAME = re.compile(r"^\s*(\S+): (.+?)\s*$")


def module_of(mutant: str) -> str | None:
    dotted = re.split(r"\.x[_ǁ]", mutant, maxsplit=1)[0]
    for name in MODULES:
        if dotted == f"keras_inits.{name}" or dotted.startswith(f"keras_inits.{name}."):
            return name
    return None


def mutant_diffs(root: Path = ROOT / "mutants") -> dict[str, str]:
    """``{mutant name: "original -> mutated"}``, read from mutmut's mutants/ copy.

    mutmut writes every mutant as a copy of its function (``x_f__mutmut_3``
    next to ``x_f__mutmut_orig``); the diff is the lines that differ, stripped
    and joined with " / ". Numbering shifts when a function changes; the diff
    does not, so the equivalents list is matched on it.
    """
    out = {}
    for path in sorted((root / "keras_inits").rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        if "__mutmut_orig" not in source:
            continue
        lines = source.splitlines()
        module = ".".join(path.relative_to(root).with_suffix("").parts)
        module = module.removesuffix(".__init__")
        functions = {
            node.name: lines[node.lineno - 1: node.end_lineno]
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and "__mutmut_" in node.name
        }
        for name, body in functions.items():
            base, _, number = name.rpartition("__mutmut_")
            orig = functions.get(f"{base}__mutmut_orig")
            if number == "orig" or orig is None:
                continue
            # the def line differs in the name; compare its arguments only
            a = [orig[0].partition("(")[2], *orig[1:]]
            b = [body[0].partition("(")[2], *body[1:]]
            diff = list(difflib.unified_diff(a, b, lineterm="", n=0))[2:]
            minus = " / ".join(x[1:].strip() for x in diff if x.startswith("-"))
            plus = " / ".join(x[1:].strip() for x in diff if x.startswith("+"))
            out[f"{module}.{name}"] = f"{minus} -> {plus}"
    return out


def _function(mutant: str) -> str:
    return mutant.rpartition("__mutmut_")[0]


def load_equivalents(diffs: dict[str, str], path: Path = EQUIVALENTS):
    """``({mutant name: reason}, [entries that match no mutant])``.

    Lines are ``name | original -> mutated | reason`` (# starts a comment).
    An entry matches the mutant of that name if its diff is the same, else
    the mutant of the same function with that diff (mutmut renumbers a
    function's mutants when the function changes).
    """
    by_function = defaultdict(dict)
    for name, diff in diffs.items():
        by_function[_function(name)].setdefault(diff.strip(), name)
    out, stale = {}, []
    if not path.exists():
        return out, stale
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, diff, reason = (part.strip() for part in line.split(" | ", 2))
        match = (name if diffs.get(name, "").strip() == diff
                 else by_function[_function(name)].get(diff))
        if match is None:
            stale.append(line)
        else:
            out[match] = reason
    return out, stale


def equivalents_markdown(path: Path = EQUIVALENTS) -> str:
    """The equivalents file as the README's list: one bullet per mutant,
    ``name``: ``original`` -> ``mutated``: reason."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, diff, reason = (part.strip() for part in line.split(" | ", 2))
        original, _, mutated = diff.partition(" -> ")
        lines.append(f"- ``{name.removeprefix('keras_inits.')}``: ``{original} `` → "
                     f"``{mutated} ``: {reason}")
    return "\n".join(lines)


def results(env) -> dict[str, str]:
    """``{mutant name: status}`` from ``mutmut results --all true``."""
    proc = subprocess.run(
        [str(MUTMUT), "results", "--all", "true"], cwd=ROOT, env=env,
        capture_output=True, text=True, check=True,
    )
    out = {}
    for line in proc.stdout.splitlines():
        match = _NAME.match(line)
        if match:
            out[match.group(1)] = match.group(2)
    return out


def score(statuses, equivalents, modules):
    """Rows ``(module, total, equivalent, killed, score, Counter of the rest)``."""
    by_module = defaultdict(list)
    for name, status in statuses.items():
        module = module_of(name)
        if module in modules:
            by_module[module].append((name, status))
    rows = []
    for module in modules:
        items = by_module.get(module, [])
        equivalent = [n for n, s in items if n in equivalents]
        killed = [n for n, s in items if s in KILLED and n not in equivalents]
        rest = Counter(s for n, s in items if s not in KILLED and n not in equivalents)
        denominator = len(items) - len(equivalent)
        rows.append((module, len(items), len(equivalent), len(killed),
                     len(killed) / denominator if denominator else float("nan"), rest))
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--module", action="append", choices=sorted(MODULES),
                        help="run and score only this module (repeatable)")
    parser.add_argument("--max-children", type=int, default=2,
                        help="parallel mutant processes (default 2; the machine has 2 cores)")
    parser.add_argument("--no-run", action="store_true", help="only score existing results")
    parser.add_argument("--target", type=float, default=0.90)
    parser.add_argument("--rerun", choices=["survivors", "timeouts"], action="append",
                        default=[], help="re-test these mutants of the last run (after "
                        "adding tests, or to confirm timeouts); equivalents are not re-tested")
    parser.add_argument("--survivors", action="store_true",
                        help="list surviving mutants that are not listed as equivalent")
    parser.add_argument("--readme", action="store_true",
                        help="rewrite the equivalents list in README.md from the file and exit")
    args = parser.parse_args(argv)
    if args.readme:
        readme = ROOT / "README.md"
        text = readme.read_text(encoding="utf-8")
        start, end = "<!-- equivalents:start -->\n", "\n<!-- equivalents:end -->"
        head, _, rest = text.partition(start)
        _, _, tail = rest.partition(end)
        if not rest or not tail:
            print(f"README.md has no {start.strip()} ... {end.strip()} block", file=sys.stderr)
            return 1
        listing = equivalents_markdown()
        readme.write_text(head + start + listing + end + tail, encoding="utf-8")
        print(f"README.md: {len(listing.splitlines())} equivalents listed")
        return 0
    modules = args.module or list(MODULES)
    # One TensorFlow thread per process: see benchmarks/_mutmut_gc_freeze.py.
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "2",
           "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"}

    if args.rerun:
        equivalents, _ = load_equivalents(mutant_diffs())
        wanted = {"survivors": {"survived", "no tests"}, "timeouts": {"timeout"}}
        statuses = set().union(*(wanted[r] for r in args.rerun))
        names = sorted(n for n, st in results(env).items() if st in statuses
                       and module_of(n) in modules and n not in equivalents)
        print(f"re-testing {len(names)} mutants", flush=True)
        if names:
            subprocess.run([str(MUTMUT), "run", "--max-children", str(args.max_children),
                            *names], cwd=ROOT, env=env, check=False)
        args.no_run = True
    if not args.no_run:
        cmd = [str(MUTMUT), "run", "--max-children", str(args.max_children)]
        if args.module:
            cmd += [MODULES[m] for m in modules]
        print("$", " ".join(cmd), flush=True)
        start = time.monotonic()
        proc = subprocess.run(cmd, cwd=ROOT, env=env)  # mutmut draws its own progress
        elapsed = time.monotonic() - start
        if proc.returncode != 0:
            print(f"mutmut run failed (exit {proc.returncode})", file=sys.stderr)
            return proc.returncode
        print(f"\nmutmut run: {elapsed / 60:.1f} min wall-clock", flush=True)

    diffs = mutant_diffs()
    equivalents, stale = load_equivalents(diffs)
    statuses = results(env)
    for line in stale:
        print(f"warning: equivalent matches no mutant (source changed?): {line[:120]}",
              file=sys.stderr)
    rows = score(statuses, equivalents, modules)
    print(f"\n{'module':<14}{'mutants':>8}{'equiv':>7}{'killed':>8}{'score':>8}  not killed")
    total = Counter()
    below = False
    for module, n, eq, killed, value, rest in rows:
        total.update(n=n, eq=eq, killed=killed)
        below |= not value >= args.target
        detail = ", ".join(f"{v} {k}" for k, v in sorted(rest.items()))
        print(f"{module:<14}{n:>8}{eq:>7}{killed:>8}{value:>8.1%}  {detail}")
    denominator = total["n"] - total["eq"]
    print(f"{'all':<14}{total['n']:>8}{total['eq']:>7}{total['killed']:>8}"
          f"{total['killed'] / max(1, denominator):>8.1%}")
    if args.survivors:
        print("\nnot killed, not listed as equivalent (as equivalents-file lines):")
        for name, status in sorted(statuses.items()):
            if (module_of(name) in modules and status not in KILLED
                    and name not in equivalents):
                print(f"{name} | {diffs.get(name, '?')} | {status}")
    return 1 if below else 0


if __name__ == "__main__":
    sys.exit(main())
