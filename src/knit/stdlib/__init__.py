"""The scheduling library: `scheduling` (the primitives), `stdlib` (Exo's higher-level
schedules built from them), `inspection` and `halide_scheduling_ops`."""

__all__ = ["scheduling", "stdlib"]


def __getattr__(name: str):
    # submodules load on first use, as `import knit` stays cheap
    if name in ("scheduling", "stdlib", "inspection", "halide_scheduling_ops"):
        import importlib

        return importlib.import_module(f"knit.stdlib.{name}")
    raise AttributeError(f"module 'knit.stdlib' has no attribute {name!r}")
