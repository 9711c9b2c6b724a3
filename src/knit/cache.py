"""knit's on-disk cache of compiled libraries: where it is, how big, and clearing it.

    import knit.cache
    knit.cache.directory()      # $KNIT_CACHE_DIR, else ~/.cache/knit
    knit.cache.size()           # (number of libraries, bytes used)
    knit.cache.clear()          # delete every library, source and temporary file

(also `knitc cache size` and `knitc cache clear`).

An entry is `<key>.so` beside its source `<key>.c`; the key is the SHA-256 of the
source, the compiler's identity (its resolved path, file identity and `--version`
output), the flags and the target CPU, so a different compiler behind the same `cc`,
other flags or another CPU never reuse a library.

Damage cannot crash or hang a process. A library is written under a temporary name,
followed by a trailer holding its length and SHA-256, flushed to disk (fsync), then
renamed into place (atomic on POSIX): readers see a whole entry or none. Before a
library is loaded, the file must be a regular file (not a directory, FIFO or
symlink) whose trailer matches its contents; a damaged entry is rebuilt once, with a
CacheWarning. A fresh build must be a structurally complete shared library (a
compiler that exits 0 after a partial write is reported, with its output).
Temporary files left by killed processes are removed by later builds. Files are
created with the user's umask, so a cache directory can be shared by a group.

Thread safety: building and loading are serialised per entry by a lock, so threads
compiling the same proc build it once.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import os
import shlex
import shutil
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
import warnings

from knit.errors import CompileError

FORMAT = "knit-cache-2"  # part of every key: entries of older formats are never read
MAGIC = b"\0KNITSUM"
_TRAILER = struct.Struct("<8s32sQ")  # magic, SHA-256 of the library, its length
STALE_SECONDS = 3600  # a temporary file this old belongs to a process that died


class CacheError(CompileError):
    """The cache directory cannot be used (it names the directory and the reason)."""


class CacheWarning(RuntimeWarning):
    """A damaged cache entry was found and rebuilt."""


# ---------------------------------------------------------------- the directory


def directory(create: bool = True) -> str:
    """The cache directory: $KNIT_CACHE_DIR, else ~/.cache/knit (created with the
    user's umask when `create`). Raises CacheError if it is not a usable directory."""
    d = os.environ.get("KNIT_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache",
                                                         "knit")
    d = os.path.abspath(d)
    if create:
        try:
            os.makedirs(d, exist_ok=True)
        except FileExistsError:
            raise CacheError(f"the knit cache directory {d} exists but is not a directory; "
                             "set KNIT_CACHE_DIR to a directory") from None
        except OSError as err:
            raise dir_error(d, "cannot create", err) from None
    if os.path.exists(d) and not os.path.isdir(d):
        raise CacheError(f"the knit cache directory {d} exists but is not a directory; "
                         "set KNIT_CACHE_DIR to a directory")
    return d


def dir_error(d: str, doing: str, err: OSError) -> CacheError:
    hint = {errno.ENOSPC: "the disk is full; free space or run `knitc cache clear`",
            errno.EDQUOT: "the disk quota is exceeded; free space or run `knitc cache clear`",
            errno.EROFS: "the file system is read-only; set KNIT_CACHE_DIR to a writable "
                         "directory",
            errno.EACCES: "permission denied; set KNIT_CACHE_DIR to a writable directory",
            errno.EPERM: "permission denied; set KNIT_CACHE_DIR to a writable directory"}
    why = hint.get(err.errno, err.strerror or str(err))
    return CacheError(f"{doing} the knit cache directory {d}: {why}")


def size() -> tuple[int, int]:
    """(number of compiled procs' libraries, bytes used by every file knit keeps
    there, including the call extension of knit.runtime.fastcall)."""
    d = directory(create=False)
    if not os.path.isdir(d):
        return 0, 0
    libs = total = 0
    for e in os.scandir(d):
        if _ours(e.name):
            try:
                st = e.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode):
                total += st.st_size
                libs += e.name.endswith(".so") and e.name[0] in "0123456789abcdef"
    return libs, total


def clear() -> int:
    """Delete every file knit keeps in the cache directory; returns how many. Safe
    while other processes use the cache: a library they already loaded stays mapped,
    and one they look up next is rebuilt."""
    d = directory(create=False)
    if not os.path.isdir(d):
        return 0
    n = 0
    for e in os.scandir(d):
        if _ours(e.name):
            try:
                _remove(e.path)
                n += 1
            except OSError as err:
                raise dir_error(d, f"cannot delete {e.name} in", err) from None
    return n


