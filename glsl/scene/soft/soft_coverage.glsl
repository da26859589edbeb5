// The soft rasterizer's building blocks (issue 12; Wu, Mailee, Montazeri & Ritschel,
// "Learning to Rasterize Differentiably", EGSR 2024; docs/soft.md): a triangle covers a
// pixel by F(x), x = d / tau, d the signed distance from the pixel centre to the
// triangle's nearest edge (inside positive), F a CDF of one family; the coverages of
// the triangles at a pixel are aggregated by a t-conorm S. Each function returns its
// value and its exact derivatives, for G's analytic gradients
// (tests/test_soft_coverage.py checks them against a numpy reference and central
// differences). `family` and `conorm` are the SOFT_* constants below; p is the
// family's or t-conorm's shape parameter.

#define SOFT_HARD 0
#define SOFT_UNIFORM 1        // linear over x in [-1, 1]
#define SOFT_HERMITE 2        // cubic Hermite (smoothstep) over x in [-1, 1]
#define SOFT_LOGISTIC 3
#define SOFT_GAUSSIAN 4
#define SOFT_LAPLACE 5
#define SOFT_CAUCHY 6
#define SOFT_EXPONENTIAL 7    // 1 - e^-x inside, 0 outside: coverage only inside
#define SOFT_EXPONENTIAL_REV 8  // e^x outside, 1 inside: a band outside the edge
#define SOFT_GAMMA 9          // regularised lower incomplete gamma P(p, x), x >= 0
#define SOFT_MLP 10           // the learned CDF (soft_mlp below)

#define SOFT_MAX 0
#define SOFT_PROBABILISTIC 1  // a + b - a b
#define SOFT_EINSTEIN 2       // (a + b) / (1 + a b)
#define SOFT_HAMACHER 3       // (a + b - (2 - p) a b) / (1 - (1 - p) a b), p >= 0
#define SOFT_YAGER 4          // min(1, (a^p + b^p)^(1/p)), p > 0
#define SOFT_DOMBI 5          // 1 / (1 + ((a / (1 - a))^p + (b / (1 - b))^p)^(-1/p)), p > 0

const float SOFT_PI = 3.14159265358979;

// erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7)
float soft_erf(float x) {
    float t = 1.0 / (1.0 + 0.3275911 * abs(x));
    float y = 1.0 - t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
                  * exp(-x * x);
    return x < 0.0 ? -y : y;
}

// log Gamma(z), z > 0 (Lanczos, g = 7, 9 terms)
float soft_lgamma(float z) {
    const float c[9] = float[9](0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
                                -176.61502916214059, 12.507343278686905, -0.13857109526572012,
                                9.9843695780195716e-6, 1.5056327351493116e-7);
    float shift = 0.0;                      // small z: Gamma(z) = Gamma(z + 1) / z
    if (z < 0.5) { shift = log(z); z += 1.0; }
    z -= 1.0;
    float a = c[0];
    float t = z + 7.5;
    for (int i = 1; i < 9; ++i) a += c[i] / (z + float(i));
    return 0.5 * log(2.0 * SOFT_PI) + (z + 0.5) * log(t) - t + log(a) - shift;
}

// P(p, x) by its series x^p e^-x / Gamma(p + 1) * sum x^n / ((p + 1) ... (p + n)); x clamped
// to 40 (P is 1 to float precision there for the shapes p <= 10 this allows)
float soft_gamma_p(float p, float x) {
    if (!(x > 0.0)) return 0.0;
    x = min(x, 40.0);
    float term = 1.0, sum = 1.0;
    for (int n = 1; n < 200; ++n) {
        term *= x / (p + float(n));
        sum += term;
        if (term < 1e-8 * sum) break;
    }
    return min(1.0, sum * exp(p * log(x) - x - soft_lgamma(p + 1.0)));
}

// The learned CDF: 1 -> 4 -> 4 -> 4 -> 4 -> 1, bias-free, tanh, the first layer's output
// added to the fourth's input (residual), sigmoid output: 56 weights in u_soft_mlp, row
// major per layer (4, 16, 16, 16, 4). Returns (F, dF/dx) by forward-mode differentiation.
uniform float u_soft_mlp[56];

