"""Fault injection against the cache and the compiler (issue 15): every damage to a
cache entry is repaired by the next compile, with a warning; every cache or compiler
failure is a knit error naming the directory or the compiler. Loads that could crash
run in a subprocess with a timeout, so a regression fails the test instead of
killing (or hanging) pytest."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from knit import cache as kc, proc
from knit.errors import CompileError
from knit.runtime import cc as knit_cc, jit

KERNEL = textwrap.dedent("""
    from __future__ import annotations
    import sys, warnings
    import numpy as np
    from knit import proc

    @proc
    def axpy(N: size, a: f32, x: f32[N], y: f32[N]):
        for i in seq(0, N):
            y[i] += a * x[i]

    if __name__ == "__main__":
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                f = axpy.compile()
            except Exception as err:
                print(f"ERROR {type(err).__module__}.{type(err).__name__}: {err}")
                sys.exit(3)
        for w in caught:
            print(f"WARNING {w.category.__name__}: {w.message}")
        y = np.ones(5, np.float32)
        f(2.0, np.arange(5, dtype=np.float32), y)
        print("RESULT", y.tolist())
""")
LIBS = "[0-9a-f]*.so"  # procs' libraries (not the call extension, knitcall-*.so)
GOOD = "RESULT [1.0, 3.0, 5.0, 7.0, 9.0]"


@pytest.fixture
def env(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("KNIT_CACHE_DIR", str(d))
    monkeypatch.delenv("CC", raising=False)
    (tmp_path / "kernel.py").write_text(KERNEL)
    return {**os.environ, "KNIT_CACHE_DIR": str(d)}


def run(tmp_path: Path, env: dict, umask: int | None = None) -> subprocess.CompletedProcess:
    pre = None if umask is None else (lambda: os.umask(umask))
    return subprocess.run([sys.executable, str(tmp_path / "kernel.py")], env=env,
                          capture_output=True, text=True, timeout=120, preexec_fn=pre)


def entry(env: dict) -> Path:
    libs = [p for p in Path(env["KNIT_CACHE_DIR"]).glob(LIBS)]
    assert len(libs) == 1, libs
    return libs[0]


def script_cc(tmp_path: Path, body: str, name: str = "cc.sh") -> Path:
    """A compiler script: `--version` answers like a compiler; other calls run body."""
    p = tmp_path / name
    p.write_text(f'#!/bin/sh\nif [ "$1" = --version ]; then echo "script cc 1.0"; exit 0; '
                 f'fi\n{body}\n')
    p.chmod(0o755)
    return p


def out_path_of(args_var: str = '"$@"') -> str:
    """Shell that sets $out to the argument after -o."""
    return ('out=""; prev=""; for a in ' + args_var + '; do [ "$prev" = -o ] && out="$a"; '
            'prev="$a"; done')


# ---------------------------------------------------------------- damaged entries


def _truncate(n):
    def damage(p: Path):
        data = p.read_bytes()
        p.write_bytes(data[:n])
    return damage


def _corrupt_same_size(p: Path):
    data = bytearray(p.read_bytes())
    for i in range(64, len(data) - 64, 97):  # headers, code and data alike
        data[i] ^= 0x5A
    p.write_bytes(bytes(data))


def _flip_one_byte_of_code(p: Path):
    data = bytearray(p.read_bytes())
    data[len(data) // 3] ^= 0x01  # the kind of change that silently alters results
    p.write_bytes(bytes(data))


def _directory(p: Path):
    p.unlink()
    p.mkdir()
    (p / "junk").write_text("x")


def _fifo(p: Path):
    p.unlink()
    os.mkfifo(p)


def _symlink(p: Path):
    other = p.with_name("elsewhere.bin")
    other.write_bytes(p.read_bytes())
    p.unlink()
    p.symlink_to(other)


def _empty(p: Path):
    p.write_bytes(b"")


def _checksum_stripped(p: Path):
    p.write_bytes(p.read_bytes()[:-kc._TRAILER.size])  # a valid ELF without our trailer


DAMAGE = {"truncated to 1000 bytes": _truncate(1000),
          "truncated to 4096 bytes": _truncate(4096),
          "truncated to 12288 bytes": _truncate(12288),
          "corrupted, same size": _corrupt_same_size,
          "one byte of code flipped": _flip_one_byte_of_code,
          "a directory at the path": _directory,
          "a FIFO at the path": _fifo,
          "a symlink at the path": _symlink,
          "empty": _empty,
          "checksum trailer removed": _checksum_stripped}


@pytest.mark.parametrize("how", list(DAMAGE))
def test_a_damaged_entry_is_rebuilt_once_with_a_warning(tmp_path, env, how):
    first = run(tmp_path, env)
    assert first.returncode == 0 and GOOD in first.stdout, first.stdout + first.stderr
    DAMAGE[how](entry(env))
    second = run(tmp_path, env)
    assert second.returncode == 0, second.stdout + second.stderr  # no crash, no hang
    assert GOOD in second.stdout
    assert "WARNING CacheWarning" in second.stdout and "is damaged" in second.stdout
    assert "rebuilding it" in second.stdout
    third = run(tmp_path, env)  # healed: no warning any more
    assert third.returncode == 0 and GOOD in third.stdout and "WARNING" not in third.stdout
    assert stat.S_ISREG(os.lstat(entry(env)).st_mode)


def test_verification_reports_each_kind_of_damage(tmp_path, env):
    assert run(tmp_path, env).returncode == 0  # built elsewhere: never loaded here
    p = entry(env)
    good = p.read_bytes()
    assert kc.verified(str(p)) is None
    assert kc.verified(str(tmp_path / "nothing.so")) == "missing"
    expect = {"truncated to 1000 bytes": "no knit checksum",
              "corrupted, same size": "contents changed",
              "one byte of code flipped": "contents changed",
              "a directory at the path": "is a directory",
              "a FIFO at the path": "is a FIFO",
              "a symlink at the path": "symbolic link",
              "empty": "truncated (0 bytes)"}
    for how, words in expect.items():
        if p.is_dir():
            kc._remove(str(p))
        elif p.exists() or p.is_symlink():
            p.unlink()
        p.write_bytes(good)
        DAMAGE[how](p)
        t0 = time.perf_counter()
        assert words in kc.verified(str(p)), how  # a FIFO does not block it
        assert time.perf_counter() - t0 < 1.0


def test_a_partial_write_by_a_compiler_exiting_0_is_reported(tmp_path, env):
    cc = script_cc(tmp_path, f'gcc "$@" || exit 1\n{out_path_of()}\n'
                   'head -c 3000 "$out" > "$out.part"; mv "$out.part" "$out"\n'
                   'echo "cc: wrote a partial file" >&2; exit 0')
    r = run(tmp_path, {**env, "CC": str(cc)})
    assert r.returncode == 3, r.stdout + r.stderr
    assert "ERROR knit.errors.CompileError" in r.stdout
    assert f"the C compiler '{cc}' exited with status 0 but did not write a usable " \
        "library for axpy: it is truncated (3000 bytes)" in r.stdout
    assert "cc: wrote a partial file" in r.stdout  # its stderr is shown
    assert not list(Path(env["KNIT_CACHE_DIR"]).glob(LIBS))  # nothing cached
    good = run(tmp_path, env)  # the real compiler works next
    assert good.returncode == 0 and GOOD in good.stdout


def test_a_compiler_exiting_0_without_a_library_is_reported(tmp_path, env):
    cc = script_cc(tmp_path, 'echo "cc: did nothing, successfully" >&2; exit 0')
    with pytest.raises(CompileError) as info:
        jit.compile_proc(axpy._loopir_proc, cc=str(cc))
    msg = str(info.value)
    assert f"the C compiler '{cc}' exited with status 0 but did not write a usable " \
        "library for axpy: it is empty" in msg and "cc: did nothing, successfully" in msg
    assert "source: " in msg and Path(msg.split("source: ")[1].split()[0]).is_file()
    assert not [p for p in Path(env["KNIT_CACHE_DIR"]).iterdir() if p.name.startswith(".")]


def test_a_library_without_the_entry_point_is_removed_and_reported(tmp_path, env):
    empty = tmp_path / "empty.c"
    empty.write_text("int not_knit(void) { return 1; }\n")
    body = f'{out_path_of()}\nexec gcc -shared -fPIC -o "$out" {empty}'
    cc = script_cc(tmp_path, body)
    r = run(tmp_path, {**env, "CC": str(cc)})
    assert r.returncode == 3, r.stdout + r.stderr
    assert f"the library the C compiler '{cc}' built for axpy has no 'knit_entry' " \
        "function" in r.stdout and "removed, so the next compile rebuilds it" in r.stdout
    assert not list(Path(env["KNIT_CACHE_DIR"]).glob(LIBS))
    # the same compiler command, fixed: a different identity, so a fresh build
    script_cc(tmp_path, 'exec gcc "$@"')
    r = run(tmp_path, {**env, "CC": str(cc)})
    assert r.returncode == 0 and GOOD in r.stdout, r.stdout + r.stderr


def test_a_different_compiler_behind_the_same_command_rebuilds(tmp_path, env, monkeypatch):
    log = tmp_path / "log"
    cc = script_cc(tmp_path, f'echo "$@" >> {log}\nexec gcc "$@"')
    monkeypatch.setenv("CC", str(cc))

    def builds() -> int:  # of procs (not the one-time build of the call extension)
        return sum("knitcall-" not in ln for ln in log.read_text().splitlines())

    jit.compile_proc(axpy._loopir_proc)
    knit_cc._loaded.clear()
    jit.compile_proc(axpy._loopir_proc)
    assert builds() == 1  # same compiler: the cached library
    cc.write_text(cc.read_text().replace("exec gcc", "exec clang"))  # same path, new cc
    knit_cc._loaded.clear()
    jit.compile_proc(axpy._loopir_proc)
    assert builds() == 2
    assert len(list(Path(env["KNIT_CACHE_DIR"]).glob(LIBS))) == 2


def test_the_key_includes_the_version_output_and_the_cpu(monkeypatch):
    kc._version.cache_clear()
    base = kc.key("src", ["gcc"], ["-O2"], "cpu-a")
    assert kc.key("src", ["gcc"], ["-O2"], "cpu-b") != base
    monkeypatch.setattr(kc, "_version", lambda command, files: "gcc 99")
    assert kc.key("src", ["gcc"], ["-O2"], "cpu-a") != base


# ---------------------------------------------------------------- the directory


def test_cache_dir_naming_a_file_is_a_knit_error(tmp_path, monkeypatch):
    f = tmp_path / "afile"
    f.write_text("x")
    monkeypatch.setenv("KNIT_CACHE_DIR", str(f))
    with pytest.raises(kc.CacheError, match=f"the knit cache directory {f} exists but is "
                       "not a directory; set KNIT_CACHE_DIR"):
        jit.compile_proc(axpy._loopir_proc)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only directories; "
                    "test_unwritable_cache_errors_are_knit_errors covers the error path")
def test_read_only_cache_dir_is_a_knit_error(tmp_path, env):
    d = Path(env["KNIT_CACHE_DIR"])
    d.mkdir()
    d.chmod(0o555)
    try:
        with pytest.raises(kc.CacheError, match=f"the knit cache directory {d}"):
            jit.compile_proc(axpy._loopir_proc)
    finally:
        d.chmod(0o755)


@pytest.mark.parametrize("code,words", [(errno.EROFS, "the file system is read-only"),
                                        (errno.EACCES, "permission denied"),
                                        (errno.ENOSPC, "the disk is full")])
def test_unwritable_cache_errors_are_knit_errors(env, monkeypatch, code, words):
    d = env["KNIT_CACHE_DIR"]

    def fail(*a, **k):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(kc.tempfile, "mkstemp", fail)
    with pytest.raises(kc.CacheError, match=f"cannot write to the knit cache directory "
                       f"{d}: {words}"):
        jit.compile_proc(axpy._loopir_proc)


def test_a_full_disk_while_sealing_leaves_no_temp_files(env, monkeypatch):
    def full(path):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(kc, "seal", full)
    with pytest.raises(kc.CacheError, match="the disk is full"):
        jit.compile_proc(axpy._loopir_proc)
    d = Path(env["KNIT_CACHE_DIR"])
    assert not [p for p in d.iterdir() if p.name.startswith(".")]
    assert not list(d.glob(LIBS))


def test_stale_temp_files_are_cleaned_and_fresh_ones_kept(env):
    d = Path(env["KNIT_CACHE_DIR"])
    d.mkdir()
    old, fresh = d / ".0123456789abcdef.x1y2z3.so", d / ".fedcba9876543210.q.c"
    for p in (old, fresh):
        p.write_bytes(b"partial")
    long_ago = time.time() - 2 * kc.STALE_SECONDS
    os.utime(old, (long_ago, long_ago))
    user_file = d / ".notes"  # not named like ours: never touched
    user_file.write_text("mine")
    os.utime(user_file, (long_ago, long_ago))
    jit.compile_proc(axpy._loopir_proc)
    assert not old.exists() and fresh.exists() and user_file.exists()


def test_files_follow_the_umask(tmp_path, env):
    r = run(tmp_path, env, umask=0o002)
    assert r.returncode == 0, r.stdout + r.stderr
    so = entry(env)
    assert stat.S_IMODE(so.stat().st_mode) == 0o775
    assert stat.S_IMODE(so.with_suffix(".c").stat().st_mode) == 0o664
    assert stat.S_IMODE(Path(env["KNIT_CACHE_DIR"]).stat().st_mode) == 0o775


def test_eight_processes_compile_at_once(tmp_path, env):
    procs = [subprocess.Popen([sys.executable, str(tmp_path / "kernel.py")], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(8)]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0 and GOOD in out and "WARNING" not in out, out + err
    d = Path(env["KNIT_CACHE_DIR"])
    assert len(list(d.glob(LIBS))) == 1
    assert not [p for p in d.iterdir() if p.name.startswith(".")]


# ---------------------------------------------------------------- the cache API and knitc


def test_cache_size_and_clear(env):
    assert kc.size() == (0, 0)
    jit.compile_proc(axpy._loopir_proc)
    libs, nbytes = kc.size()
    so = entry(env)
    assert libs == 1 and nbytes >= so.stat().st_size + so.with_suffix(".c").stat().st_size
    mine = Path(env["KNIT_CACHE_DIR"]) / "README"
    mine.write_text("not knit's")
    assert kc.clear() >= 2
    assert kc.size() == (0, 0) and mine.exists()
    knit_cc._loaded.clear()
    jit.compile_proc(axpy._loopir_proc)  # and compiling works again
    assert kc.size()[0] == 1


def test_knitc_cache_subcommands(env):
    from knit.cli import main

    jit.compile_proc(axpy._loopir_proc)
    r = subprocess.run([sys.executable, "-m", "knit.cli", "cache", "size"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert f"{env['KNIT_CACHE_DIR']}: 1 librar" in r.stdout
    assert main(["cache", "clear"]) == 0
    assert kc.size() == (0, 0)
    assert main(["cache", "dir"]) == 0


# ---------------------------------------------------------------- a cached library stays fast


def test_verification_is_cheap(env):
    jit.compile_proc(axpy._loopir_proc)
    so = entry(env)
    t0 = time.perf_counter()
    for _ in range(20):
        assert kc.verified(str(so)) is None
    assert (time.perf_counter() - t0) / 20 < 0.005  # well under a millisecond when idle


@proc
def axpy(N: size, a: f32, x: f32[N], y: f32[N]):
    for i in seq(0, N):
        y[i] += a * x[i]


def test_in_process_rebuild_after_damage(tmp_path, env):
    """An entry damaged by someone else is verified and rebuilt in this process
    (a file this process has loaded must never be damaged in place: it is mapped)."""
    assert run(tmp_path, env).returncode == 0
    _corrupt_same_size(entry(env))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f = jit.compile_proc(axpy._loopir_proc)
    assert any(issubclass(w.category, kc.CacheWarning) for w in caught)
    y = np.zeros(3, np.float32)
    f(3, 2.0, np.ones(3, np.float32), y)
    assert y.tolist() == [2.0, 2.0, 2.0]


def test_a_fifo_at_the_compiler_identity_file_does_not_hang(env, monkeypatch):
    d = Path(env["KNIT_CACHE_DIR"])
    kc._version.cache_clear()  # remembered per process: forget it, so this cache gets one
    jit.compile_proc(axpy._loopir_proc)
    ids = list(d.glob("cc-*.id"))
    assert len(ids) == 1 and ids[0].read_text().startswith("exit 0\n")
    ids[0].unlink()
    os.mkfifo(ids[0])
    kc._version.cache_clear()
    knit_cc._loaded.clear()
    jit.compile_proc(axpy._loopir_proc)  # re-probes the compiler, replaces the FIFO
    assert stat.S_ISREG(os.lstat(ids[0]).st_mode)
