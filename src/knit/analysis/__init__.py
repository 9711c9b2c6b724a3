"""Analyses over the IR: affine normal forms, the z3 layer, effects."""