vec2 soft_mlp(float x) {
    vec4 h1 = vec4(0.0), d1 = vec4(0.0);
    for (int i = 0; i < 4; ++i) {
        float z = u_soft_mlp[i] * x;
        h1[i] = tanh(z);
        d1[i] = (1.0 - h1[i] * h1[i]) * u_soft_mlp[i];
    }
    vec4 h = h1, dh = d1;
    for (int layer = 0; layer < 3; ++layer) {
        vec4 z = vec4(0.0), dz = vec4(0.0);
        for (int i = 0; i < 4; ++i) {
            for (int j = 0; j < 4; ++j) {
                float w = u_soft_mlp[4 + 16 * layer + 4 * i + j];
                z[i] += w * h[j];
                dz[i] += w * dh[j];
            }
        }
        if (layer == 2) { z += h1; dz += d1; }      // the residual into layer 4
        vec4 t = tanh(z);
        h = t;
        dh = (1.0 - t * t) * dz;
    }
    float o = 0.0, d_o = 0.0;
    for (int j = 0; j < 4; ++j) { o += u_soft_mlp[52 + j] * h[j]; d_o += u_soft_mlp[52 + j] * dh[j]; }
    float f = 1.0 / (1.0 + exp(-o));
    return vec2(f, f * (1.0 - f) * d_o);
}

// (F(x), dF/dx) of a family
vec2 soft_cdf(int family, float x, float p) {
    if (family == SOFT_HARD) return vec2(x >= 0.0 ? 1.0 : 0.0, 0.0);
    if (family == SOFT_UNIFORM) return abs(x) < 1.0 ? vec2(0.5 * (x + 1.0), 0.5) : vec2(x > 0.0 ? 1.0 : 0.0, 0.0);
    if (family == SOFT_HERMITE) {
        if (abs(x) >= 1.0) return vec2(x > 0.0 ? 1.0 : 0.0, 0.0);
        float t = 0.5 * (x + 1.0);
        return vec2(t * t * (3.0 - 2.0 * t), 3.0 * t * (1.0 - t));
    }
    if (family == SOFT_LOGISTIC) {
        float f = 1.0 / (1.0 + exp(-x));
        return vec2(f, f * (1.0 - f));
    }
    if (family == SOFT_GAUSSIAN) return vec2(0.5 * (1.0 + soft_erf(x * 0.70710678118654752)),
                                             0.39894228040143268 * exp(-0.5 * x * x));
    if (family == SOFT_LAPLACE) {
        float e = 0.5 * exp(-abs(x));
        return vec2(x < 0.0 ? e : 1.0 - e, e);
    }
    if (family == SOFT_CAUCHY) return vec2(0.5 + atan(x) / SOFT_PI, 1.0 / (SOFT_PI * (1.0 + x * x)));
    if (family == SOFT_EXPONENTIAL) return x > 0.0 ? vec2(1.0 - exp(-x), exp(-x)) : vec2(0.0);
    if (family == SOFT_EXPONENTIAL_REV) return x < 0.0 ? vec2(exp(x), exp(x)) : vec2(1.0, 0.0);
    if (family == SOFT_GAMMA) {
        if (!(x > 0.0)) return vec2(0.0);
        float d = x < 40.0 ? exp((p - 1.0) * log(x) - x - soft_lgamma(p)) : 0.0;
        return vec2(soft_gamma_p(p, x), d);
    }
    return soft_mlp(x);
}

// (S(a, b), dS/da, dS/db) of a t-conorm, a and b in [0, 1]
vec3 soft_conorm(int conorm, float a, float b, float p) {
    if (conorm == SOFT_MAX) return a >= b ? vec3(a, 1.0, 0.0) : vec3(b, 0.0, 1.0);
    if (conorm == SOFT_PROBABILISTIC) return vec3(a + b - a * b, 1.0 - b, 1.0 - a);
    if (conorm == SOFT_EINSTEIN) {
        float q = 1.0 / (1.0 + a * b);
        return vec3((a + b) * q, (1.0 - b * b) * q * q, (1.0 - a * a) * q * q);
    }
    if (conorm == SOFT_HAMACHER) {
        float k = 1.0 - p, m = 2.0 - p;
        float num = a + b - m * a * b, den = 1.0 - k * a * b;
        if (!(abs(den) > 1e-12)) return vec3(1.0, 0.0, 0.0);    // p = 0 at a = b = 1
        return vec3(num / den, ((1.0 - m * b) * den + k * b * num) / (den * den),
                    ((1.0 - m * a) * den + k * a * num) / (den * den));
    }
    if (conorm == SOFT_YAGER) {
        float ap = a > 0.0 ? pow(a, p) : 0.0, bp = b > 0.0 ? pow(b, p) : 0.0;
        float sum = ap + bp;
        if (!(sum > 0.0)) return vec3(0.0, a == 0.0 && p <= 1.0 ? 1.0 : 0.0, b == 0.0 && p <= 1.0 ? 1.0 : 0.0);
        float s = pow(sum, 1.0 / p);
        if (s >= 1.0) return vec3(1.0, 0.0, 0.0);
        float g = s / sum;   // dS/da = S / (a^p + b^p) * a^(p - 1)
        return vec3(s, a > 0.0 ? g * ap / a : 0.0, b > 0.0 ? g * bp / b : 0.0);
    }
    // Dombi: with r = (a / (1 - a))^p, u = r_a + r_b, v = u^(-1/p): S = 1 / (1 + v);
    // dS/da = S^2 v r_a / (u a (1 - a))
    if (a <= 0.0) return vec3(b, 0.0, 1.0);
    if (b <= 0.0) return vec3(a, 1.0, 0.0);
    if (a >= 1.0 || b >= 1.0) return vec3(1.0, 0.0, 0.0);
    float ra = pow(a / (1.0 - a), p), rb = pow(b / (1.0 - b), p);
    float u = ra + rb;
    float v = pow(u, -1.0 / p);
    float s = 1.0 / (1.0 + v);
    float w = s * s * v / u;
    return vec3(s, w * ra / (a * (1.0 - a)), w * rb / (b * (1.0 - b)));
}