def _ours(name: str) -> bool:
    """Files knit writes: <key>.so, <key>.c, compiler identities, and temporary
    `.<key>...` files (names are hex, so no user file is mistaken for one)."""
    name = name.lstrip(".")
    base = name.split(".")[0].removeprefix("knitcall-")  # knit.runtime.fastcall's module
    return len(base) >= 16 and all(c in "0123456789abcdef" for c in base) or \
        name.startswith("cc-")


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    else:
        os.unlink(path)


# ---------------------------------------------------------------- the key


def key(source: str, command: list[str], flags: list[str], host: str) -> str:
    h = hashlib.sha256()
    for part in (FORMAT, source, *compiler_identity(command), "\0", *command, "\0", *flags, "\0",
                 host):
        h.update(part.encode() + b"\0")  # NUL-separated, so parts cannot run together
    return h.hexdigest()


def compiler_identity(command: list[str]) -> tuple[str, ...]:
    """What makes `command` the compiler it is: each word that is a program (resolved
    through PATH and symlinks) with its file identity, and the `--version` output.
    The output is cached per file identity in the cache directory, so a fresh process
    finds a cached library without running the compiler."""
    files = []
    for word in command:
        path = shutil.which(word) if not word.startswith("-") else None
        if path:
            real = os.path.realpath(path)
            st = os.stat(real)
            files.append(f"{real}:{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}")
    if not files:
        raise CompileError(f"cannot run the C compiler '{command[0] if command else ''}': "
                           "not found\nset $CC (or pass cc=...) to a working C compiler "
                           "such as gcc or clang")
    return (*files, _version(tuple(command), tuple(files)))


@functools.lru_cache(maxsize=64)
def _version(command: tuple, files: tuple) -> str:
    ident = hashlib.sha256("\0".join(command + files).encode()).hexdigest()[:24]
    d = directory()
    path = os.path.join(d, f"cc-{ident}.id")
    known = read_regular(path)
    if isinstance(known, bytes) and known.startswith(b"exit "):
        return known.decode(errors="replace")
    try:
        r = subprocess.run([*command, "--version"], capture_output=True, text=True,
                           timeout=60, stdin=subprocess.DEVNULL)
        out = f"exit {r.returncode}\n{r.stdout}{r.stderr}"
    except (OSError, subprocess.TimeoutExpired) as err:
        raise CompileError(f"cannot run the C compiler '{command[0]}' ({shlex.join(command)}"
                           f" --version): {getattr(err, 'strerror', None) or err}\nset $CC "
                           "(or pass cc=...) to a working C compiler such as gcc or "
                           "clang") from None
    try:
        write_atomic(path, out.encode(), d, executable=False)
    except CacheError:
        pass  # only a speed-up for the next process
    return out


# ---------------------------------------------------------------- entries


