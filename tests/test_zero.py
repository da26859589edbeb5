"""The device-side buffer clear (gl/zero.py) against the CPU fill it replaces on GPUs."""

import numpy as np
import pytest

from diffrast_cli.gl.zero import BufferZero


@pytest.mark.parametrize("words", [1, 255, 256, 257, 70_001])
def test_device_clear_zeroes_every_word(device, words):
    ctx = device.ctx
    rng = np.random.default_rng(words)
    buf = ctx.buffer(rng.integers(1, 2**32, size=words, dtype=np.uint32).tobytes())
    beside = ctx.buffer(np.full(64, 7, np.uint32).tobytes())   # a buffer that must stay as it is
    beside.bind_to_storage_buffer(0)
    zero = BufferZero(device, on_device=True)
    try:
        zero(buf)
        assert not np.frombuffer(buf.read(), np.uint32).any()
        assert (np.frombuffer(beside.read(), np.uint32) == 7).all()
    finally:
        zero.release()
        buf.release()
        beside.release()


def test_device_clear_covers_more_groups_than_one_dispatch_row(device, monkeypatch):
    """Past max_groups_x work groups the clear runs as a 2D grid: every word still zeroed."""
    zero = BufferZero(device, on_device=True)
    zero.max_groups = 3                     # 3 groups per row: 2,000 words need 3 rows
    buf = device.ctx.buffer(np.ones(2_000, np.uint32).tobytes())
    try:
        zero(buf)
        assert not np.frombuffer(buf.read(), np.uint32).any()
    finally:
        zero.release()
        buf.release()


def test_clear_choice_follows_the_renderer(device):
    assert BufferZero(device).on_device is (not device.is_software)
    with pytest.raises(ValueError, match="32-bit words"):
        BufferZero(device, on_device=True)(device.ctx.buffer(reserve=6))