// The signed distance from p to the triangle (v0, v1, v2) (either winding): the distance to
// its nearest edge, positive inside. g0, g1, g2: its derivatives with respect to the
// vertices. For the nearest edge (a, b) with closest point q = a + t (b - a) and unit
// n = (p - q) / |p - q|: d|p - q|/da = -(1 - t) n, d|p - q|/db = -t n (the derivative
// through t vanishes at the closest point), times the sign.
float soft_signed_distance(vec2 p, vec2 v0, vec2 v1, vec2 v2, out vec2 g0, out vec2 g1, out vec2 g2) {
    vec2 v[3] = vec2[3](v0, v1, v2);
    float best = 3.0e38, best_t = 0.0;
    int best_e = 0;
    vec2 best_n = vec2(0.0);
    float area = (v1.x - v0.x) * (v2.y - v0.y) - (v1.y - v0.y) * (v2.x - v0.x);
    bool inside = area != 0.0;
    for (int e = 0; e < 3; ++e) {
        vec2 a = v[e], b = v[(e + 1) % 3];
        vec2 ab = b - a, ap = p - a;
        float len2 = dot(ab, ab);
        float t = len2 > 0.0 ? clamp(dot(ap, ab) / len2, 0.0, 1.0) : 0.0;
        vec2 r = ap - t * ab;
        float dist = length(r);
        if (dist < best) { best = dist; best_t = t; best_e = e; best_n = dist > 0.0 ? r / dist : vec2(0.0); }
        inside = inside && (ab.x * ap.y - ab.y * ap.x) * area > 0.0;
    }
    float sgn = inside ? 1.0 : -1.0;
    vec2 ga = -sgn * (1.0 - best_t) * best_n, gb = -sgn * best_t * best_n;
    g0 = best_e == 0 ? ga : (best_e == 2 ? gb : vec2(0.0));
    g1 = best_e == 1 ? ga : (best_e == 0 ? gb : vec2(0.0));
    g2 = best_e == 2 ? ga : (best_e == 1 ? gb : vec2(0.0));
    return sgn * best;
}

// Aggregation of n coverages g_soft_cov[0, n) by a t-conorm: A = S(... S(S(0, c0), c1) ...,
// c(n-1)); g_soft_dcov[i] = dA / dc_i (forward prefixes, then the chain backwards).
#ifndef SOFT_MAX_COVER
#define SOFT_MAX_COVER 32
#endif
float g_soft_cov[SOFT_MAX_COVER];
float g_soft_dcov[SOFT_MAX_COVER];
float g_soft_prefix[SOFT_MAX_COVER];

float soft_aggregate(int conorm, float p, int n) {
    float acc = 0.0;
    for (int i = 0; i < n; ++i) {
        g_soft_prefix[i] = acc;                      // the fold before c_i
        acc = i == 0 ? g_soft_cov[0] : soft_conorm(conorm, acc, g_soft_cov[i], p).x;
    }
    float chain = 1.0;                               // dA / d(fold after c_i)
    for (int i = n - 1; i >= 0; --i) {
        if (i == 0) { g_soft_dcov[0] = chain; break; }
        vec3 s = soft_conorm(conorm, g_soft_prefix[i], g_soft_cov[i], p);
        g_soft_dcov[i] = chain * s.z;
        chain *= s.y;
    }
    return acc;
}


// The coverage a triangle records: F taken down by SOFT_COVER_MIN and rescaled, (F - m) / (1 - m)
// clamped at 0 (m = 1/255): it reaches 0 where R stops recording (F = m), so the soft image has
// no step at the band's edge (a plain cut left a step of m, under softmax depth weights of up
// to a fifth of a colour, which central differences saw and exact derivatives cannot).
// Returns (coverage, d coverage / dx).
#define SOFT_COVER_MIN (1.0 / 255.0)
vec2 soft_coverage(int family, float x, float p) {
    vec2 f = soft_cdf(family, x, p);
    return f.x > SOFT_COVER_MIN ? vec2(f.x - SOFT_COVER_MIN, f.y) / (1.0 - SOFT_COVER_MIN) : vec2(0.0);
}
