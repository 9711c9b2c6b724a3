"""A Gemmini-style accelerator as a knit library: a 16x16 int8 systolic array with a
scratchpad (GEMM_SCRATCH), an accumulator (GEMM_ACCUM), configuration state and
instructions that move and compute blocks -- and a C simulator, so that its programs run
and are checked here. See docs/gemmini.md.

Written with knit's public API only, as a user would. Names and signatures are those of
Exo 1.0's `exo.platforms.gemmini`, and, like it, this module also exports knit's
scheduling library and Exo's Gemmini scheduling helpers (`old_split`, `lift_config`,
`split_fission_dim`, ...), so that a program written for it runs after `exo` -> `knit`.

- memories.py: the two memories (allocation and row addressing in the simulator)
- configs.py: the configuration state (`@config`), `acc_scale` and `clamp`
- loads.py, stores.py, compute.py: the instructions (`@instr`, bodies = meaning)
- schedules.py: Exo's scheduling helpers, as sequences of checked primitives
- sim.py: `simulate(p)`: run a compiled proc, raise on a fault, report modelled cycles
- gemmini_sim.c: the simulator and its cost model, pasted into the generated C
"""

# Exo's gemmini module re-exports the whole scheduling library, and Exo's applications
# rely on it (`from exo.platforms.gemmini import *` is their only import). It comes
# first: the Gemmini modules below override some of the library's names.
from knit.stdlib.scheduling import *  # noqa: F403

# isort: split
from knit import DRAM, config, instr, proc
from knit.libs.externs import relu, select
from knit.platforms.gemmini.compute import *  # noqa: F403
from knit.platforms.gemmini.configs import *  # noqa: F403
from knit.platforms.gemmini.loads import *  # noqa: F403
from knit.platforms.gemmini.memories import GEMM_ACCUM, GEMM_SCRATCH
from knit.platforms.gemmini.schedules import *  # noqa: F403
from knit.platforms.gemmini.sim import GemminiError, Simulation, Stats, simulate
from knit.platforms.gemmini.stores import *  # noqa: F403

_ = (DRAM, config, instr, proc, relu, select, GEMM_ACCUM, GEMM_SCRATCH, GemminiError,
     Simulation, Stats, simulate)  # re-exported
