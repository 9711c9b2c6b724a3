// A functional simulator of a Gemmini-style accelerator (16x16 weight-stationary
// systolic array), with a cycle model. knit.platforms.gemmini pastes this file into
// every C file whose code uses the accelerator, so the instructions run on this machine.
//
// State: a scratchpad of 16384 rows of 16 int8 (256 KiB), an accumulator of 1024 rows
// of 16 int32 (64 KiB), the load/store/execute configuration registers, and the
// weights of the last preload. Addresses are row numbers; bit 31 selects the
// accumulator, bit 30 asks to accumulate into it, bit 29 reads it at full precision.
//
// Errors (an address outside every allocation, an instruction before its
// configuration, a bad size) are recorded, not crashed on: the first error's message is
// kept, and every later instruction does nothing (no memory is touched after a fault).
// knit's JIT reads the message after each call and raises it (GEMM_SCRATCH.call_check).
//
// Cycle model (decoupled access/execute, as in Gemmini): three units -- load (mvin),
// execute (preload/compute) and store (mvout) -- each run their queue in order and in
// parallel with the others, while every instruction waits for the rows it reads to be
// written (RAW) and the rows it writes to be read (WAR). A DMA occupies its unit for
// bytes / bandwidth cycles and its data lands `dma_latency` cycles later; a compute
// occupies the array for 16 cycles, a preload for 1 (weights are double-buffered). A
// configuration instruction that changes a register drains the units that use it and
// costs `config_cycles`. Instructions issue in order, one per cycle, at most
// `rob_size` in flight.
#ifndef KNIT_GEMMINI_SIM
#define KNIT_GEMMINI_SIM

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define GEMMINI_DIM 16
#define GEMMINI_SP_ROWS 16384
#define GEMMINI_ACC_ROWS 1024
#define GEMMINI_ACC_BIT 0x80000000u
#define GEMMINI_ACCUMULATE_BIT 0x40000000u
#define GEMMINI_FULL_BIT 0x20000000u
#define GEMMINI_ROW_MASK 0x1FFFFFFFu
#define GEMMINI_NO_ADDR 0xFFFFFFFFu  // "no operand": ~0 in the preload/compute API
#define GEMMINI_WS 1                 // the weight-stationary dataflow (the only one here)
#define GEMMINI_MAX_ALLOCS 4096
#define GEMMINI_ROB 64
// a kernel uses only some instructions (the rest must not warn); kept out of line, as
// calls, so that compiling a kernel with thousands of instructions stays fast
#define GEMMINI_FN static __attribute__((unused, noinline))

// the meaning of acc_scale: an f32 product, as the instr's body computes it
#define ACC_SCALE(x, scale) ((scale) * (x))

struct knit_gemmini_block {
    uint32_t base, rows;
};

struct knit_gemmini_allocs {
    struct knit_gemmini_block b[GEMMINI_MAX_ALLOCS];  // sorted by base
    int n;
    uint32_t capacity;
    const char *what;
};

struct knit_gemmini_stats {
    double cycles;                  // when the last instruction completes
    double load_busy, ex_busy, store_busy;
    double macs;                    // useful multiply-accumulates
    double bytes_in, bytes_out;
    int64_t n_mvin, n_mvout, n_preload, n_compute, n_config, n_config_switch;
};

struct knit_gemmini_params {
    double bandwidth;      // DMA bytes per cycle
    double dma_latency;    // cycles from a DMA's issue to its data landing
    double config_cycles;  // cost of a configuration switch
    int rob_size;          // instructions in flight
};

static struct knit_gemmini_state {
    int8_t sp[GEMMINI_SP_ROWS][GEMMINI_DIM];
    int32_t acc[GEMMINI_ACC_ROWS][GEMMINI_DIM];
    struct knit_gemmini_allocs sp_alloc, acc_alloc;
    // configuration registers: load (3 ids), store, execute
    int ld_set[3], ld_shrunk[3];
    int64_t ld_stride[3], ld_block_stride[3];
    float ld_scale[3];
    int st_set, st_act;
    int64_t st_stride;
    float st_scale;
    int ex_set, ex_dataflow;
    // the preloaded weights and the output the next compute writes
    int preloaded;
    int8_t weights[GEMMINI_DIM][GEMMINI_DIM];
    uint32_t out_addr, w_rows, w_cols, out_rows, out_cols;
    // fault
    int error;
    char message[640];
    // timing
    struct knit_gemmini_params params;
    struct knit_gemmini_stats stats;
    double sp_ready[GEMMINI_SP_ROWS], sp_read[GEMMINI_SP_ROWS];
    double acc_ready[GEMMINI_ACC_ROWS], acc_read[GEMMINI_ACC_ROWS];
    double load_clock, ex_clock, store_clock, issue_clock;
    double rob[GEMMINI_ROB];
    int64_t n_instr;
    int initialized;
} knit_gemmini;

