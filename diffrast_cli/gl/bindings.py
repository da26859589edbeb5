"""Single source of truth for GL binding points and work-group sizes.

Every value here is injected into every shader as a ``#define`` of the same
name, so GLSL never hard-codes a binding index or a local size.
"""

# Shader storage buffer binding points.
SSBO_PARAMS = 0        # theta: all scene parameters, float[]
SSBO_GROUPS = 1        # parameter group table (offset, count, stride, eps, lr, bounds)
SSBO_ACCUM = 2         # per-contributor accumulators, one block per antithetic pair
SSBO_GRAD = 3          # per-parameter gradient
SSBO_ADAM = 4          # Adam moments (m, v) interleaved
SSBO_STATS = 5         # reductions read back at log intervals (loss, flags)
SSBO_OUT = 6           # scratch output of test/debug passes (perturb)
SSBO_PARTIALS = 7      # per-work-group partial sums of the clean-render loss
SSBO_ORDER = 8         # primitive draw order (front to back), read by R
SSBO_BUCKETS = 9       # depth-sort histogram / bucket offsets
SSBO_CAMERAS = 10      # every camera of the job: view-projection matrix and eye position
SSBO_VIEWS = 11        # camera index of each view slot of the current pass (written per iteration)
SSBO_KEYS = 12         # pair keys of the current iteration (written per iteration, read by the gradient pass)
SSBO_GATHER = 13       # gather tables of the parameter groups that gather several contributors (CSR, u32)
# Layouts whose elements are re-placed, split or removed (sge/relayout.py); bound only when a kind has one.
SSBO_BIRTHS = 14       # per element: the Adam step after which its moments were reset (0: never), read by Adam
SSBO_COUNTS = 15       # u32 counters: [0] live elements, [1..] totals written by prefix sums of the kind's passes
SSBO_SCAN_IN = 16      # prefix sum (scan.comp): the values, ...
SSBO_SCAN_OUT = 17     # ... their exclusive prefix sums, ...
SSBO_SCAN_BLOCKS = 18  # ... and the per-work-group sums
SSBO_MOVE_FROM = 19    # compaction (move.comp): the array whose elements move, ...
SSBO_MOVE_TO = 20      # ... and the scratch they move into
SSBO_ZERO = 21         # the buffer a device-side clear is zeroing (zero.comp, gl/zero.py)
SSBO_SORT_CHUNKS = 22  # depth sort: per chunk of primitives, the count (then prefix) of each bucket

# Binding points [SSBO_VISIBILITY_FIRST, SSBO_SCENE_FIRST) belong to the visibility strategy's
# own buffers (sge/visibility.py; the deep id buffer uses three, sge/deep_ids.py).
SSBO_VISIBILITY_FIRST = 24

# Binding points [SSBO_SCENE_FIRST, device limit) belong to the scene kind: the buffers it
# declares get them in order, as defines SSBO_SCENE_<NAME> (gl/declared.py).
SSBO_SCENE_FIRST = 28

# Texture / image units.
TEX_IDS = 0            # R32UI id buffer of all copies (tiled), read by G
TEX_TARGET = 1         # target images, one layer per camera (RGBA16F array)
IMG_COLOR = 2          # resolved colour images of the clean shading pass (RGBA32F array)
IMG_SCENE = 3          # the image unit a scene kind's own passes bind a declared texture to while they write it
TEX_SCENE_FIRST = 4    # texture units [TEX_SCENE_FIRST, device limit) belong to the scene kind (TEX_SCENE_<NAME>)

# Work-group sizes.
WG_1D = 256            # per-parameter passes (P, gradient, Adam)
WG_2D_X = 16           # per-pixel passes (G, resolve)
WG_2D_Y = 8
WG_SCAN = 1024         # the single work group of the depth-sort prefix sum

# Depth sort: primitives are bucketed by clip-space depth, counted per chunk of SORT_CHUNK
# primitives (one work group; a multiple of WG_1D).
SORT_BUCKETS = 4096
SORT_CHUNK = 1024

# Fixed-point accumulation: value stored = round(diff * FIXED_SCALE).
FIXED_SCALE_DEFAULT = 65536.0

# Flag slots of the SSBO_STATS buffer (uint), read back at log intervals.
STAT_OVERFLOW = 0      # set when a fixed-point accumulator overflowed
STAT_NONFINITE = 1     # bit g set: a non-finite gradient in group g (that update skipped)
STAT_NONFINITE_PARAM = 2  # bit g set: a parameter of group g became non-finite (kept at its old value)
STAT_NONFINITE_LOSS = 3   # set when a pixel's f+ - f- was not finite (pixel skipped)
STAT_FIRST_BAD = 4     # the first Adam step (1-based) that saw a non-finite value (0: none)
STAT_VISIBILITY = 5    # visibility strategy overflow: bit 0 deep id buffer nodes over budget,
                       # bit 1 a pixel had more contributors than its list holds
STAT_COUNT = 8

# Bits of a parameter group's `flags` (group table).
GROUP_ELEMENT = 1      # element e of the group is layout element e (relayout: births, moves, resets)


def defines() -> dict[str, str]:
    """All constants above as GLSL defines."""
    out = {}
    for name, value in globals().items():
        if name.isupper() and isinstance(value, (int, float)):
            out[name] = repr(float(value)) if isinstance(value, float) else str(value)
    return out
