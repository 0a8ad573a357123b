"""Atomic file outputs: a reader never sees a half-written file.

Every StrideSync output (recordings, events, steps, summaries, reports) is written to a temporary file
in the target's own directory, flushed and fsync'ed, then moved into place with :func:`os.replace`,
which is atomic on POSIX and Windows when source and target share a file system. If anything fails,
the temporary file is removed and the previous content of the target, if any, is untouched.

:class:`AtomicOutputs` extends this to several files written as one transaction: every writer runs
first, and the renames happen only after all of them succeeded. Call :func:`check_writable` before
long work so that a wrong output directory fails in a second, not after an hour of analysis.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from ..errors import OutputError

__all__ = ["AtomicOutputs", "atomic_write", "check_writable"]

logger = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]

_TEMP_SUFFIX = ".tmp"


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _describe(exc: OSError) -> str:
    """The OS reason of ``exc`` without the path (we name the path ourselves)."""
    return _one_line(exc.strerror or str(exc) or type(exc).__name__)


_file_mode_cache: int | None = None


def _new_file_mode() -> int:
    """The permission bits a plain ``open(path, 'w')`` would give a new file (0o666 minus the umask).

    :func:`tempfile.mkstemp` creates files with mode 0o600; outputs should not be more private than
    what the user's umask asks for. The umask is read from ``/proc`` where possible because
    :func:`os.umask` can only be read by setting it, which is not thread-safe.
    """
    global _file_mode_cache
    if _file_mode_cache is None:
        umask = None
        with contextlib.suppress(OSError, ValueError):
            with open("/proc/self/status", encoding="ascii") as status:
                for line in status:
                    if line.startswith("Umask:"):
                        umask = int(line.split()[1], 8)
                        break
        if umask is None:
            umask = os.umask(0o022)
            os.umask(umask)
        _file_mode_cache = 0o666 & ~umask
    return _file_mode_cache


def _fsync_dir(directory: Path) -> None:
    """Make a rename durable (best effort: not every platform can open a directory)."""
    if os.name != "posix":
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def check_writable(paths: PathLike | Iterable[PathLike]) -> None:
    """Fail fast, with one line naming the path, if any output in ``paths`` cannot be created.

    For each path this checks that the parent directory exists and is a directory, that the path
    itself is not a directory, and that a file can really be created in the parent (by creating and
    removing a probe file: permission bits alone do not tell, e.g. for root or read-only mounts).

    Raises
    ------
    OutputError
        For the first path that cannot be written.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    probed: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        parent = path.parent
        if path.is_dir():
            raise OutputError(f"cannot write {path}: it is a directory")
        if not parent.exists():
            raise OutputError(f"cannot write {path}: directory {parent} does not exist")
        if not parent.is_dir():
            raise OutputError(f"cannot write {path}: {parent} is not a directory")
        if parent in probed:
            continue
        try:
            fd, probe = tempfile.mkstemp(dir=parent, prefix=f".{path.name}.", suffix=".probe")
        except OSError as exc:
            raise OutputError(f"cannot write {path}: directory {parent} is not writable ({_describe(exc)})") from exc
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(probe)
        probed.add(parent)


def _make_temp(path: Path) -> tuple[int, Path]:
    try:
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=_TEMP_SUFFIX)
    except FileNotFoundError as exc:
        raise OutputError(f"cannot write {path}: directory {path.parent} does not exist") from exc
    except NotADirectoryError as exc:
        raise OutputError(f"cannot write {path}: {path.parent} is not a directory") from exc
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {_describe(exc)}") from exc
    with contextlib.suppress(OSError):
        os.chmod(temp, _new_file_mode())
    return fd, Path(temp)


def _remove_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def _replace(temp: Path, path: Path) -> None:
    try:
        os.replace(temp, path)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {_describe(exc)}") from exc


