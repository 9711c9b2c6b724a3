# Two entry points that work from a clean clone: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test install clean bench simde

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) examples/gemm_demo.py
	$(PY) examples/avx2_microkernel.py

test: $(STAMP) simde
	$(PY) -m pytest -q -n 2 tests

# SIMDe lets the tests execute AVX-512 code on a machine without AVX-512. Installed when
# apt is available and we may use it; the AVX-512 tests say so when it is missing.
simde:
	@test -f /usr/include/simde/x86/avx512.h || \
	  { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
	    { apt-get update -qq && apt-get install -y -qq libsimde-dev >/dev/null; } ; } || \
	  echo "note: libsimde-dev not installed; AVX-512 tests will be skipped"

bench: $(STAMP)
	$(PY) benchmarks/call_overhead.py

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
