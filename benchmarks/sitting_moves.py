"""Whether a run's G sits on modes and moves between them, from its history.csv: the epochs
that hold at most 2 modes with at least 50% of high-quality points ("sitting", the lab's
collapse claim), and how often the mode holding most points changes from one sitting epoch
to the next ("moves"). For runs of the 2-D mixtures (their history tracks the modes'
shares). docs/mode-collapse.md quotes it beside ``--preset collapse_on_mode`` and
``mode_hopping``; benchmarks/mode_collapse.py counts the moves with it.

    python benchmarks/sitting_moves.py RUN [RUN ...]
"""

import argparse
import csv
from pathlib import Path


def sits(row) -> bool:
    """The lab's collapse claim for one measurement: at most 2 modes covered, with at least
    50% of high-quality points (a dict of numbers, or of strings as csv reads them)."""
    return float(row["modes"]) <= 2 and float(row["high_quality"]) >= 0.5


def sitting_and_moves(rows):
    """(sitting epochs, moves) of history rows (dicts of numbers, or of strings as csv
    reads them)."""
    held = []
    for row in rows:
        shares = [float(row[key]) for key in row if key.startswith("share_")]
        if sits(row):
            held.append(max(range(len(shares)), key=shares.__getitem__))
    return len(held), sum(a != b for a, b in zip(held, held[1:]))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path)
    for run in parser.parse_args(argv).runs:
        with open(run / "history.csv") as stream:
            rows = list(csv.DictReader(stream))
        sitting, moves = sitting_and_moves(rows)
        last = rows[-1]
        print(f"{run}: epoch {last['epoch']}: {float(last['modes']):.0f} modes, high quality "
              f"{float(last['high_quality']):.3f}; sitting epochs {sitting} of {len(rows)}; "
              f"moves {moves}")


if __name__ == "__main__":
    main()
