"""Tally the ICB reference tables of ``scenarios/outcomes.yaml`` from the ICB data file.

    python tools/icb_tables.py icb1v14.csv 1961-07-01 1996-03-01 ...

For each cutoff date D it counts the crises of the International Crisis Behavior data, version
14, system level, that had **ended before D**, by trigger (BREAK) and highest level of violence
(VIOL), and prints the ``icb_base_rates.tables`` entries in the outcomes file's format.

A crisis counts as ended before D when its termination year (``yrterm``) is before D's year, or
is D's year and its termination month (``moterm``) is before D's month (day codes are not used:
the file's day codes are not always calendar days). A crisis with no termination year, or with
D's year and no month, is left out; so is the blank row of crisis 474.

The file is not shipped with escalation (ICB's terms: cite it, take it from the ICB project).
The copy used for the shipped tables is checked against its SHA-256 before anything is counted.
Standard library only.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import hashlib
import sys
from pathlib import Path

from escalation.scenario.schema import ICB_TRIGGERS

#: SHA-256 of the copy of icb1v14.csv the shipped tables were counted from.
SHA256 = "f0115d16b6ca8266a471cf53c8db54de32a64ba8e5855d727a51ee699014db1f"
#: ICB's BREAK codes 1-9, in the names of the scenario format's ``case.trigger``.
TRIGGERS = ICB_TRIGGERS


def read_crises(path: Path) -> list[dict[str, str]]:
    """The coded crises (rows with a trigger) of the system-level file."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [row for row in csv.DictReader(handle) if row["break"].strip()]


def ended_before(row: dict[str, str], cutoff: datetime.date) -> bool:
    """Whether the crisis had ended before the cutoff's month (see the module docstring)."""
    year = row["yrterm"].strip()
    if not year:
        return False
    year_n = int(float(year))
    if year_n != cutoff.year:
        return year_n < cutoff.year
    month = row["moterm"].strip()
    return bool(month) and int(float(month)) < cutoff.month


def table(rows: list[dict[str, str]]) -> dict[str, list[int]]:
    """Counts by trigger: [no violence, minor clashes, serious clashes, full-scale war]."""
    counts = {name: [0, 0, 0, 0] for name in TRIGGERS}
    for row in rows:
        trigger, violence = int(float(row["break"])), int(float(row["viol"]))
        counts[TRIGGERS[trigger - 1]][violence - 1] += 1
    return counts


def main(argv: list[str] | None = None) -> int:
    """Print the tables for the given cutoffs."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("csv", type=Path, help="icb1v14.csv")
    parser.add_argument("cutoffs", nargs="+", type=datetime.date.fromisoformat)
    parser.add_argument("--any-copy", action="store_true", help="skip the SHA-256 check")
    args = parser.parse_args(argv)
    digest = hashlib.sha256(args.csv.read_bytes()).hexdigest()
    if digest != SHA256 and not args.any_copy:
        print(f"{args.csv}: SHA-256 {digest}, expected {SHA256}", file=sys.stderr)
        return 1
    crises = read_crises(args.csv)
    print(f"# {len(crises)} coded crises in {args.csv.name} (sha256 {digest})")
    print("  tables:")
    for cutoff in args.cutoffs:
        rows = [row for row in crises if ended_before(row, cutoff)]
        print(f"    - ended_before: {cutoff.isoformat()}")
        print(f"      crises: {len(rows)}")
        print("      counts:")
        for name, counts in table(rows).items():
            print(f"        {name}: [{', '.join(str(c) for c in counts)}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