@contextlib.contextmanager
def _temp_file(path: Path, mode: str, encoding: str | None, newline: str | None) -> Iterator[tuple[IO[Any], Path]]:
    """Open a fsync'ed temp file next to ``path``; remove it if the body raises.

    The temp file is *not* renamed here: the caller decides when (now, or at a transaction commit).
    An ``OSError`` raised while writing becomes an :class:`OutputError` naming ``path``; any other
    exception propagates unchanged.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic outputs are written from scratch: mode must be 'w' or 'wb', not {mode!r}")
    fd, temp = _make_temp(path)
    try:
        if "b" in mode:
            handle: IO[Any] = os.fdopen(fd, mode)
        else:
            handle = os.fdopen(fd, mode, encoding=encoding or "utf-8", newline=newline)
    except BaseException:
        os.close(fd)
        _remove_quietly(temp)
        raise
    try:
        with handle:
            yield handle, temp
            handle.flush()
            os.fsync(handle.fileno())
    except OutputError:
        _remove_quietly(temp)
        raise
    except OSError as exc:
        _remove_quietly(temp)
        raise OutputError(f"cannot write {path}: {_describe(exc)}") from exc
    except BaseException:
        _remove_quietly(temp)
        raise


@contextlib.contextmanager
def atomic_write(
    path: PathLike, mode: str = "w", *, encoding: str | None = "utf-8", newline: str | None = ""
) -> Iterator[IO[Any]]:
    """Write ``path`` atomically: it appears complete when the block ends without error, or not at all.

    Parameters
    ----------
    path : str or PathLike
        The final file. Its directory must exist.
    mode : {'w', 'wb'}
        Text or binary.
    encoding, newline
        For text mode. ``newline=''`` writes ``'\\n'`` as is on every platform, so files are
        byte-identical everywhere.

    Yields
    ------
    file object
        Open on a temporary file in the same directory.

    Raises
    ------
    OutputError
        The directory is missing or not writable, or writing failed (e.g. disk full). The message is
        one line and names ``path``. Exceptions raised by the caller's block propagate unchanged;
        in every failure case the temporary file is removed and ``path`` is left as it was.
    """
    target = Path(path)
    with _temp_file(target, mode, encoding, newline) as (handle, temp):
        yield handle
    try:
        _replace(temp, target)
    except BaseException:
        _remove_quietly(temp)
        raise
    _fsync_dir(target.parent)


class AtomicOutputs:
    """Several outputs written as one transaction: all appear, or none.

    Every output is written to a temporary file next to its target. When the ``with`` block ends
    without an exception, the temporaries are renamed into place; if the block raises, all
    temporaries are removed and no target is touched. Writability of all targets is checked on
    entry (:func:`check_writable`), before any work.

    Examples
    --------
    >>> with AtomicOutputs([events_path, steps_path]) as outputs:      # doctest: +SKIP
    ...     with outputs.open(events_path) as f:
    ...         f.write(events_text)
    ...     write_steps_csv(outputs.temp_path(steps_path), steps)

    Notes
    -----
    The commit is a sequence of :func:`os.replace` calls, each atomic on its own. All writing is
    finished and fsync'ed before the first rename, so a failing writer never leaves a partial set.
    A rename itself failing after every write succeeded (practically only if a target was replaced
    by a directory meanwhile) raises :class:`OutputError`; the remaining temporaries are removed.
    """

    def __init__(self, paths: Iterable[PathLike] = (), *, check: bool = True) -> None:
        self._declared = [Path(p) for p in paths]
        self._check = check
        self._temps: dict[Path, Path] = {}
        self._active = False

    def __enter__(self) -> "AtomicOutputs":
        if self._check and self._declared:
            check_writable(self._declared)
        self._active = True
        return self

    def _register(self, path: PathLike) -> Path:
        if not self._active:
            raise RuntimeError("AtomicOutputs must be used as a context manager")
        target = Path(path)
        if target in self._temps:
            raise ValueError(f"{target} is already written in this transaction")
        return target

    @contextlib.contextmanager
    def open(
        self, path: PathLike, mode: str = "w", *, encoding: str | None = "utf-8", newline: str | None = ""
    ) -> Iterator[IO[Any]]:
        """Open the temporary stand-in of ``path``; it is renamed into place at commit."""
        target = self._register(path)
        with _temp_file(target, mode, encoding, newline) as (handle, temp):
            self._temps[target] = temp
            try:
                yield handle
            except BaseException:
                del self._temps[target]
                raise

    def temp_path(self, path: PathLike) -> Path:
        """A temporary path to hand to any writer (e.g. :func:`write_steps_csv`); renamed to ``path`` at commit.

        The file is created empty now, so a writer that never writes it still yields an (empty) output.
        """
        target = self._register(path)
        fd, temp = _make_temp(target)
        os.close(fd)
        self._temps[target] = temp
        return temp

    def _rollback(self) -> None:
        for temp in self._temps.values():
            _remove_quietly(temp)
        self._temps.clear()

    def _commit(self) -> None:
        items = list(self._temps.items())
        try:
            for target, temp in items:
                _replace(temp, target)
                del self._temps[target]
        finally:
            self._rollback()
        for parent in {target.parent for target, _ in items}:
            _fsync_dir(parent)

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self._active = False
        if exc_type is not None:
            self._rollback()
            return
        self._commit()
