"""Mutation testing of a deterministic sample of mutants (README "Mutation testing").

Run from the project root, with mutmut 3.8 installed in the project's environment
(``pip install 'mutmut>=3.8,<4'``); the configuration is the ``[mutmut]`` section of
``setup.cfg``::

    python tools/mutation.py sample [--every 20]   # the sample's names -> mutants/sample.txt
    python tools/mutation.py run [FILE ...]        # mutmut decides the sample, niced, 1 child
    python tools/mutation.py report                # killed / sampled per file, the rest named
    python tools/mutation.py quick [FILE ...]      # the sample's undecided mutants, by hand

The sample is every ``every``-th mutant of each mutated file, in the order of the
function name and then the mutant's number, so the same source gives the same sample.
The names are read from mutmut's record of a file (``mutants/<file>.meta``) where it has
one, and otherwise worked out with mutmut's own mutation code (which writes nothing).
"""

from __future__ import annotations

import argparse
import configparser
import json
import os
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
    return subprocess.call(cmd, cwd=ROOT, env=_compiling_env())


def _compiling_env() -> dict[str, str]:
    """The environment without ``PYTHONDONTWRITEBYTECODE``: mutmut writes every mutant of a
    file into one module (12 MB for verify.py), which is compiled once and then read from
    its ``__pycache__``; without the cache each test process compiles it again."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


# ``quick``: the fast tests first, so that a mutant they kill stops early (``-x``)
QUICK_TESTS = ["tests/test_mutants_evaluate.py", "tests/test_mutants_build.py", "tests/test_mutants_verify.py",
               "tests/test_engine.py", "tests/test_time_model.py", "tests/test_build_model.py", "tests/test_verify.py"]


def _quick_file(path: str) -> Path:
    return MUTANTS / f"quick-{Path(path).stem}.json"


def _verdicts() -> dict[str, str]:
    """mutmut's verdict on each sampled mutant, and for those it has not decided the verdict
    of ``quick`` (marked so)."""
    from mutmut.stats import status_by_exit_code

    out = {}
    for path, names in read_sample().items():
        qf = _quick_file(path)
        quick = json.loads(qf.read_text()) if qf.exists() else {}
        meta = MUTANTS / (path + ".meta")
        codes = json.loads(meta.read_text())["exit_code_by_key"] if meta.exists() else {}
        for n in names:
            status = status_by_exit_code[codes.get(n)]
            out[n] = status if status != "not checked" or n not in quick else f"{quick[n]} (quick)"
    return out


def quick(files: list[str], limit: float) -> None:
    """Each sampled mutant mutmut has not decided, switched on by name as mutmut does, in a
    child forked from one process that has imported the package and the tests once; the
    child runs ``QUICK_TESTS`` (mutmut's ``-k`` selection) and stops at the first failure.
    A child still running after ``limit`` seconds is stopped and the mutant left undecided."""
    import signal
    import time

    import pytest

    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    sel = cfg.get("mutmut", "pytest_add_cli_args_test_selection").split("\n")
    args = ["-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", *QUICK_TESTS,
            "-k", sel[sel.index("-k") + 1].strip()]
    os.chdir(MUTANTS)
    sys.dont_write_bytecode = False  # the mutated modules are compiled once (see _compiling_env)
    sys.path.insert(0, str(MUTANTS / "src"))
    os.environ["MUTANT_UNDER_TEST"] = ""
    import computeplan  # noqa: F401  (imported once, before the children fork)

    saved = os.dup(1)
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider", *QUICK_TESTS])  # the tests' imports, once
    os.dup2(saved, 1)

    verdicts = _verdicts()
    for path, names in read_sample().items():
        if files and path not in files:
            continue
        qf = _quick_file(path)
        done = json.loads(qf.read_text()) if qf.exists() else {}
        for n in names:
            if verdicts[n] != "not checked" or n in done:
                continue
            t0 = time.monotonic()
            pid = os.fork()
            if pid == 0:
                os.environ["MUTANT_UNDER_TEST"] = n
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 1)
                os.dup2(devnull, 2)
                os._exit(int(pytest.main(args)))
            rc = None
            while time.monotonic() - t0 < limit:
                got, status = os.waitpid(pid, os.WNOHANG)
                if got:
                    rc = os.waitstatus_to_exitcode(status)
                    break
                time.sleep(0.2)
            if rc is None:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            done[n] = ("undecided" if rc is None else "killed" if rc == 1 else "survived" if rc == 0
                       else f"exit {rc}")
            qf.write_text(json.dumps(done, indent=1))
            print(f"{done[n]:>10} {time.monotonic() - t0:6.1f} s  {n}", flush=True)


def report() -> None:
    verdicts = _verdicts()
    for path, names in read_sample().items():
        status = {n: verdicts[n] for n in names}
        killed = sum(s.startswith("killed") for s in status.values())
        print(f"{path}: {killed} killed of {len(names)} sampled")
        for n, s in status.items():
            if s != "killed":
                print(f"    {s:>18}  {re.sub(r'^computeplan[.]', '', n)}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    s = sub.add_parser("sample")
    s.add_argument("--every", type=int, default=20)
    r = sub.add_parser("run")
    r.add_argument("files", nargs="*")
    sub.add_parser("report")
    q = sub.add_parser("quick")
    q.add_argument("files", nargs="*")
    q.add_argument("--limit", type=float, default=120.0)
    args = ap.parse_args()
    if args.command == "sample":
        sample(args.every)
        return 0
    if args.command == "run":
        return run(args.files)
    if args.command == "quick":
        quick(args.files, args.limit)
        return 0
    report()
    return 0


if __name__ == "__main__":
    sys.exit(main())
