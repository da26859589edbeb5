"""The planted bugs of tools/mutation_check.py: one textual edit each, and the tests that
should catch it. ``old`` must occur exactly once in ``file`` (the tool stops and names the
mutant when the code has drifted)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mutant:
    name: str
    description: str
    file: str                 # relative to the repository root
    old: str                  # must occur exactly once in the file
    new: str
    tests: tuple[str, ...]    # test files and node ids ("file::name", "*" wildcards after ::)

    @property
    def kind(self) -> str:
        return "shader" if self.file.startswith("glsl/") else "python"


# -- the mutants -----------------------------------------------------------------------

GRAD_LINE = "grad[i] = sum * u_norm / (2.0 * g.eps * float(u_pairs));"

# Tests by what they check: tests/test_gradients.py holds the finite-difference checks of
# every parameter kind and estimator mode, tests/test_kernels.py and tests/test_references.py
# the numpy references of single passes, tests/test_render_reference.py clean renders against
# a numpy renderer, tests/test_outputs.py and tests/test_resume.py the loop's bookkeeping.
SOUP_FD = ("tests/test_gradients.py::test_soup_2d",)
SOUP_DEPTH_FD = ("tests/test_gradients.py::test_soup_2d_depths*",
                 "tests/test_gradients.py::test_soup_perspective*")
MESH_POS_FD = ("tests/test_gradients.py::test_mesh_vertex_positions",)
MESH_TEX_FD = ("tests/test_gradients.py::test_mesh_texels",)
MESH_COLOR_FD = ("tests/test_gradients.py::test_mesh_vertex_colors",)
MULTI_VIEW_FD = ("tests/test_gradients.py::test_mesh_several_views*",)
SCHEDULE = ("tests/test_outputs.py::*schedule*",)
DEEP_RENDER = ("tests/test_glass.py::test_clean_render*", "tests/test_deep_ids.py::test_fragments*")
GLASS_FD = ("tests/test_glass.py::test_glass_gradient*",)


def _flip(name: str, what: str, guard: str, group: str, tests) -> Mutant:
    return Mutant(
        name, f"per-parameter pass: gradient sign flipped for {what}", "glsl/param_grad.comp", GRAD_LINE,
        f"#if {guard}\n    if (group_of(i) == uint({group})) sum = -sum;  // mutant\n#endif\n    {GRAD_LINE}",
        tuple(tests))


MUTANTS: tuple[Mutant, ...] = (
    Mutant("grad_scaled_x2", "per-parameter pass: every gradient times 2", "glsl/param_grad.comp",
           GRAD_LINE, "grad[i] = 2.0 * sum * u_norm / (2.0 * g.eps * float(u_pairs));",
           SOUP_FD + MESH_POS_FD),
    Mutant("grad_scaled_x1.1", "per-parameter pass: every gradient times 1.1", "glsl/param_grad.comp",
           GRAD_LINE, "grad[i] = 1.1 * sum * u_norm / (2.0 * g.eps * float(u_pairs));",
           SOUP_FD + MESH_COLOR_FD),
    _flip("sign_soup_positions", "soup positions", "defined(GROUP_DEPTHS)", "GROUP_POSITIONS", SOUP_FD),
    _flip("sign_soup_depths", "soup depths", "defined(GROUP_DEPTHS)", "GROUP_DEPTHS", SOUP_DEPTH_FD),
    _flip("sign_soup_colors", "soup colours", "defined(GROUP_DEPTHS)", "GROUP_COLORS", SOUP_FD),
    _flip("sign_mesh_positions", "mesh vertex positions", "defined(TRI_COUNT)", "GROUP_POSITIONS", MESH_POS_FD),
    _flip("sign_texels", "texels", "defined(GROUP_TEXTURE)", "GROUP_TEXTURE", MESH_TEX_FD),
    _flip("sign_vertex_colors", "mesh vertex colours", "defined(TRI_COUNT) && defined(GROUP_COLORS)",
          "GROUP_COLORS", MESH_COLOR_FD),
    Mutant("soup_contributor_off_by_one", "G: a soup sample's contributor is the next triangle (id mod n, not id - 1)",
           "glsl/scene/soup/soup_shade.glsl", "add_contributor(id - 1u);",
           "add_contributor(id % (groups[GROUP_COLORS].count / 3u));", SOUP_FD),
    Mutant("texel_contributor_row_shift", "G: a mesh sample's texel contributors shifted one row down",
           "glsl/scene/mesh/mesh_shade.glsl",
           "#ifdef TEXTURE_CONTRIB\n    add_contributor(uint(TEXEL_CONTRIB_BASE) + texel_index(i0));",
           "#ifdef TEXTURE_CONTRIB\n    i0.y += 1;  // mutant\n    add_contributor(uint(TEXEL_CONTRIB_BASE) + texel_index(i0));",
           MESH_TEX_FD),
    Mutant("soup_depth_perturbed_minus", "R: soup depths perturbed with -sigma (their gradient flips)",
           "glsl/scene/soup/soup.vert", "perturbed(iz, gz.eps, ci.key, ci.sigma)", "perturbed(iz, gz.eps, ci.key, -ci.sigma)",
           SOUP_DEPTH_FD),
    Mutant("full_image_sign", "G, FULL_IMAGE: the image's f+ - f- accumulated with the wrong sign",
           "glsl/gradient.comp", "accumulate(pair, 0u, total);", "accumulate(pair, 0u, -total);",
           ("tests/test_gradients.py::test_full_image*",
            "tests/test_convergence.py::test_per_pixel_converges_and_beats_full_image")),
    Mutant("adam_no_bias_correction", "Adam: moments used without bias correction", "glsl/adam.comp",
           "(mv.x / bias1) / (sqrt(mv.y / bias2) + u_adam_eps)", "mv.x / (sqrt(mv.y) + u_adam_eps)",
           ("tests/test_kernels.py::test_adam*",)),
    Mutant("sign_shared_by_neighbours", "hash: parameters 2k and 2k+1 share one sign (param_sign(i & ~1u))",
           "glsl/include/rng.glsl", "return (pcg_hash(i ^ key) & 0x80000000u)",
           "return (pcg_hash((i & ~1u) ^ key) & 0x80000000u)",
           ("tests/test_kernels.py::test_perturb*",)),
    Mutant("minus_copy_plus_sign", "R: the minus copy is drawn with the plus perturbation",
           "glsl/include/copies.glsl", "ci.sigma = (copy & 1) == 0 ? 1.0 : -1.0;", "ci.sigma = 1.0;",
           SOUP_FD + MESH_POS_FD),
    Mutant("pairs_share_pair0_signs", "R: every sign pair drawn with pair 0's signs (G and grad use the pair's)",
           "glsl/include/copies.glsl", "ci.key = pair_key(u_seed, u_iteration, pair);",
           "ci.key = pair_key(u_seed, u_iteration, 0u);", SOUP_FD + MESH_POS_FD),
    Mutant("l1_loss_is_l2", "G: the L1 pixel loss computed as L2", "glsl/include/loss.glsl",
           "return abs(d.r) + abs(d.g) + abs(d.b);", "return dot(d, d);",
           ("tests/test_gradients.py::*l1*",)),
    Mutant("supersample_weight", "resolve: subsamples averaged with 1/SS instead of 1/SS^2",
           "glsl/include/resolve.glsl", "return sum * (1.0 / float(NSUB));", "return sum * (1.0 / float(SS));",
           ("tests/test_render_reference.py::test_soup_2d_matches_reference",
            "tests/test_render_reference.py::test_soup_perspective_matches_reference",
            "tests/test_convergence.py::test_supersampled_run_converges")),
    Mutant("vertex_gather_drops_last_triangle", "grad: a shared vertex gathers all but its last incident triangle",
           "glsl/param_grad.comp", "for (uint k = gather[s]; k < gather[s + 1u]; ++k) a +=",
           "for (uint k = gather[s]; k + 1u < gather[s + 1u]; ++k) a +=",
           MESH_COLOR_FD + MESH_POS_FD),
    Mutant("camera_of_pair_slot0", "R and G: every pair of a multi-view iteration uses the first view's camera",
           "glsl/include/views.glsl", "return view_cams[pair / uint(u_samples)];", "return view_cams[0];",
           MULTI_VIEW_FD + ("tests/test_mesh_convergence.py::test_texture_recovery*",)),
    Mutant("texel_wrap_negative_modulo", "G: texel indices wrapped with % (undefined for negatives in GLSL)",
           "glsl/scene/mesh/mesh_shade.glsl", "t -= size * ivec2(floor(vec2(t) / vec2(size)));", "t = ((t % size) + size) % size;",
           ("tests/test_render_reference.py::test_texture_wrap*",)),
    Mutant("laplacian_gradient_halved", "Laplacian regulariser: gradient without its factor 2",
           "glsl/scene/mesh/laplacian.comp", "g *= 2.0 * u_weight;", "g *= u_weight;",
           ("tests/test_references.py::test_laplacian*",)),
    # -- the deep id buffer (visibility strategy (b))
    Mutant("deep_composite_back_to_front", "deep id buffer: fragments composited back to front",
           "glsl/include/deep_composite.glsl",
           "        float a = g_deep_alpha[i];\n"
           "        c += (t * a) * deep_fragment_color(g_deep_id[i], s);",
           "        int r = g_deep_n - 1 - i;  // mutant\n        float a = g_deep_alpha[r];\n"
           "        c += (t * a) * deep_fragment_color(g_deep_id[r], s);",
           DEEP_RENDER + GLASS_FD),
    Mutant("deep_no_early_termination", "deep id buffer: compositing runs past transmittance 1e-4",
           "glsl/include/deep_composite.glsl", "        if (t < DEEP_T_MIN) break;", "",
           ("tests/test_deep_ids.py::test_early_termination*",)),
    Mutant("deep_background_without_transmittance", "deep id buffer: the background added at full weight",
           "glsl/include/deep_resolve.glsl", "vec3 sample_color = ct.rgb + ct.a * u_background;",
           "vec3 sample_color = ct.rgb + u_background;",
           DEEP_RENDER + GLASS_FD),
    Mutant("contributor_hash_no_dedup", "hashed contributor list: a contributor seen again is listed again",
           "glsl/include/contributors.glsl", "        if (g_contrib_table[h] == key) return;\n", "",
           ("tests/test_deep_ids.py::test_64*",) + GLASS_FD),
    Mutant("contributor_hash_capacity_one", "hashed contributor list: holds the first contributor only",
           "glsl/include/contributors.glsl", "    if (g_ncontrib == MAX_CONTRIB) {", "    if (g_ncontrib == 1) {",
           GLASS_FD),
    # -- Python
    Mutant("schedule_off_by_one", "lr schedule: position iteration/total, not /(total-1) (never reaches lr_final)",
           "diffrast_cli/optim/schedule.py", "x = min(max(iteration / (total - 1), 0.0), 1.0)",
           "x = min(max(iteration / total, 0.0), 1.0)", SCHEDULE),
    Mutant("schedule_step_boundary", "lr schedule 'step': second drop at 90% instead of 75%",
           "diffrast_cli/optim/schedule.py", "(math.sqrt(final) if x < 0.75 else final)",
           "(math.sqrt(final) if x < 0.9 else final)", SCHEDULE),
    Mutant("bounds_lower_is_minus_upper", "layout table: lower bound uploaded as -hi (colours may go below 0)",
           "diffrast_cli/scene/params.py", "0.0 if g.frozen else g.lr, g.lo, g.hi)",
           "0.0 if g.frozen else g.lr, -g.hi, g.hi)", ("tests/test_kernels.py::test_adam*",)),
    Mutant("holdout_views_also_trained", "split_holdout: held-out views stay in the training list",
           "diffrast_cli/scene/cameras.py", "return [i for i in range(n) if i not in chosen], held",
           "return list(range(n)), held",
           ("tests/test_cameras.py::*holdout*", "tests/test_outputs.py::*holdout*")),
    Mutant("resume_skips_an_iteration", "resume starts at the checkpoint's iteration + 1",
           "diffrast_cli/pipeline.py", "start = ckpt.iteration if ckpt is not None else 0",
           "start = ckpt.iteration + 1 if ckpt is not None else 0",
           ("tests/test_resume.py::test_resume_is_bit_identical*", "tests/test_resume.py::test_killed_child*")),
    Mutant("pair_keys_shifted", "pair_keys_bytes (keys of the per-parameter pass) for pairs 1..n, not 0..n-1",
           "diffrast_cli/sge/rng.py", "for p in range(pairs)]", "for p in range(1, pairs + 1)]",
           ("tests/test_kernels.py::*mirror*",)),
    Mutant("resample_moments_kept", "soup resampling: the Adam moments of re-placed triangles are not reset",
           "glsl/scene/soup/resample.comp",
           "for (uint j = 0u; j < g.stride; ++j) moments[g.offset + t * g.stride + j] = vec2(0.0);",
           "// mutant: moments kept", ("tests/test_soup_resample.py::test_resample_pass_matches*",)),
    Mutant("resample_donor_not_split", "soup resampling: the donor keeps its whole triangle (the halves overlap)",
           "glsl/scene/soup/resample.comp", "    set_corner(donor, kb, m);\n", "",
           ("tests/test_soup_resample.py::test_resample_pass_matches*",)),
    Mutant("births_ignored_by_adam", "Adam: a re-placed element is bias-corrected with the global step",
           "glsl/adam.comp", "if (born != 0u) {", "if (born != 0u && false) {",
           ("tests/test_relayout.py::test_adam_counts_steps*",)),
    Mutant("compaction_ignores_base", "compaction: elements read from the start of the buffer, not their group",
           "glsl/move.comp", "uint src = u_base + e * u_words;", "uint src = e * u_words;",
           ("tests/test_relayout.py::test_compaction*",)),
    Mutant("atlas_uvs_to_wrong_triangles", "UV atlas: xatlas's per-corner UVs given to the wrong triangles",
           "diffrast_cli/io/uv_atlas.py", "return uv[indices], atlas.chart_count",
           "return uv[indices][::-1], atlas.chart_count",
           ("tests/test_uv_atlas.py::test_atlas_is_deterministic*", "tests/test_uv_atlas.py::test_atlas_quality*")),
    Mutant("device_clear_half", "device-side clear: only the first half of the buffer is zeroed",
           "glsl/zero.comp", "if (i < u_words) words[i] = 0u;", "if (i < u_words / 2u) words[i] = 0u;",
           ("tests/test_zero.py",)),
    Mutant("analytic_texels_unshaded", "analytic texel gradients: the Lambert factor left out of dcolour/dtexel",
           "glsl/scene/mesh/mesh_shade.glsl", "vec3 d = dl * (g_an_shade[s] / float(NSUB));",
           "vec3 d = dl / float(NSUB);", ("tests/test_gradients.py::test_mesh_texels_analytic*",)),
    Mutant("sort_ignores_earlier_chunks", "depth sort: a primitive's place leaves out its bucket's earlier chunks",
           "glsl/depth_sort.comp", "        chunk_counts[i] = running;", "        chunk_counts[i] = 0u;",
           ("tests/test_convergence.py::test_depth_sort*",)),
    Mutant("smoothness_per_texel_normaliser", "map smoothness: divided by the map's texel count, not 512^2",
           "diffrast_cli/scene/mesh/kind.py", "u_weight=weight / SMOOTHNESS_REFERENCE_TEXELS",
           "u_weight=weight / (w * h)",
           ("tests/test_texture_smoothness.py::test_pass_matches*",)),
    # issue 10: PBR materials, displacement, coarse to fine
    Mutant("pbr_base_colour_derivative_halved", "analytic base colour: half the exact derivative",
           "glsl/scene/material/material.glsl", "vec3 d = w * colour_slope(a, b, ng, tg, p, cam);",
           "vec3 d = 0.5 * w * colour_slope(a, b, ng, tg, p, cam);",
           ("tests/test_pbr_gradients.py::test_pbr_maps_analytic*",)),
    Mutant("pbr_fresnel_fourth_power", "Schlick Fresnel with (1 - VH)^4",
           "glsl/scene/material/pbr.glsl", "pow(1.0 - vh, 5.0)", "pow(1.0 - vh, 4.0)",
           ("tests/test_pbr_render.py",)),
    Mutant("pbr_tangent_handedness_ignored", "normal maps: the bitangent ignores the tangent's handedness",
           "glsl/scene/material/material.glsl", "vec3 B = (t.w < 0.0 ? -1.0 : 1.0) * cross(ng, T);",
           "vec3 B = cross(ng, T);", ("tests/test_pbr_render.py",)),
    Mutant("displacement_midlevel_ignored", "displacement by strength * h instead of strength * (h - midlevel)",
           "glsl/scene/mesh/mesh_displace.glsl", "(h - DISPLACE_MIDLEVEL)", "(h)",
           ("tests/test_displacement.py",)),
    Mutant("height_contributors_one_corner", "a displaced sample lists the height texels of one corner only",
           "glsl/scene/mesh/mesh_shade.glsl",
           "for (int c = 0; c < 3; ++c) add_map_contributors(GROUP_HEIGHT",
           "for (int c = 0; c < 1; ++c) add_map_contributors(GROUP_HEIGHT",
           ("tests/test_pbr_gradients.py::test_displaced_height_texels",)),
    Mutant("fold_rows_flipped", "coarse to fine: the fold samples the coarse level upside down",
           "glsl/scene/material/map_fold.comp", "1.0 - (float(xy.y) + 0.5) / float(u_fine_size.y)",
           "(float(xy.y) + 0.5) / float(u_fine_size.y)", ("tests/test_pyramid.py",)),
    Mutant("splat_dc_gradient_ignores_clamp", "exact splat colours: clamped channels still get a gradient",
           "glsl/scene/splats/splat_shade.glsl", "vec3(greaterThan(c, vec3(0.0)))", "vec3(1.0)",
           ("tests/test_splats.py::test_splat_gradients*",)),
    Mutant("splat_backward_quaternion_sign", "exact splat rotations: one term of d/dw with the wrong sign",
           "glsl/scene/splats/splat_backward.comp", "float gw = z * (gr[0][1] - gr[1][0])",
           "float gw = z * (gr[0][1] + gr[1][0])", ("tests/test_splats.py::test_splat_gradients*",)),
    Mutant("splat_backward_conic_not_inverted", "exact splat geometry: the conic's gradient used as Sigma2D's",
           "glsl/scene/splats/splat_backward.comp", "mat2 gs = -(k * gk * k);", "mat2 gs = gk;",
           ("tests/test_splats.py::test_splat_gradients*",)),
    Mutant("splat_screen_gradient_mean_sign", "exact splat geometry: the mean's screen derivative negated",
           "glsl/scene/splats/splat_shade.glsl", "accumulate_exact(pair, sb, g * (k3.x * dx.x + k3.y * dx.y));",
           "accumulate_exact(pair, sb, -g * (k3.x * dx.x + k3.y * dx.y));",
           ("tests/test_splats.py::test_splat_gradients*",)),
    Mutant("analytic_gain_not_undone", "exact derivatives: the fixed-point gain not divided out",
           "glsl/include/accumulate.glsl", "return accum_value(pair, c) * (1.0 / ANALYTIC_GAIN);",
           "return accum_value(pair, c);", ("tests/test_splats.py::test_splat_gradients*",)),
    Mutant("soft_einstein_derivative", "soft rasterizer: the Einstein t-conorm's dS/da missing a factor",
           "glsl/scene/soft/soft_coverage.glsl", "(1.0 - b * b) * q * q", "(1.0 - b) * q * q",
           ("tests/test_soft_coverage.py::test_conorm_values_and_derivatives*",)),
    Mutant("soft_gaussian_slope", "soft rasterizer: the Gaussian CDF's density without its normalisation",
           "glsl/scene/soft/soft_coverage.glsl", "0.39894228040143268 * exp(-0.5 * x * x)", "exp(-0.5 * x * x)",
           ("tests/test_soft_coverage.py::test_cdf_values_and_derivatives*",)),
    Mutant("soft_distance_vertex_weights_swapped", "soft rasterizer: the nearest edge's vertex weights swapped",
           "glsl/scene/soft/soft_coverage.glsl", "vec2 ga = -sgn * (1.0 - best_t) * best_n, gb = -sgn * best_t * best_n;",
           "vec2 ga = -sgn * best_t * best_n, gb = -sgn * (1.0 - best_t) * best_n;",
           ("tests/test_soft_coverage.py::test_signed_distance*",)),
    Mutant("soft_aggregate_wrong_partial", "soft rasterizer: the fold's derivative takes dS/da for dS/db",
           "glsl/scene/soft/soft_coverage.glsl", "g_soft_dcov[i] = chain * s.z;", "g_soft_dcov[i] = chain * s.y;",
           ("tests/test_soft_coverage.py::test_aggregate*",)),
    Mutant("soft_mesh_vertex_contributor_repeated", "G: a soft mesh sample names its second vertex twice, not the third",
           "glsl/scene/mesh/mesh_shade.glsl", "    add_contributor(v1);\n    add_contributor(v2);",
           "    add_contributor(v1);\n    add_contributor(v1);", ("tests/test_soft_mesh.py::test_sge_matches*",)),
    Mutant("soft_zbuffer_not_inside", "soft rasterizer: the z-buffer colour from the nearest fragment, inside or not",
           "glsl/scene/soft/soft_composite.glsl", "if (!found && c >= inside)", "if (!found)",
           ("tests/test_soft_kind.py::test_aggregation_matches*",)),
    Mutant("softmax_depth_sign", "soft rasterizer: softmax weights favour the far fragments",
           "glsl/scene/soft/soft_composite.glsl", "exp((1.0 - deep_fragment_depth(i) - z_max) / u_soft_gamma)",
           "exp((deep_fragment_depth(i) - z_max) / u_soft_gamma)", ("tests/test_soft_kind.py::test_aggregation_matches*",)),
    Mutant("pose_fov_scale", "R/G: the pose's fov scales x and y by tan(f), not tan(f / 2)",
           "glsl/scene/mesh/mesh_perturbed.glsl", "q.xy *= POSE_TAN_HALF_FOV0 / tan(0.5 * f);",
           "q.xy *= POSE_TAN_HALF_FOV0 / tan(f);", ("tests/test_mesh_pose.py::test_posed_mesh*",)),
    Mutant("pose_contributor_missing", "G: a posed mesh's samples do not name the pose",
           "glsl/scene/mesh/mesh_shade.glsl", "    add_contributor(uint(POSE_CONTRIB));",
           "    // mutant: no pose contributor", ("tests/test_mesh_pose.py::test_pose_sge*",)),
    Mutant("soft_backward_x_scale", "soft soup exact gradients: the corners' x chained without the 1/2 of NDC",
           "glsl/scene/soft/soft_backward.comp", "vec2 gp = (0.5 * tile.x * g[k].x / (w * w))",
           "vec2 gp = (tile.x * g[k].x / (w * w))", ("tests/test_soft_kind.py::test_exact_gradients*",)),
    Mutant("soft_composite_behind_sign", "soft soup exact gradients: the colour behind a fragment added, not taken",
           "glsl/scene/soft/soft_analytic.glsl", "t * col - (total - front) / (1.0 - c)",
           "t * col + (total - front) / (1.0 - c)", ("tests/test_soft_kind.py::test_exact_gradients*",)),
    Mutant("halfedge_twin_of_second_child", "Catmull-Clark topology: the second child's twin taken from prev, not next",
           "diffrast_cli/scene/subdiv/halfedge.py", "twin[child(1)] = 4 * m.next + 2", "twin[child(1)] = 4 * m.prev + 2",
           ("tests/test_subdiv_halfedge.py",)),
    Mutant("splat_raster_open_square", "compute R for splats: the square's edge samples left out",
           "glsl/scene/splats/splat_raster.comp", "if (abs(d.x) > r || abs(d.y) > r) return 0.0;",
           "if (abs(d.x) >= r - 0.5 || abs(d.y) >= r - 0.5) return 0.0;",
           ("tests/test_splats.py::test_render_matches_the_numpy_reference*",)),
)

QUICK = ("adam_no_bias_correction", "sign_shared_by_neighbours", "laplacian_gradient_halved", "pair_keys_shifted")
