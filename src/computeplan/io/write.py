"""Every file computeplan writes goes through here: one file at a time, or a set as one.

One file (:func:`atomic_write_text`, :func:`atomic_write_parquet`): written to a
temporary file beside the target and renamed over it, so a reader sees the old file or
the whole new one, never a part.

A set (:func:`write_set`): what one command writes into an output folder, e.g. ``solve``'s
``result.json`` with its tables. The guarantee:

- The whole set is first written into a hidden temporary folder inside the output folder
  (``.computeplan-<set>-*.tmp``); nothing in the output folder changes until every file
  of the set is complete.
- The swap then runs under an exclusive lock (``flock`` on ``.computeplan.lock`` in the
  output folder): every file of the set's family already there is renamed away (its head,
  e.g. ``result.json``, first), then the new files are renamed in (the head last), then
  the old ones are deleted. Two commands writing into one folder at once never mix files:
  the folder ends with the whole set of one of them.
- A member may be a folder (``solve``'s ``full-year/``, the year's plan of a typical-days
  result): it is made whole in the temporary folder and renamed in and away as one.
- Only the files of the set's family are touched. A ``solve --tables csv`` removes the
  Parquet tables an earlier ``--tables parquet`` wrote, but leaves ``sweep.csv``,
  ``headroom.json``, ``report.html`` or a user's ``notes.txt`` alone.
- Readers that take the shared lock (:func:`folder_lock`, as ``computeplan report`` does)
  see one whole set. A reader that does not may, for the swap's few renames, find some
  files missing, but never an old file beside a new one. A process killed outright
  (SIGKILL, power loss) during the swap leaves a part of the new set without its head (no ``result.json``); Ctrl-C and SIGTERM
  are held back for the swap's renames and take effect right after them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from computeplan.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd

Writer = Callable[[Path], None]
"""Writes one file at the path it is given (a fresh path in a temporary folder)."""

TABLE_KINDS = ("csv", "parquet")
LOCK_NAME = ".computeplan.lock"


def _tables(*names: str) -> tuple[str, ...]:
    return tuple(f"{n}.{k}" for n in names for k in TABLE_KINDS)


@dataclass(frozen=True)
class FileSet:
    """The files one command may write into a folder. Each write replaces all of them.

    ``head`` is the file that says the set is there (renamed in last, away first).
    """

    name: str
    members: tuple[str, ...]
    head: str | None = None


#: The folder of a typical-days result holding the year's plan (a result set of its own).
FULL_YEAR = "full-year"
RESULT = FileSet("result", (*_tables("sites", "pools", "assignments", "targets", "periods", "served"), FULL_YEAR,
                            "result.json"), "result.json")
SWEEP = FileSet("sweep", (*_tables("sweep"), "sweep.png", "sweep.svg"))
OUTAGE = FileSet("outage", _tables("outage"))
CAPACITY = FileSet("capacity", _tables("capacity"))
HEADROOM = FileSet("headroom", ("headroom.json",))
INSTANCE = FileSet("instance", (*_tables("sites", "workloads", "periods"), "instance.yaml"), "instance.yaml")
FILE_SETS = (RESULT, SWEEP, OUTAGE, CAPACITY, HEADROOM, INSTANCE)


# --------------------------------------------------------------------------------------
# One file
# --------------------------------------------------------------------------------------
def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str | Path, write: Callable[[str], None]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it over ``path``:
    readers see the old file or the whole new one, never a part."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        # mkstemp makes the file private (0600); a result gets the usual mode under umask
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text(text: str) -> Writer:
    """A writer of ``text`` (UTF-8), flushed to disk."""

    def write(path: Path) -> None:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())

    return write


def write_table(df: pd.DataFrame, kind: str) -> Writer:
    """A writer of a table as ``csv`` or ``parquet`` (no index)."""
    if kind == "csv":
        return write_text(df.to_csv(index=False))
    if kind == "parquet":
        return lambda path: df.to_parquet(path, index=False)
    raise UsageError(f"--tables: expected csv or parquet, got {kind!r}")


def record_table(records: Sequence[Mapping[str, Any]], kind: str, columns: Sequence[str] | None = None) -> Writer:
    """A writer of records as a ``csv`` or ``parquet`` table with the columns
    ``DataFrame(records)`` has (``columns``, else every key in order of first use). CSV
    is written without pandas: a missing value or NaN is an empty cell, as pandas writes it."""
    cols = list(columns) if columns is not None else list(dict.fromkeys(k for r in records for k in r))
    if kind == "parquet":
        import pandas as pd

        return write_table(pd.DataFrame(list(records), columns=cols), kind)
    if kind != "csv":
        raise UsageError(f"--tables: expected csv or parquet, got {kind!r}")
    import csv
    import io

    def cell(v: Any) -> Any:
        return "" if v is None or (isinstance(v, float) and v != v) else v

    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(cols)
    out.writerows([cell(r.get(c)) for c in cols] for r in records)
    return write_text(buf.getvalue())


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` atomically (see :func:`atomic_write`)."""
    w = write_text(text)
    return atomic_write(path, lambda tmp: w(Path(tmp)))


def atomic_write_parquet(path: str | Path, df: pd.DataFrame) -> Path:
    """Write a table as Parquet atomically (see :func:`atomic_write`)."""
    w = write_table(df, "parquet")
    return atomic_write(path, lambda tmp: w(Path(tmp)))