def read_regular(path: str) -> bytes | str:
    """The contents of `path` if it is a regular file (not following symlinks, never
    blocking on a FIFO), else what it is instead ('missing', 'it is a FIFO', ...)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except FileNotFoundError:
        return "missing"
    except OSError as err:
        if err.errno == errno.ELOOP:
            return "it is a symbolic link"
        return f"it cannot be opened ({err.strerror})"
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = "a directory" if stat.S_ISDIR(st.st_mode) else \
                "a FIFO" if stat.S_ISFIFO(st.st_mode) else "not a regular file"
            return f"it is {kind}"
        with os.fdopen(fd, "rb", closefd=False) as f:
            return f.read()
    except OSError as err:
        return f"it cannot be read ({err.strerror})"
    finally:
        os.close(fd)


def verified(path: str) -> str | None:
    """None if `path` is a complete library written by `seal`; else what is wrong
    ('missing', or a description of the damage). Never blocks (a FIFO is opened
    non-blocking) and never loads the file."""
    data = read_regular(path)
    if isinstance(data, str):
        return data
    if len(data) < _TRAILER.size:
        return f"it is truncated ({len(data)} bytes)"
    magic, digest, length = _TRAILER.unpack_from(data, len(data) - _TRAILER.size)
    if magic != MAGIC:
        return "it has no knit checksum (truncated, or not written by knit)"
    if length != len(data) - _TRAILER.size:
        return f"its size changed ({len(data) - _TRAILER.size} bytes, {length} written)"
    if hashlib.sha256(memoryview(data)[:length]).digest() != digest:
        return "its contents changed since it was written (checksum mismatch)"
    return None


def seal(tmp: str) -> None:
    """Append the trailer to a freshly built library and flush it to disk."""
    with open(tmp, "r+b") as f:
        data = f.read()
        f.write(_TRAILER.pack(MAGIC, hashlib.sha256(data).digest(), len(data)))
        f.flush()
        os.fsync(f.fileno())


def library_problem(path: str) -> str | None:
    """What makes `path` not a complete shared library (or program), or None. Checks
    the structure the loader maps (ELF header, program headers, segments and section headers inside
    the file), so a truncated library is reported instead of crashing the loader."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as err:
        return f"it cannot be read ({err.strerror})"
    if not data:
        return "it is empty"
    if not sys.platform.startswith("linux"):
        return None
    if data[:4] != b"\x7fELF" or len(data) < 64:
        return "it is not an ELF shared library"
    wide, little = data[4] == 2, data[5] == 1
    end = "<" if little else ">"
    if wide:
        e_type, = struct.unpack_from(end + "H", data, 16)
        phoff, shoff = struct.unpack_from(end + "QQ", data, 32)
        phentsize, phnum, shentsize, shnum = struct.unpack_from(end + "HHHH", data, 54)
    else:
        e_type, = struct.unpack_from(end + "H", data, 16)
        phoff, shoff = struct.unpack_from(end + "II", data, 28)
        phentsize, phnum, shentsize, shnum = struct.unpack_from(end + "HHHH", data, 42)
    if e_type not in (2, 3):  # ET_EXEC, ET_DYN (check_instr builds programs here too)
        return "it is an ELF file but neither a shared library nor a program"
    if phoff + phnum * phentsize > len(data) or shoff + shnum * shentsize > len(data):
        return f"it is truncated ({len(data)} bytes)"
    for i in range(phnum):
        at = phoff + i * phentsize
        if wide:
            p_type, _, p_offset, _, _, p_filesz = struct.unpack_from(end + "IIQQQQ", data, at)
        else:
            p_type, p_offset, _, _, p_filesz = struct.unpack_from(end + "IIIII", data, at)
        if p_type == 1 and p_offset + p_filesz > len(data):  # PT_LOAD past the end
            return f"it is truncated ({len(data)} bytes)"
    return None


def discard(path: str, d: str) -> None:
    """Remove a damaged entry (whatever kind of file it is)."""
    try:
        _remove(path)
    except FileNotFoundError:
        pass
    except OSError as err:
        raise dir_error(d, f"cannot remove the damaged entry {os.path.basename(path)} "
                         "from", err) from None


def warn_damaged(path: str, why: str) -> None:
    warnings.warn(f"knit: the cached library {path} is damaged ({why}); rebuilding it",
                  CacheWarning, stacklevel=4)


# ---------------------------------------------------------------- writing


def umask() -> int:
    """The process's umask, read without changing it (os.umask sets it, which is not
    thread-safe), falling back to the usual 022."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022


def temp_path(d: str, prefix: str, suffix: str) -> str:
    """A fresh temporary file in `d` (dot-named, so never taken for an entry)."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=d)
    except OSError as err:
        raise dir_error(d, "cannot write to", err) from None
    os.close(fd)
    return tmp


def write_atomic(path: str, data: bytes, d: str, executable: bool) -> None:
    """Write `path` whole or not at all: a temporary file, fsync, chmod, rename."""
    tmp = temp_path(d, "." + os.path.basename(path)[:16] + ".", ".tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        publish(tmp, path, d, executable)
    except OSError as err:
        raise dir_error(d, "cannot write to", err) from None
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)


def publish(tmp: str, path: str, d: str, executable: bool) -> None:
    """Give `tmp` the user's umask and rename it to `path`, replacing whatever is
    there (a directory left at the path is removed first)."""
    os.chmod(tmp, (0o777 if executable else 0o666) & ~umask())
    try:
        os.replace(tmp, path)
    except (IsADirectoryError, NotADirectoryError):
        discard(path, d)
        os.replace(tmp, path)


def clean_stale(d: str, now: float | None = None) -> None:
    """Remove temporary files older than STALE_SECONDS (their process died)."""
    now = time.time() if now is None else now
    try:
        entries = list(os.scandir(d))
    except OSError:
        return
    for e in entries:
        if e.name.startswith(".") and _ours(e.name):
            try:
                if now - e.stat(follow_symlinks=False).st_mtime > STALE_SECONDS:
                    _remove(e.path)
            except OSError:
                pass  # another process removed it, or it is not ours to remove


# ---------------------------------------------------------------- locks

_locks: dict[str, threading.Lock] = {}
_locks_lock = threading.Lock()


def lock(path: str) -> threading.Lock:
    """The lock serialising builds and loads of one entry within this process."""
    with _locks_lock:
        lk = _locks.get(path)
        if lk is None:
            lk = _locks[path] = threading.Lock()
        return lk
