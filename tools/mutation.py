"""Mutation testing of a deterministic sample of mutants (README "Mutation testing").

Run from the project root, with mutmut 3.8 installed in the project's environment
(``pip install 'mutmut>=3.8,<4'``); the configuration is the ``[mutmut]`` section of
``setup.cfg``::

    python tools/mutation.py sample [--every 20]   # the sample's names -> mutants/sample.txt
    python tools/mutation.py run [FILE ...]        # mutmut decides the sample, niced, 1 child
    python tools/mutation.py report                # killed / sampled per file, the rest named

The sample is every ``every``-th mutant of each mutated file, in the order of the
function name and then the mutant's number, so the same source gives the same sample.
The names are read from mutmut's record of a file (``mutants/<file>.meta``) where it has
one, and otherwise worked out with mutmut's own mutation code (which writes nothing).
"""

from __future__ import annotations

import argparse
import configparser
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTANTS = ROOT / "mutants"
SAMPLE = MUTANTS / "sample.txt"


def mutated_files() -> list[str]:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    return [p for p in cfg.get("mutmut", "only_mutate").split() if p]


def _key(name: str) -> tuple[str, int]:
    head, _, number = name.rpartition("__mutmut_")
    return head, int(number)


def mutant_names(path: str) -> list[str]:
    """Every mutant of one file, sorted by function and number."""
    meta = MUTANTS / (path + ".meta")
    if meta.exists():
        names = list(json.loads(meta.read_text())["exit_code_by_key"])
    else:
        from mutmut.mutation.file_mutation import mutate_file_contents
        from mutmut.utils.format_utils import get_mutant_name

        mutated = mutate_file_contents(path, (ROOT / path).read_text())
        names = [get_mutant_name(Path(path), n) for n in mutated.mutant_names]
    return sorted(names, key=_key)


def sample(every: int) -> dict[str, list[str]]:
    out = {path: mutant_names(path)[every - 1 :: every] for path in mutated_files()}
    MUTANTS.mkdir(exist_ok=True)
    SAMPLE.write_text("".join(f"{path} {name}\n" for path, names in out.items() for name in names))
    for path, names in out.items():
        print(f"{path}: {len(names)} of {len(mutant_names(path))}")
    return out


def read_sample() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in SAMPLE.read_text().splitlines():
        path, name = line.split()
        out.setdefault(path, []).append(name)
    return out


def run(files: list[str]) -> int:
    chosen = read_sample()
    names = [n for path, ns in chosen.items() if not files or path in files for n in ns]
    mutmut = Path(sys.executable).with_name("mutmut")
    cmd = ["nice", "-n", "15", str(mutmut), "run", "--max-children", "1", *names]
    return subprocess.call(cmd, cwd=ROOT)


def report() -> None:
    for path, names in read_sample().items():
        meta = MUTANTS / (path + ".meta")
        from mutmut.stats import status_by_exit_code

        codes = json.loads(meta.read_text())["exit_code_by_key"] if meta.exists() else {}
        status = {n: status_by_exit_code[codes.get(n)] for n in names}
        killed = sum(s == "killed" for s in status.values())
        print(f"{path}: {killed} killed of {len(names)} sampled")
        for n, s in status.items():
            if s != "killed":
                print(f"    {s:>12}  {re.sub(r'^computeplan[.]', '', n)}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    s = sub.add_parser("sample")
    s.add_argument("--every", type=int, default=20)
    r = sub.add_parser("run")
    r.add_argument("files", nargs="*")
    sub.add_parser("report")
    args = ap.parse_args()
    if args.command == "sample":
        sample(args.every)
        return 0
    if args.command == "run":
        return run(args.files)
    report()
    return 0


if __name__ == "__main__":
    sys.exit(main())
