"""check_equiv and configs: every run starts from the same config state, and final
config values are compared like buffers (docs/semantics.md#config-read)."""

from __future__ import annotations

import pytest

import knit
from knit import config, proc
from knit.equiv import EquivalenceError, check_backends


@config
class EqCfg:
    x: f32
    k: index
    on: bool


@proc
def bump(N: size, y: f32[N] @ DRAM):
    EqCfg.x = EqCfg.x + 1.0
    for i in seq(0, N):
        y[i] = EqCfg.x


@proc
def bump_again(N: size, y: f32[N] @ DRAM):
    # the same computation, written differently
    EqCfg.x = 1.0 + EqCfg.x
    for i in seq(0, N):
        y[i] = EqCfg.x


@proc
def leaves_x(N: size, y: f32[N] @ DRAM):
    EqCfg.x = 2.0
    for i in seq(0, N):
        y[i] = 0.0


@proc
def leaves_x_other(N: size, y: f32[N] @ DRAM):
    EqCfg.x = 3.0
    for i in seq(0, N):
        y[i] = 0.0


@proc
def leaves_k(N: size, y: f32[N] @ DRAM):
    EqCfg.k = 1
    EqCfg.on = True
    for i in seq(0, N):
        y[i] = 0.0


@proc
def leaves_k_off(N: size, y: f32[N] @ DRAM):
    EqCfg.k = 1
    EqCfg.on = False
    for i in seq(0, N):
        y[i] = 0.0


@pytest.mark.parametrize("interpret", [True, False])
def test_a_result_depending_on_the_initial_config_value_is_not_a_false_difference(interpret):
    # before: the second proc started from the value the first one left (x + 1), so a
    # pair computing the same thing "differed"
    report = knit.check_equiv(bump, bump_again, trials=4, interpret=interpret,
                              compiled=not interpret)
    assert report.trials == 4


@pytest.mark.parametrize("interpret", [True, False])
def test_a_difference_only_in_a_final_config_value_is_found(interpret):
    with pytest.raises(EquivalenceError) as e:
        knit.check_equiv(leaves_x, leaves_x_other, trials=2, interpret=interpret,
                         compiled=not interpret)
    assert "config EqCfg.x (final value)" in str(e.value)
    assert "2.0 vs 3.0" in str(e.value)


def test_a_bool_final_value_is_compared_compiled_and_interpreted():
    for interpret in (True, False):
        with pytest.raises(EquivalenceError, match=r"config EqCfg\.on \(final value\)"):
            knit.check_equiv(leaves_k, leaves_k_off, trials=1, interpret=interpret,
                             compiled=not interpret)


def test_runs_start_from_the_same_config_state_whatever_ran_before():
    # a run that leaves EqCfg.x at 2 must not change what bump computes next
    knit.check_equiv(leaves_x, leaves_x, trials=1)
    knit.check_equiv(bump, bump, trials=3)
    check_backends(bump, trials=3)


@proc
def no_write(N: size, y: f32[N] @ DRAM):
    for i in seq(0, N):
        y[i] = 0.0


def test_a_field_in_modulo_configs_is_not_compared():
    # bind_config / write_config / delete_config give procs equal modulo such a field
    with pytest.raises(EquivalenceError, match=r"config EqCfg\.x \(final value\)"):
        knit.check_equiv(no_write, leaves_x, trials=1)
    knit.check_equiv(no_write, leaves_x, trials=1, modulo_configs=[(EqCfg, "x")])
    knit.check_equiv(leaves_x, leaves_x_other, trials=1, modulo_configs=[EqCfg])
    knit.check_equiv(leaves_x, leaves_x_other, trials=1, modulo_configs=[(EqCfg, "x")])


def test_the_field_a_config_rewrite_changes_is_left_out_by_default():
    from knit.stdlib.scheduling import write_config

    p = write_config(leaves_x, leaves_x.find("EqCfg.x = _").after(), EqCfg, "x", "5.0")
    knit.check_equiv(leaves_x, p, trials=1)
    with pytest.raises(EquivalenceError, match=r"config EqCfg\.x \(final value\) is 2\.0 "
                       r"vs 5\.0"):
        knit.check_equiv(leaves_x, p, trials=1, modulo_configs=())
