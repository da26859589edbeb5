"""The optional glfw window (issue 15): a live view of a running fit (live.py, watch.py)."""
