# Two entry points that work from a clean clone: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint install clean bench testdeps simde docs

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,docs]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) examples/gemm_demo.py
	$(PY) examples/avx2_microkernel.py
	$(PY) examples/sgemm.py

test: $(STAMP) testdeps
	$(PY) -m pytest -q -n 2 tests

# The linter alone (`make test` runs it too, as tests/test_lint.py); rules in pyproject.toml.
lint: $(STAMP)
	$(PY) -m ruff check src tests examples benchmarks

# Test tools from apt, installed when apt is available and we may use it: SIMDe
# (libsimde-dev) executes AVX-512 code on a machine without AVX-512; the AArch64 cross
# compiler (gcc-aarch64-linux-gnu) and qemu-user execute NEON code on a machine without
# Arm; clang (with its OpenMP runtime) is the second compiler the differential tests run
# the interpreter against (gcc is the first). The tests that need them say so, and skip,
# when they are missing.
TESTDEPS := libsimde-dev gcc-aarch64-linux-gnu qemu-user clang libomp-dev
testdeps:
	@{ test -f /usr/include/simde/x86/avx512.h && command -v aarch64-linux-gnu-gcc >/dev/null \
	   && command -v qemu-aarch64 >/dev/null && command -v clang >/dev/null; } || \
	  { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
	    { apt-get update -qq && apt-get install -y -qq $(TESTDEPS) >/dev/null; } ; } || \
	  echo "note: $(TESTDEPS) not all installed; the AVX-512 and NEON tests that need them will be skipped"

simde: testdeps

# The docs site (docs/*.md and an API reference from the docstrings) in build/site;
# strict: a broken link, anchor or reference fails the build.
docs: $(STAMP)
	$(PY) -m pip install -q -e '.[docs]'
	PYTHONPATH=src $(PY) -m mkdocs build --strict

bench: $(STAMP)
	$(PY) benchmarks/call_overhead.py

# The schedule fuzzer (tests/fuzz): random procs, random schedules, every accepted
# rewrite checked on random inputs, every program run interpreted and compiled by gcc
# and clang. `make fuzz FUZZ_SECONDS=600 FUZZ_JOBS=2`; `FUZZ_CASES=300` runs exactly
# the cases FUZZ_SEED.. instead (the same ones on any knit: compare two runs' JSON,
# FUZZ_SAVE=run.json, with `python -m tests.fuzz.compare a.json b.json`).
FUZZ_SECONDS ?= 120
FUZZ_SEED    ?= 0
FUZZ_JOBS    ?= 1
FUZZ_CASES   ?=
FUZZ_SAVE    ?=
.PHONY: fuzz
fuzz: $(STAMP)
	@command -v clang >/dev/null || { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
	  apt-get install -y -qq clang libomp-dev >/dev/null; } || \
	  echo "note: no clang; the fuzzer compares the interpreter with gcc only"
	$(PY) -m tests.fuzz.fuzz --seconds $(FUZZ_SECONDS) --seed $(FUZZ_SEED) --jobs $(FUZZ_JOBS) \
	  $(if $(FUZZ_CASES),--cases $(FUZZ_CASES)) $(if $(FUZZ_SAVE),--save $(FUZZ_SAVE))

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