// ---------------------------------------------------------------- faults

GEMMINI_FN void gemmini_fail(const char *fmt, ...) {
    if (knit_gemmini.error) return;  // the first fault is the one to report
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(knit_gemmini.message, sizeof knit_gemmini.message, fmt, ap);
    va_end(ap);
    knit_gemmini.error = 1;
}

GEMMINI_FN void gemmini_init(void) {
    if (knit_gemmini.initialized) return;
    knit_gemmini.sp_alloc.capacity = GEMMINI_SP_ROWS;
    knit_gemmini.sp_alloc.what = "scratchpad";
    knit_gemmini.acc_alloc.capacity = GEMMINI_ACC_ROWS;
    knit_gemmini.acc_alloc.what = "accumulator";
    knit_gemmini.params.bandwidth = 16.0;  // a 128-bit system bus
    knit_gemmini.params.dma_latency = 80.0;
    knit_gemmini.params.config_cycles = 20.0;
    knit_gemmini.params.rob_size = 32;
    knit_gemmini.initialized = 1;
}

// ---------------------------------------------------------------- allocation

// First fit over the live blocks; a full memory is a fault (the address returned lies
// past the end, and every later instruction does nothing).
GEMMINI_FN uint32_t gemmini_alloc_rows(struct knit_gemmini_allocs *a, uint64_t rows) {
    uint32_t at = 0;
    int k = 0;
    for (; k < a->n; k++) {
        if (at + rows <= a->b[k].base) break;
        at = a->b[k].base + a->b[k].rows;
    }
    if (rows == 0 || at + rows > a->capacity || a->n == GEMMINI_MAX_ALLOCS) {
        gemmini_fail("the %s is full: a buffer of %llu rows does not fit in its %u rows "
                     "(%d buffers live); allocate smaller tiles or free buffers sooner",
                     a->what, (unsigned long long) rows, a->capacity, a->n);
        return a->capacity;  // an address no buffer has
    }
    memmove(&a->b[k + 1], &a->b[k], (size_t) (a->n - k) * sizeof a->b[0]);
    a->b[k].base = at;
    a->b[k].rows = (uint32_t) rows;
    a->n++;
    return at;
}

GEMMINI_FN void gemmini_free_rows(struct knit_gemmini_allocs *a, uint32_t base) {
    for (int k = 0; k < a->n; k++) {
        if (a->b[k].base == base) {
            memmove(&a->b[k], &a->b[k + 1], (size_t) (a->n - k - 1) * sizeof a->b[0]);
            a->n--;
            return;
        }
    }
    if (!knit_gemmini.error)
        gemmini_fail("free of %s row %u, which is not the start of a live buffer", a->what,
                     base);
}

GEMMINI_FN uint64_t gemm_malloc(uint64_t bytes) {
    gemmini_init();
    return gemmini_alloc_rows(&knit_gemmini.sp_alloc, (bytes + GEMMINI_DIM - 1) / GEMMINI_DIM);
}

GEMMINI_FN void gemm_free(uint64_t addr) {
    gemmini_free_rows(&knit_gemmini.sp_alloc, (uint32_t) addr);
}

GEMMINI_FN uint32_t gemm_acc_malloc(uint64_t bytes) {
    gemmini_init();
    uint64_t row_bytes = GEMMINI_DIM * sizeof(int32_t);
    return GEMMINI_ACC_BIT |
           gemmini_alloc_rows(&knit_gemmini.acc_alloc, (bytes + row_bytes - 1) / row_bytes);
}

GEMMINI_FN void gemm_acc_free(uint32_t addr) {
    gemmini_free_rows(&knit_gemmini.acc_alloc, addr & GEMMINI_ROW_MASK);
}

