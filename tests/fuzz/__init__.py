"""The schedule fuzzer (see fuzz.py)."""
