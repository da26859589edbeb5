"""Optimisers (Adam as a compute pass) and learning-rate schedules."""
