"""The README lists every mutant benchmarks/mutation_equivalents.txt calls
equivalent, with its reason (issue 14: survivors are killed or listed)."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _mutation_score():
    spec = importlib.util.spec_from_file_location(
        "mutation_score", ROOT / "benchmarks" / "mutation_score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_lists_every_equivalent_mutant_with_its_reason():
    listing = _mutation_score().equivalents_markdown()
    entries = [line for line in (ROOT / "benchmarks" / "mutation_equivalents.txt")
               .read_text(encoding="utf-8").splitlines()
               if line.strip() and not line.startswith("#")]
    assert len(listing.splitlines()) == len(entries) > 0
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [line for line in listing.splitlines() if line not in readme.splitlines()]
    assert not missing, "README is missing (run mutation_score.py --readme):\n" + "\n".join(missing)
