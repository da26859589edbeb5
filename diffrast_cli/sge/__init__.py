"""Stochastic gradient estimation: the P, R, G and per-parameter passes."""