// Whether rows [row, row + n) lie inside one live buffer; a fault names the instruction.
GEMMINI_FN int gemmini_in_range(const char *instr, uint32_t addr, uint32_t n) {
    struct knit_gemmini_allocs *a = (addr & GEMMINI_ACC_BIT) ? &knit_gemmini.acc_alloc
                                                             : &knit_gemmini.sp_alloc;
    uint64_t row = addr & GEMMINI_ROW_MASK;
    for (int k = 0; k < a->n; k++)
        if (a->b[k].base <= row && row + n <= (uint64_t) a->b[k].base + a->b[k].rows)
            return 1;
    gemmini_fail("%s: %s rows %llu..%llu are outside every allocated buffer (%d live)", instr,
                 a->what, (unsigned long long) row, (unsigned long long) (row + n - 1), a->n);
    return 0;
}

GEMMINI_FN int gemmini_size_ok(const char *instr, const char *what, int64_t v, int64_t hi) {
    if (v >= 1 && v <= hi) return 1;
    gemmini_fail("%s: %s is %lld, but must be between 1 and %lld", instr, what, (long long) v,
                 (long long) hi);
    return 0;
}

// ---------------------------------------------------------------- timing

// Start an instruction on a unit. It is dispatched one cycle after the one before it
// (in order), once a ROB entry is free (the instruction `rob_size` back has completed);
// it starts when its unit is free and the rows it depends on (`dep`) are ready. Units
// run ahead of each other: dispatch does not wait for the previous start.
GEMMINI_FN double gemmini_start(double *unit, double dep) {
    struct knit_gemmini_state *s = &knit_gemmini;
    int r = s->params.rob_size < 1 ? 1 : (s->params.rob_size > GEMMINI_ROB ? GEMMINI_ROB
                                                                          : s->params.rob_size);
    double issue = s->issue_clock;
    double oldest = s->rob[s->n_instr % r];  // completion of the instruction r ago
    if (oldest > issue) issue = oldest;
    s->issue_clock = issue + 1;
    double t = issue;
    if (*unit > t) t = *unit;
    if (dep > t) t = dep;
    return t;
}

GEMMINI_FN void gemmini_finish(double done) {
    struct knit_gemmini_state *s = &knit_gemmini;
    int r = s->params.rob_size < 1 ? 1 : (s->params.rob_size > GEMMINI_ROB ? GEMMINI_ROB
                                                                          : s->params.rob_size);
    s->rob[s->n_instr % r] = done;
    s->n_instr++;
    if (done > s->stats.cycles) s->stats.cycles = done;
}

GEMMINI_FN double *gemmini_ready(uint32_t addr, double **read) {
    uint32_t row = addr & GEMMINI_ROW_MASK;
    if (addr & GEMMINI_ACC_BIT) {
        *read = &knit_gemmini.acc_read[row];
        return &knit_gemmini.acc_ready[row];
    }
    *read = &knit_gemmini.sp_read[row];
    return &knit_gemmini.sp_ready[row];
}

// The earliest cycle an instruction reading rows `r` and writing rows `w` may start.
GEMMINI_FN double gemmini_deps(uint32_t r, uint32_t nr, uint32_t w, uint32_t nw) {
    double t = 0, *rd;
    for (uint32_t k = 0; r != GEMMINI_NO_ADDR && k < nr; k++) {
        double *ready = gemmini_ready(r + k, &rd);
        if (*ready > t) t = *ready;
    }
    for (uint32_t k = 0; w != GEMMINI_NO_ADDR && k < nw; k++) {
        double *ready = gemmini_ready(w + k, &rd);
        if (*ready > t) t = *ready;  // write after write
        if (*rd > t) t = *rd;        // write after read
    }
    return t;
}

GEMMINI_FN void gemmini_mark(uint32_t r, uint32_t nr, uint32_t w, uint32_t nw, double read_done,
                         double write_done) {
    double *rd;
    for (uint32_t k = 0; r != GEMMINI_NO_ADDR && k < nr; k++) {
        gemmini_ready(r + k, &rd);
        if (read_done > *rd) *rd = read_done;
    }
    for (uint32_t k = 0; w != GEMMINI_NO_ADDR && k < nw; k++) *gemmini_ready(w + k, &rd) =
        write_done;
}