def folder_writer(files: Mapping[str, Writer]) -> Writer:
    """A writer of a folder holding ``files`` (``{name: writer}``): one member of a set."""

    def write(path: Path) -> None:
        path.mkdir()
        for name, w in files.items():
            w(path / name)

    return write


def table_files(frames: Mapping[str, pd.DataFrame], kinds: Iterable[str]) -> dict[str, Writer]:
    """``{"name.kind": writer}`` for every frame in every kind (``csv``, ``parquet``)."""
    return {f"{name}.{kind}": write_table(df, kind) for kind in kinds for name, df in frames.items()}


# --------------------------------------------------------------------------------------
# Output folders: checked before the work, written as one set
# --------------------------------------------------------------------------------------
def _existing_ancestor(p: Path) -> Path:
    a = p.absolute()
    while not a.exists() and not a.is_symlink():
        a = a.parent
    return a


def _probe(folder: Path, what: str) -> None:
    """Create and remove a folder in ``folder``: what any write there needs (works as root too)."""
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".computeplan-probe-", dir=folder))
    except OSError as e:
        raise UsageError(f"{what}: cannot write in {folder}: {e.strerror or e}") from None


def check_out_dir(path: str | Path, fileset: FileSet | None = None, option: str = "--out") -> Path:
    """Fail early, with a usage error, when ``path`` cannot be the output folder.

    It must be a folder (or not exist yet, below a folder) in which files can be made, and
    must not hold files that ``fileset`` would replace but that are not its own: another
    set's (a generated instance's ``sites.csv`` under a ``solve``), or, for a set with a
    head, files of its names without the head beside them (a user's ``sites.csv``).
    Creates nothing.
    """
    p = Path(path)
    what = f"{option} {p}"
    if p.is_symlink() and not p.exists():
        raise UsageError(f"{what}: a broken symbolic link; expected a folder")
    if p.exists():
        if not p.is_dir():
            raise UsageError(f"{what}: is a file; expected a folder (existing or new)")
        _probe(p, what)
    else:
        a = _existing_ancestor(p)
        if not a.is_dir():
            raise UsageError(f"{what}: {a} is a file, so no folder can be made below it")
        _probe(a, what)
    if fileset is not None and p.is_dir():
        for other in FILE_SETS:
            if other is fileset or other.head is None or not (p / other.head).exists():
                continue
            shared = sorted(m for m in set(other.members) & set(fileset.members) if (p / m).exists())
            if shared:
                raise UsageError(f"{what}: holds {other.head} and its {', '.join(shared)}, which this "
                                 f"command would replace; choose another folder")
        if fileset.head is not None and not (p / fileset.head).exists():
            foreign = sorted(m for m in fileset.members if (p / m).exists())
            if foreign:
                raise UsageError(f"{what}: holds {', '.join(foreign)} but no {fileset.head}, so computeplan "
                                 f"did not write them there, and this command would replace them; choose "
                                 f"another folder")
    return p


def check_out_file(path: str | Path, option: str) -> Path:
    """Fail early when the file ``path`` cannot be written (a folder there, or no folder for it)."""
    p = Path(path)
    if p.is_dir():
        raise UsageError(f"{option} {p}: is a folder; expected a file name")
    check_out_dir(p.parent if str(p.parent) else Path("."), option=f"{option} {p}: folder")
    return p


@contextlib.contextmanager
def folder_lock(folder: str | Path, *, shared: bool = False) -> Iterator[None]:
    """Hold the folder's lock: exclusive for writing a set, shared for reading one.

    Without ``fcntl`` (Windows), or for a shared lock in a folder where no lock file can be
    made (read-only), this does not lock.
    """
    if sys.platform == "win32":  # pragma: no cover
        yield
        return
    import fcntl

    lock = Path(folder) / LOCK_NAME
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666 & ~_umask())
    except OSError:
        if not shared:
            raise
        try:
            fd = os.open(lock, os.O_RDONLY)
        except OSError:
            yield
            return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM back for the few renames of a swap, then raise them again, so an
    interrupted command leaves the old set or the new one, not the folder between them.

    Python runs signal handlers in the main thread only: elsewhere this holds nothing.
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for s, handler in before.items():
        if handler not in (signal.SIG_IGN, None):
            signal.signal(s, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        for s, handler in before.items():
            if handler not in (signal.SIG_IGN, None):
                signal.signal(s, handler)
        for signum in caught:
            signal.raise_signal(signum)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_set(folder: str | Path, fileset: FileSet, files: Mapping[str, Writer]) -> list[Path]:
    """Replace ``fileset``'s files in ``folder`` with ``files`` (``{name: writer}``), as one.

    See the module's doc for the guarantee. Files of the set not in ``files`` are removed;
    files outside the set are left alone. Returns the paths written, head last.
    """
    out = Path(folder)
    unknown = sorted(set(files) - set(fileset.members))
    if unknown:
        raise ValueError(f"{', '.join(unknown)}: not files of the {fileset.name} set")
    head = fileset.head
    order = [n for n in files if n != head] + [n for n in files if n == head]
    out.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".computeplan-{fileset.name}-", suffix=".tmp", dir=out))
    try:
        new = stage / "new"
        old = stage / "old"
        new.mkdir()
        old.mkdir()
        for name in order:
            files[name](new / name)
        with folder_lock(out), _signals_held():
            away = sorted(fileset.members, key=lambda m: m != head)
            for name in away:
                with contextlib.suppress(FileNotFoundError):
                    os.rename(out / name, old / name)
            for name in order:
                os.rename(new / name, out / name)
            _fsync_dir(out)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return [out / name for name in order]
