"""The published tables of README.md and models/README.md are what the bench files give (never typed)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_published_tables_match_the_bench_files():
    run = subprocess.run([sys.executable, "scripts/report_tables.py", "--check"], cwd=ROOT,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr  # rerun: python scripts/report_tables.py


def test_every_round_names_kept_runs_that_exist():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import report_tables
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    numbers = [r[0] for r in report_tables.ROUNDS]
    assert numbers == sorted(set(numbers))
    for number, _, accurate, fast in report_tables.ROUNDS:
        for prefix, suffix in (("protocol", accurate), ("protocol_fast", fast)):
            if suffix is not None:
                assert (ROOT / "bench" / f"{prefix}_story{suffix}.json").exists(), (number, prefix, suffix)
    # the current run of each procedure belongs to exactly one round
    assert [r[2] for r in report_tables.ROUNDS].count("") == [r[3] for r in report_tables.ROUNDS].count("") == 1