// A configuration instruction: a switch (a changed value) drains `unit` and costs time.
GEMMINI_FN void gemmini_config_cost(double *unit, int changed) {
    struct knit_gemmini_state *s = &knit_gemmini;
    s->stats.n_config++;
    double t = gemmini_start(unit, 0);
    double done = t + 1;
    if (changed) {
        s->stats.n_config_switch++;
        done = t + s->params.config_cycles;
        *unit = done;
    }
    gemmini_finish(done);
}

// ---------------------------------------------------------------- configuration

GEMMINI_FN void gemmini_extended4_config_ld(int64_t stride, float scale, int shrunk,
                                        int64_t block_stride, int id) {
    struct knit_gemmini_state *s = &knit_gemmini;
    gemmini_init();
    if (s->error) return;
    if (id < 0 || id > 2) {
        gemmini_fail("config_ld: load id %d does not exist (ids are 0, 1, 2)", id);
        return;
    }
    int changed = !s->ld_set[id] || s->ld_stride[id] != stride || s->ld_scale[id] != scale ||
                  s->ld_shrunk[id] != shrunk || s->ld_block_stride[id] != block_stride;
    s->ld_set[id] = 1;
    s->ld_stride[id] = stride;
    s->ld_scale[id] = scale;
    s->ld_shrunk[id] = shrunk;
    s->ld_block_stride[id] = block_stride;
    gemmini_config_cost(&s->load_clock, changed);
}

GEMMINI_FN void gemmini_extended3_config_ld(int64_t stride, float scale, int shrunk, int id) {
    gemmini_extended4_config_ld(stride, scale, shrunk, GEMMINI_DIM, id);
}

GEMMINI_FN void gemmini_extended_config_st(int64_t stride, int act, float scale) {
    struct knit_gemmini_state *s = &knit_gemmini;
    gemmini_init();
    if (s->error) return;
    int changed = !s->st_set || s->st_stride != stride || s->st_act != act ||
                  memcmp(&s->st_scale, &scale, sizeof scale) != 0;
    s->st_set = 1;
    s->st_stride = stride;
    s->st_act = act;
    s->st_scale = scale;
    gemmini_config_cost(&s->store_clock, changed);
}

GEMMINI_FN void gemmini_extended_config_ex(int dataflow, int act, int sys_shift, int a_stride,
                                       int a_transpose, int b_transpose) {
    struct knit_gemmini_state *s = &knit_gemmini;
    gemmini_init();
    if (s->error) return;
    if (dataflow != GEMMINI_WS || act != 0 || sys_shift != 0 || a_stride != 1 || a_transpose ||
        b_transpose) {
        gemmini_fail("config_ex: only the weight-stationary dataflow without activation, "
                     "shift or transposition is simulated");
        return;
    }
    int changed = !s->ex_set;
    s->ex_set = 1;
    s->ex_dataflow = dataflow;
    gemmini_config_cost(&s->ex_clock, changed);
}

// ---------------------------------------------------------------- moves

// Not a Gemmini instruction: the `do_*` moves call this first, with the stride of the
// buffer they are given, so that a configuration made for another buffer is a fault
// instead of a silently wrong move. (`id` 3 is the store configuration.)
GEMMINI_FN void gemmini_expect_stride(int id, int64_t stride_bytes) {
    struct knit_gemmini_state *s = &knit_gemmini;
    gemmini_init();
    if (s->error) return;
    static const char *what[4] = {"mvin", "mvin2", "mvin3", "mvout"};
    int set = id < 3 ? s->ld_set[id] : s->st_set;
    int64_t have = id < 3 ? s->ld_stride[id] : s->st_stride;
    if (!set)
        gemmini_fail("%s before its configuration: no %s was executed", what[id],
                     id < 3 ? "config_ld for its load id" : "config_st");
    else if (have != stride_bytes)
        gemmini_fail("%s: configured for a DRAM stride of %lld bytes, but its buffer's rows "
                     "are %lld bytes apart", what[id], (long long) have,
                     (long long) stride_bytes);
}

