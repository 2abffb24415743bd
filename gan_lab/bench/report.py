"""The benchmarks' tables in docs/performance.md: each (kind of run, CPU kind) in a section of
its own, between markers, which a new run of the same kind on the same CPU kind replaces
(``gan-lab bench --doc docs/performance.md``); the prose around them is left alone."""

from __future__ import annotations

import datetime
from pathlib import Path

from .. import runtime
from ..files import write_text

DOC_FILE = "docs/performance.md"


def cpu_kind(flags=None, name=None) -> str:
    """The CPU named as the tables name it: its model name and the widest vector and
    bfloat16 hardware it has, e.g. 'AMD EPYC, AVX-512, AVX512-BF16' or 'AMD EPYC, AVX2'."""
    flags = runtime.cpu_flags() if flags is None else set(flags)
    name = runtime.cpu_name() if name is None else name
    vector = ("AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags
              else "no AVX2" if flags else "flags unknown")
    extra = [label for flag, label in (("avx512_bf16", "AVX512-BF16"), ("amx_bf16", "AMX-BF16"))
             if flag in flags]
    return ", ".join([name, vector, *extra])


def write_doc_section(path, key: str, text: str) -> bool:
    """Put ``text`` into the Markdown file ``path`` between the lines
    ``<!-- measured: KEY -->`` and ``<!-- /measured: KEY -->``, replacing what stood
    there, or append a new section at the end. Returns True if the section was new.
    Everything outside the markers is left as it is."""
    path = Path(path)
    begin, end = f"<!-- measured: {key} -->", f"<!-- /measured: {key} -->"
    old = path.read_text() if path.exists() else ""
    block = f"{begin}\n{text.strip()}\n{end}"
    start = old.find(begin)
    if start >= 0:
        stop = old.find(end, start)
        if stop < 0:
            raise ValueError(f"{path}: {begin!r} has no closing {end!r}; add it or remove both")
        write_text(path, old[:start] + block + old[stop + len(end):])
        return False
    write_text(path, old.rstrip("\n") + ("\n\n" if old else "") + block + "\n")
    return True


def doc_text(table_text: str, command: str, seconds: float, day: str | None = None) -> str:
    """A measured table as the documents show it: the CPU kind, the date, the command and
    its wall time, then the table."""
    day = day or datetime.date.today().isoformat()
    return (f"**{cpu_kind()}**, {day}: `{command}`, {seconds:,.0f} s of wall time.\n\n"
            f"{table_text}")
