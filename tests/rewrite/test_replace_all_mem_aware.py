"""replace_all honours `mem_aware` (issue 14 item 6): True (the default) matches a block
only where each buffer lives in the memory the instruction's parameter names; False
skips that check, so an instruction can be put in first and the memory set after."""

from __future__ import annotations

import warnings

import pytest
from scheduling_checks import body, equiv

from knit import instr, proc
from knit.errors import SchedulingError
from knit.libs.memories import DRAM_STATIC
from knit.platforms.x86 import mm256_loadu_ps
from knit.stdlib.scheduling import (
    call_site_mem_aware_replace,
    replace,
    replace_all,
    set_memory,
)


@instr("for (int k_ = 0; k_ < 8; k_++) "
       "{dst}.data[k_ * {dst}.strides[0]] = {src}.data[k_ * {src}.strides[0]];")
def copy_to_static(dst: [f32][8] @ DRAM_STATIC, src: [f32][8] @ DRAM):
    for i in seq(0, 8):
        dst[i] = src[i]


@proc
def stage(src: f32[8], dst: f32[8]):
    r: f32[8]
    for i in seq(0, 8):
        r[i] = src[i]
    for i in seq(0, 8):
        dst[i] = r[i] * 2.0


@proc
def copy8(src: f32[8], dst: f32[8]):
    r: f32[8]
    for i in seq(0, 8):
        r[i] = src[i]
    for i in seq(0, 8):
        dst[i] = r[i]


def test_replace_all_mem_aware_leaves_a_block_whose_buffer_is_in_the_wrong_memory():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nothing replaced warns
        assert replace_all(copy8, mm256_loadu_ps, quiet=True) is copy8
        assert replace_all(copy8, mm256_loadu_ps, mem_aware=True, quiet=True) is copy8


def test_replace_all_without_mem_aware_replaces_and_the_memory_can_be_set_after():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert replace_all(stage, copy_to_static, quiet=True) is stage  # r is in DRAM
    p = replace_all(stage, copy_to_static, mem_aware=False, quiet=True)
    assert "copy_to_static(r[0:8], src[0:8])" in body(p)
    assert p.is_eq(stage)
    p = set_memory(p, "r : _", DRAM_STATIC)
    equiv(stage, p)  # interpreter and compiled C agree with the original


def test_replace_all_mem_aware_must_be_a_bool():
    with pytest.raises(SchedulingError, match="replace_all: mem_aware must be True or "
                       "False, got 'no'"):
        replace_all(copy8, mm256_loadu_ps, mem_aware="no")


def test_call_site_mem_aware_replace_checks_memories():
    with pytest.raises(SchedulingError, match="must live in AVX2, but 'r' lives in DRAM"):
        call_site_mem_aware_replace(copy8, "for i in _: _", mm256_loadu_ps)
    p = replace(copy8, "for i in _: _", mm256_loadu_ps)  # plain replace: checked at C
    assert "mm256_loadu_ps(r[0:8], src[0:8])" in body(p)