// Not a Gemmini instruction: `st_acc_i8_configured` calls this first with the scale,
// ReLU flag and stride its body means, so that a store configured otherwise is a fault.
GEMMINI_FN void gemmini_expect_store(int64_t stride_bytes, int act, float scale) {
    struct knit_gemmini_state *s = &knit_gemmini;
    gemmini_expect_stride(3, stride_bytes);
    if (s->error) return;
    if (s->st_act != act || memcmp(&s->st_scale, &scale, sizeof scale) != 0)
        gemmini_fail("mvout: configured with scale %g and ReLU %s, but the store means scale "
                     "%g and ReLU %s", (double) s->st_scale, s->st_act ? "on" : "off",
                     (double) scale, act ? "on" : "off");
}



GEMMINI_FN int8_t gemmini_sat8(int64_t v) {
    return (int8_t) (v > 127 ? 127 : (v < -128 ? -128 : v));
}

// mvin through load id `id`: `rows` rows of `cols` elements from DRAM (stride from the
// config) into the scratchpad (int8) or the accumulator (int32, or int8 if `shrunk`);
// more than 16 columns are cut into blocks of 16 placed `block_stride` rows apart.
// A null DRAM address moves in zeros. Columns past `cols` keep their values.
GEMMINI_FN void gemmini_mvin(int id, const void *dram, uint64_t addr64, int64_t cols,
                         int64_t rows) {
    struct knit_gemmini_state *s = &knit_gemmini;
    static const char *names[3] = {"mvin", "mvin2", "mvin3"};
    const char *name = names[id];
    gemmini_init();
    if (s->error) return;
    uint32_t addr = (uint32_t) addr64;
    if (!s->ld_set[id]) {
        gemmini_fail("%s before its configuration: no config_ld for load id %d was executed",
                     name, id);
        return;
    }
    int acc = (addr & GEMMINI_ACC_BIT) != 0;
    int accumulate = (addr & GEMMINI_ACCUMULATE_BIT) != 0;
    int64_t max_cols = acc ? GEMMINI_DIM : 4 * GEMMINI_DIM;
    if (!gemmini_size_ok(name, "the row count", rows, GEMMINI_DIM) ||
        !gemmini_size_ok(name, "the column count", cols, max_cols))
        return;
    int64_t nblocks = (cols + GEMMINI_DIM - 1) / GEMMINI_DIM;
    int64_t bstride = s->ld_block_stride[id];
    for (int64_t j = 0; j < nblocks; j++)
        if (!gemmini_in_range(name, (uint32_t) (addr + j * bstride), (uint32_t) rows)) return;
    size_t esize = acc && !s->ld_shrunk[id] ? 4 : 1;
    float scale = s->ld_scale[id];
    for (int64_t j = 0; j < nblocks; j++) {
        uint32_t row0 = (uint32_t) ((addr & GEMMINI_ROW_MASK) + j * bstride);
        int64_t width = cols - j * GEMMINI_DIM < GEMMINI_DIM ? cols - j * GEMMINI_DIM
                                                             : GEMMINI_DIM;
        for (int64_t i = 0; i < rows; i++) {
            const char *src = dram ? (const char *) dram + i * s->ld_stride[id] : 0;
            for (int64_t k = 0; k < width; k++) {
                int64_t col = j * GEMMINI_DIM + k, v = 0;
                if (src && esize == 4) {
                    int32_t x;
                    memcpy(&x, src + 4 * col, 4);
                    v = x;
                } else if (src) {
                    v = ((const int8_t *) src)[col];
                }
                if (scale != 1.0f) v = (int64_t) nearbyintf((float) v * scale);
                if (acc) {
                    int32_t *d = &s->acc[row0 + i][k];
                    *d = accumulate ? (int32_t) ((uint32_t) *d + (uint32_t) v) : (int32_t) v;
                } else {
                    s->sp[row0 + i][k] = gemmini_sat8(v);
                }
            }
        }
    }
    // cost: the DMA's bytes (a zero fill writes one row per cycle)
    double bytes = dram ? (double) (rows * cols) * (double) esize : 0;
    double busy = dram ? ceil(bytes / s->params.bandwidth) : (double) rows * nblocks;
    uint32_t span = (uint32_t) ((nblocks - 1) * bstride + rows);
    uint32_t w = addr & (GEMMINI_ACC_BIT | GEMMINI_ROW_MASK);
    double t = gemmini_start(&s->load_clock, gemmini_deps(GEMMINI_NO_ADDR, 0, w, span));
    s->load_clock = t + busy;
    double done = t + busy + (dram ? s->params.dma_latency : 0);
    gemmini_mark(GEMMINI_NO_ADDR, 0, w, span, 0, done);
    gemmini_finish(done);
    s->stats.load_busy += busy;
    s->stats.bytes_in += bytes;
    s->stats.n_mvin++;
}

