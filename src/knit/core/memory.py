"""`exo.core.memory` at the same path: Memory, DRAM, StaticMemory and MemGenError, the
names that memory definitions written for Exo import from here."""

from knit.libs.memories import StaticMemory
from knit.memory import DRAM, MemGenError, Memory

__all__ = ["Memory", "DRAM", "StaticMemory", "MemGenError"]