GEMMINI_FN void gemmini_extended_mvin(const void *dram, uint64_t addr, int64_t cols, int64_t rows) {
    gemmini_mvin(0, dram, addr, cols, rows);
}
GEMMINI_FN void gemmini_extended_mvin2(const void *dram, uint64_t addr, int64_t cols,
                                   int64_t rows) {
    gemmini_mvin(1, dram, addr, cols, rows);
}
GEMMINI_FN void gemmini_extended_mvin3(const void *dram, uint64_t addr, int64_t cols,
                                   int64_t rows) {
    gemmini_mvin(2, dram, addr, cols, rows);
}

// What st_acc_i8 means for one value: scale (f32; an overflow to infinity clamps), clamp
// to [-128, 127], convert as C does (toward zero), ReLU if asked. NaN (a NaN scale, or
// 0 times infinity) has no int8 value: a fault.
GEMMINI_FN int8_t gemmini_scale_out(int32_t x, float scale, int act, int *bad) {
    float t = ACC_SCALE(x, scale);
    float h = 127.0f, l = -128.0f;
    t = h < t ? h : t;
    t = t < l ? l : t;
    if (isnan(t)) {
        *bad = 1;
        return 0;
    }
    int8_t v = (int8_t) t;
    return act && v < 0 ? 0 : v;
}

// mvout: `rows` rows of `cols` elements to DRAM (stride from config_st). From the
// accumulator: scaled, clamped and activated to int8, or int32 with the full bit.
GEMMINI_FN void gemmini_extended_mvout(void *dram, uint64_t addr64, int64_t cols, int64_t rows) {
    struct knit_gemmini_state *s = &knit_gemmini;
    gemmini_init();
    if (s->error) return;
    uint32_t addr = (uint32_t) addr64;
    if (!s->st_set) {
        gemmini_fail("mvout before its configuration: no config_st was executed");
        return;
    }
    if (!gemmini_size_ok("mvout", "the row count", rows, GEMMINI_DIM) ||
        !gemmini_size_ok("mvout", "the column count", cols, GEMMINI_DIM) ||
        !gemmini_in_range("mvout", addr, (uint32_t) rows))
        return;
    int acc = (addr & GEMMINI_ACC_BIT) != 0, full = (addr & GEMMINI_FULL_BIT) != 0;
    uint32_t row0 = addr & GEMMINI_ROW_MASK;
    size_t esize = acc && full ? 4 : 1;
    for (int64_t i = 0; i < rows; i++) {  // check first: a fault writes nothing
        for (int64_t k = 0; acc && !full && k < cols; k++) {
            int bad = 0;
            gemmini_scale_out(s->acc[row0 + i][k], s->st_scale, s->st_act, &bad);
            if (bad) {
                gemmini_fail("mvout: accumulator row %u column %lld scaled by %g is not a "
                             "number, so it has no int8 value",
                             (unsigned) (row0 + i), (long long) k, (double) s->st_scale);
                return;
            }
        }
    }
    for (int64_t i = 0; i < rows; i++) {
        char *dst = (char *) dram + i * s->st_stride;
        for (int64_t k = 0; k < cols; k++) {
            if (!acc) {
                ((int8_t *) dst)[k] = s->sp[row0 + i][k];
            } else if (full) {
                memcpy(dst + 4 * k, &s->acc[row0 + i][k], 4);
            } else {
                int bad = 0;
                ((int8_t *) dst)[k] = gemmini_scale_out(s->acc[row0 + i][k], s->st_scale,
                                                        s->st_act, &bad);
            }
        }
    }
    double bytes = (double) (rows * cols) * (double) esize;
    double busy = ceil(bytes / s->params.bandwidth);
    uint32_t r = addr & (GEMMINI_ACC_BIT | GEMMINI_ROW_MASK);
    double t = gemmini_start(&s->store_clock, gemmini_deps(r, (uint32_t) rows, GEMMINI_NO_ADDR,
                                                           0));
    s->store_clock = t + busy;
    double done = t + busy + s->params.dma_latency;
    gemmini_mark(r, (uint32_t) rows, GEMMINI_NO_ADDR, 0, t + busy, 0);
    gemmini_finish(done);
    s->stats.store_busy += busy;
    s->stats.bytes_out += bytes;
    s->stats.n_mvout++;
}

// ---------------------------------------------------------------- compute

// preload: weights B (bd_rows x bd_cols, scratchpad) into the array, and the output C
// (c_rows x c_cols, accumulator; bit 30 accumulates) of the next compute.
GEMMINI_FN void gemmini_extended_preload(uint64_t bd64, uint64_t c64, int64_t bd_cols,
                                     int64_t bd_rows, int64_t c_cols, int64_t c_rows) {
    struct knit_gemmini_state *s = &knit_gemmini;
    gemmini_init();
    if (s->error) return;
    uint32_t bd = (uint32_t) bd64, c = (uint32_t) c64;
    if (!s->ex_set) {
        gemmini_fail("preload before its configuration: no config_ex was executed");
        return;
    }
    if (!gemmini_size_ok("preload", "the weight rows", bd_rows, GEMMINI_DIM) ||
        !gemmini_size_ok("preload", "the weight columns", bd_cols, GEMMINI_DIM) ||
        !gemmini_size_ok("preload", "the output rows", c_rows, GEMMINI_DIM) ||
        !gemmini_size_ok("preload", "the output columns", c_cols, GEMMINI_DIM))
        return;
    if (bd != GEMMINI_NO_ADDR && (bd & GEMMINI_ACC_BIT)) {
        gemmini_fail("preload: the weights must come from the scratchpad, not the accumulator");
        return;
    }
    if (c != GEMMINI_NO_ADDR && !(c & GEMMINI_ACC_BIT)) {
        gemmini_fail("preload: the output must go to the accumulator, not the scratchpad");
        return;
    }
    if ((bd != GEMMINI_NO_ADDR && !gemmini_in_range("preload", bd, (uint32_t) bd_rows)) ||
        (c != GEMMINI_NO_ADDR && !gemmini_in_range("preload", c, (uint32_t) c_rows)))
        return;
    if (bd != GEMMINI_NO_ADDR) {
        memset(s->weights, 0, sizeof s->weights);
        for (int64_t k = 0; k < bd_rows; k++)
            memcpy(s->weights[k], s->sp[(bd & GEMMINI_ROW_MASK) + k], (size_t) bd_cols);
        s->w_rows = (uint32_t) bd_rows;
        s->w_cols = (uint32_t) bd_cols;
    }
    s->out_addr = c;
    s->out_rows = (uint32_t) c_rows;
    s->out_cols = (uint32_t) c_cols;
    s->preloaded = 1;
    double dep = gemmini_deps(bd, (uint32_t) bd_rows, GEMMINI_NO_ADDR, 0);
    double t = gemmini_start(&s->ex_clock, dep);
    s->ex_clock = t + 1;
    gemmini_mark(bd, (uint32_t) bd_rows, GEMMINI_NO_ADDR, 0, t + 1, 0);
    gemmini_finish(t + 1);
    s->stats.ex_busy += 1;
    s->stats.n_preload++;
}

// compute: C (+)= A x B for the preloaded B and C; A is a_rows x a_cols (scratchpad).
GEMMINI_FN void gemmini_extended_compute_preloaded(uint64_t a64, uint64_t bd64, int64_t a_cols,
                                               int64_t a_rows, int64_t bd_cols,
                                               int64_t bd_rows) {
    struct knit_gemmini_state *s = &knit_gemmini;
    gemmini_init();
    if (s->error) return;
    uint32_t a = (uint32_t) a64;
    (void) bd_cols;
    (void) bd_rows;
    if (!s->preloaded) {
        gemmini_fail("compute_preloaded without a preload before it");
        return;
    }
    if ((uint32_t) bd64 != GEMMINI_NO_ADDR) {
        gemmini_fail("compute_preloaded: only the preloaded weights are simulated (pass ~0)");
        return;
    }
    if (!gemmini_size_ok("compute", "the rows of A", a_rows, GEMMINI_DIM) ||
        !gemmini_size_ok("compute", "the columns of A", a_cols, GEMMINI_DIM))
        return;
    if ((uint32_t) a_cols != s->w_rows || (s->out_addr != GEMMINI_NO_ADDR &&
                                           (uint32_t) a_rows != s->out_rows)) {
        gemmini_fail("compute: A is %lldx%lld, but the preload has %u weight rows and %u "
                     "output rows", (long long) a_rows, (long long) a_cols, s->w_rows,
                     s->out_rows);
        return;
    }
    if ((a & GEMMINI_ACC_BIT) || !gemmini_in_range("compute", a, (uint32_t) a_rows)) {
        if (!s->error) gemmini_fail("compute: A must be in the scratchpad");
        return;
    }
    uint32_t c = s->out_addr;
    if (c != GEMMINI_NO_ADDR) {
        int accumulate = (c & GEMMINI_ACCUMULATE_BIT) != 0;
        uint32_t crow = c & GEMMINI_ROW_MASK, arow = a & GEMMINI_ROW_MASK;
        for (int64_t i = 0; i < a_rows; i++) {
            for (uint32_t j = 0; j < s->out_cols; j++) {
                uint32_t sum = accumulate ? (uint32_t) s->acc[crow + i][j] : 0;
                for (int64_t k = 0; k < a_cols; k++)
                    sum += (uint32_t) ((int32_t) s->sp[arow + i][k] * s->weights[k][j]);
                s->acc[crow + i][j] = (int32_t) sum;  // wraps, as i32 arithmetic does
            }
        }
        s->stats.macs += (double) a_rows * (double) s->out_cols * (double) a_cols;
    }
    s->preloaded = 0;
    uint32_t w = c == GEMMINI_NO_ADDR ? c : (c & (GEMMINI_ACC_BIT | GEMMINI_ROW_MASK));
    double dep = gemmini_deps(a, (uint32_t) a_rows, w, s->out_rows);
    double t = gemmini_start(&s->ex_clock, dep);
    s->ex_clock = t + GEMMINI_DIM;
    double done = t + GEMMINI_DIM;
    gemmini_mark(a, (uint32_t) a_rows, w, s->out_rows, done, done);
    gemmini_finish(done);
    s->stats.ex_busy += GEMMINI_DIM;
    s->stats.n_compute++;
}

// ---------------------------------------------------------------- the Python side

// Exported so that Python can read and reset the state of the library it loaded.
const char *knit_gemmini_error(void) { return knit_gemmini.error ? knit_gemmini.message : 0; }

// After a fault is reported: instructions run again (the memories keep what they hold).
void knit_gemmini_clear_error(void) {
    knit_gemmini.error = 0;
    knit_gemmini.message[0] = 0;
}

void knit_gemmini_stats(struct knit_gemmini_stats *out) { *out = knit_gemmini.stats; }

void knit_gemmini_set_params(const struct knit_gemmini_params *p) {
    gemmini_init();
    knit_gemmini.params = *p;
}

void knit_gemmini_get_params(struct knit_gemmini_params *p) {
    gemmini_init();
    *p = knit_gemmini.params;
}

// Start a new run: statistics, timing and the fault are cleared; the memories, the
// configuration registers and live buffers stay, as on the hardware.
void knit_gemmini_begin(void) {
    struct knit_gemmini_state *s = &knit_gemmini;
    gemmini_init();
    memset(&s->stats, 0, sizeof s->stats);
    memset(s->sp_ready, 0, sizeof s->sp_ready);
    memset(s->sp_read, 0, sizeof s->sp_read);
    memset(s->acc_ready, 0, sizeof s->acc_ready);
    memset(s->acc_read, 0, sizeof s->acc_read);
    memset(s->rob, 0, sizeof s->rob);
    s->load_clock = s->ex_clock = s->store_clock = s->issue_clock = 0;
    s->n_instr = 0;
    s->error = 0;
    s->message[0] = 0;
}

// Power-on state: also forget configurations, data, buffers and the preload.
void knit_gemmini_reset(void) {
    struct knit_gemmini_params p = knit_gemmini.params;
    int had = knit_gemmini.initialized;
    memset(&knit_gemmini, 0, sizeof knit_gemmini);
    gemmini_init();
    if (had) knit_gemmini.params = p;
}

#endif  // KNIT_GEMMINI_SIM
