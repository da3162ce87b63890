#pragma once
// The dense layers' matrix product, y = x W^T + b, at the machine's limit.
//
// W (PyTorch's [out][in]) is packed once at load into panels of kNR output columns laid out
// [panel][k][kNR], so the micro-kernel reads it as aligned vectors; activations are broadcast
// from their row-major rows. A kMR x kNR tile of y lives in registers across a block of kKC
// inputs (the panel's slice stays in L1 while every row of x passes over it). Bias,
// a residual already stored in y, and GELU are applied to the tile as it is written.
// Threads own disjoint column panels, so they never synchronise.
//
// Kernels: AVX-512 (kMR 8 x kNR 48, 24 zmm accumulators) or AVX2+FMA (6 x 16, 12 ymm),
// chosen at compile time; other CPUs keep Eigen's product on the unpacked weights (bert.hpp).
#include <Eigen/Core>
#include <unsupported/Eigen/SpecialFunctions>
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#include <immintrin.h>
#define MICSE_PACKED_GEMM 1
#else
#define MICSE_PACKED_GEMM 0
#endif

#ifdef _OPENMP
#include <omp.h>
#endif

namespace micse::detail::gemm {

// Block sizes per instruction set, measured with bench/bench_gemm.cpp (docs/performance.md).
// AVX-512 (measured on a Xeon-class core with 1 MB+ L2): 8 x 48 tiles, all 768 inputs per block.
// AVX2 (Zen 3: 32 KB L1, 512 KB L2): 6 x 16 tiles; 384 inputs keep a panel slice (24 KB) in L1
// and 96 rows x 384 inputs of x (144 KB) in L2. 4 x 24 tiles over 768 inputs ran at ~60% of peak.
#ifndef MICSE_GEMM_MR
#if defined(__AVX512F__)
#define MICSE_GEMM_MR 8
#define MICSE_GEMM_NV 3
#else
#define MICSE_GEMM_MR 6
#define MICSE_GEMM_NV 2
#endif
#endif
#if defined(__AVX512F__)
inline constexpr int kNV = MICSE_GEMM_NV;  // vectors per panel row
inline constexpr int kNR = 16 * kNV;       // output columns per panel
inline constexpr int kMR = MICSE_GEMM_MR;  // rows of x per tile
inline constexpr const char* kKernel = "avx512";
#elif defined(__AVX2__) && defined(__FMA__)
inline constexpr int kNV = MICSE_GEMM_NV;
inline constexpr int kNR = 8 * kNV;
inline constexpr int kMR = MICSE_GEMM_MR;
inline constexpr const char* kKernel = "avx2";
#else
inline constexpr int kNV = 1;
inline constexpr int kNR = 16;
inline constexpr int kMR = 1;
inline constexpr const char* kKernel = "eigen";
#endif
#ifndef MICSE_GEMM_KC
#if defined(__AVX512F__)
#define MICSE_GEMM_KC 768
#else
#define MICSE_GEMM_KC 384
#endif
#endif
inline constexpr int kKC = MICSE_GEMM_KC;
#ifndef MICSE_GEMM_MC
#if defined(__AVX512F__)
#define MICSE_GEMM_MC 192
#else
#define MICSE_GEMM_MC 96
#endif
#endif
inline constexpr int kMC = MICSE_GEMM_MC;
#ifndef MICSE_GEMM_PREFETCH
#define MICSE_GEMM_PREFETCH 8
#endif

enum class Epilogue { bias, bias_residual, bias_gelu };

struct AlignedFree {
    void operator()(float* p) const { std::free(p); }
};
using AlignedBuffer = std::unique_ptr<float[], AlignedFree>;

inline AlignedBuffer aligned_floats(std::size_t n) {
    const std::size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, std::max<std::size_t>(bytes, 64));
    if (!p) throw std::bad_alloc();
    std::memset(p, 0, bytes);
    return AlignedBuffer(static_cast<float*>(p));
}

// W^T in panels: panel p, input k, lane j holds W[p * kNR + j][k] (zero past the last output).
// Several matrices can share one packing (Q, K and V): each starts at a panel boundary, so a
// product can run over any one of them alone (first_panel[m] .. first_panel[m + 1]).
struct PackedLinear {
    int in = 0, panels = 0;
    std::vector<int> first_panel;  // per packed matrix, then the total
    std::vector<int> panel_cols;   // valid output columns in each panel
    AlignedBuffer weights;         // [panels][in][kNR]
    AlignedBuffer bias;            // [panels * kNR]

    const float* panel(int p) const { return weights.get() + std::size_t(p) * std::size_t(in) * kNR; }
    int width() const { return panels * kNR; }  // columns of y when every panel is written
};

inline int panels_for(int out) { return (out + kNR - 1) / kNR; }

// Packs [out_m][in] matrices (PyTorch layout, sharing `in`) and their biases side by side.
inline PackedLinear pack(const std::vector<const float*>& weights, const std::vector<const float*>& biases,
                         const std::vector<int>& outs, int in) {
    PackedLinear p;
    p.in = in;
    for (int o : outs) {
        p.first_panel.push_back(p.panels);
        for (int c = 0; c < o; c += kNR) p.panel_cols.push_back(std::min(kNR, o - c));
        p.panels += panels_for(o);
    }
    p.first_panel.push_back(p.panels);
    p.weights = aligned_floats(std::size_t(p.panels) * std::size_t(in) * kNR);
    p.bias = aligned_floats(std::size_t(p.panels) * kNR);
    for (std::size_t m = 0; m < weights.size(); ++m) {
        for (int r = 0; r < outs[m]; ++r) {
            const int col = p.first_panel[m] * kNR + r;  // padded column of output r
            const float* src = weights[m] + std::size_t(r) * std::size_t(in);  // W[r][:]
            float* dst = p.weights.get() + std::size_t(col / kNR) * std::size_t(in) * kNR + std::size_t(col % kNR);
            for (int k = 0; k < in; ++k) dst[std::size_t(k) * kNR] = src[k];
            p.bias[std::size_t(col)] = biases[m][r];
        }
    }
    return p;
}

inline void gelu_row(float* y, int n) {
    Eigen::Map<Eigen::ArrayXf> v(y, n);
    v = 0.5f * v * (1.0f + (v * 0.70710678118654752f).erf());  // exact-erf GELU, vectorised erf
}

#if MICSE_PACKED_GEMM

#if defined(__AVX512F__)
using Vec = __m512;
inline Vec vload(const float* p) { return _mm512_load_ps(p); }
inline Vec vloadu(const float* p) { return _mm512_loadu_ps(p); }
inline Vec vbroadcast(const float* p) { return _mm512_set1_ps(*p); }
inline Vec vfmadd(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
inline Vec vadd(Vec a, Vec b) { return _mm512_add_ps(a, b); }
inline Vec vzero() { return _mm512_setzero_ps(); }
inline constexpr int kLanes = 16;
#else
using Vec = __m256;
inline Vec vload(const float* p) { return _mm256_load_ps(p); }
inline Vec vloadu(const float* p) { return _mm256_loadu_ps(p); }
inline Vec vbroadcast(const float* p) { return _mm256_broadcast_ss(p); }
inline Vec vfmadd(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
inline Vec vadd(Vec a, Vec b) { return _mm256_add_ps(a, b); }
inline Vec vzero() { return _mm256_setzero_ps(); }
inline constexpr int kLanes = 8;
#endif
static_assert(kNR == kNV * kLanes, "a panel is kNV vectors wide");
#if defined(__AVX512F__)
inline void vstoreu(float* p, Vec v) { _mm512_storeu_ps(p, v); }
inline void vstore(float* p, Vec v) { _mm512_store_ps(p, v); }
#else
inline void vstoreu(float* p, Vec v) { _mm256_storeu_ps(p, v); }
inline void vstore(float* p, Vec v) { _mm256_store_ps(p, v); }
#endif

// One tile: y[0..MR)[0..cols) (+)= x[0..MR)[k0..k0+kc) . panel[k0..k0+kc)[0..kNR).
// `first`: start from the bias (plus y itself for a residual); `last`: apply GELU if asked.
// x is packed: x[k * kMR + r] is row r, input k of the tile (see pack_rows).
template <int MR>
inline void tile(const float* x, const float* panel, int kc, float* y, std::size_t ldy, int cols,
                 const float* bias, bool first, bool last, Epilogue e, const float* next) {
    Vec acc[MR][kNV];
    const bool full = cols == kNR;
    alignas(64) float buf[kNR];
    auto load_row = [&](const float* p, Vec* a) {
        const float* src = p;
        if (!full) {
            std::memset(buf, 0, sizeof buf);
            std::memcpy(buf, p, std::size_t(cols) * sizeof(float));
            src = buf;
        }
#pragma GCC unroll 4
        for (int v = 0; v < kNV; ++v) a[v] = vloadu(src + v * kLanes);
    };
    if (first) {
#pragma GCC unroll 16
        for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 4
            for (int v = 0; v < kNV; ++v) acc[r][v] = vload(bias + v * kLanes);
            if (e == Epilogue::bias_residual) {
                Vec res[kNV];
                load_row(y + std::size_t(r) * ldy, res);
#pragma GCC unroll 4
                for (int v = 0; v < kNV; ++v) acc[r][v] = vadd(acc[r][v], res[v]);
            }
        }
    } else {
#pragma GCC unroll 16
        for (int r = 0; r < MR; ++r) load_row(y + std::size_t(r) * ldy, acc[r]);
    }
    for (int k = 0; k < kc; ++k) {
#if MICSE_GEMM_PREFETCH
        // the panel streams from memory when few rows share it: ask for it ahead of time
        for (int v = 0; v < kNV; ++v)
            _mm_prefetch(reinterpret_cast<const char*>(panel + std::size_t(k + MICSE_GEMM_PREFETCH) * kNR + std::size_t(v) * kLanes), _MM_HINT_T0);
#endif
        if (next)
            for (int v = 0; v < kNV; ++v)
                _mm_prefetch(reinterpret_cast<const char*>(next + std::size_t(k) * kNR + std::size_t(v) * kLanes), _MM_HINT_T1);
        Vec w[kNV];
#pragma GCC unroll 4
        for (int v = 0; v < kNV; ++v) w[v] = vload(panel + std::size_t(k) * kNR + std::size_t(v) * kLanes);
#pragma GCC unroll 16
        for (int r = 0; r < MR; ++r) {
            const Vec a = vbroadcast(x + std::size_t(k) * kMR + std::size_t(r));
#pragma GCC unroll 4
            for (int v = 0; v < kNV; ++v) acc[r][v] = vfmadd(a, w[v], acc[r][v]);
        }
    }
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
        float* out = y + std::size_t(r) * ldy;
        if (full) {
#pragma GCC unroll 4
            for (int v = 0; v < kNV; ++v) vstoreu(out + v * kLanes, acc[r][v]);
        } else {
#pragma GCC unroll 4
            for (int v = 0; v < kNV; ++v) vstore(buf + v * kLanes, acc[r][v]);
            std::memcpy(out, buf, std::size_t(cols) * sizeof(float));
        }
        if (last && e == Epilogue::bias_gelu) gelu_row(out, cols);
    }
}

template <int MR>
inline void tile_rows(int rows, const float* x, const float* panel, int kc, float* y, std::size_t ldy, int cols,
                      const float* bias, bool first, bool last, Epilogue e, const float* next) {
    if constexpr (MR == 1) {
        tile<1>(x, panel, kc, y, ldy, cols, bias, first, last, e, next);
    } else {
        if (rows == MR) tile<MR>(x, panel, kc, y, ldy, cols, bias, first, last, e, next);
        else tile_rows<MR - 1>(rows, x, panel, kc, y, ldy, cols, bias, first, last, e, next);
    }
}

// Copies x[tile rows][k0 .. k0+kc) into [kc][kMR] order, so a tile's broadcasts read one stream.
inline void pack_rows(const float* x, std::size_t ldx, int rows, int r0, int k0, int kc, float* out) {
    const int n = std::min(kMR, rows - r0);
    for (int r = 0; r < n; ++r) {
        const float* src = x + std::size_t(r0 + r) * ldx + std::size_t(k0);
        for (int k = 0; k < kc; ++k) out[std::size_t(k) * kMR + std::size_t(r)] = src[k];
    }
}

#endif  // MICSE_PACKED_GEMM

// Floats of scratch space that linear() needs for `rows` rows on `threads` threads: one packed
// block of rows per thread.
inline std::size_t scratch_floats(int rows, int threads) {
    const int block = std::min(kMC, (rows + kMR - 1) / kMR * kMR);
    return std::size_t(block) * std::size_t(kKC) * std::size_t(std::max(threads, 1));
}

// y[rows][panels of w in [p_begin, p_end)] = epilogue(x[rows][w.in] . W^T + b).
// y's columns start at output p_begin * kNR of w, i.e. y points at the first of them; x and y
// must not overlap. `scratch` holds scratch_floats(rows, t) floats, t at least the number of
// threads the call runs on (omp_get_max_threads()).
//
// Loops: blocks of kKC inputs, then blocks of kMC rows (kept in L2), then each thread's panels
// (a kKC x kNR slice each, kept in L1), then the block's tiles. Threads own disjoint panels and
// each packs its own copy of the row block: packing costs 1/(panels per thread) of the
// products, and in exchange the threads never wait for one another.
inline void linear(const float* x, std::size_t ldx, int rows, const PackedLinear& w, float* y, std::size_t ldy,
                   Epilogue e, float* scratch, int p_begin = 0, int p_end = -1) {
#if MICSE_PACKED_GEMM
    if (p_end < 0) p_end = w.panels;
    const int panels = p_end - p_begin;
    if (rows <= 0 || panels <= 0) return;
    static_assert(kMC % kMR == 0, "a row block holds whole tiles");
    const std::size_t per_thread = scratch_floats(rows, 1);
#pragma omp parallel
    {
#ifdef _OPENMP
        const int nt = omp_get_num_threads(), id = omp_get_thread_num();
#else
        const int nt = 1, id = 0;
#endif
        const int mine_begin = p_begin + panels * id / nt, mine_end = p_begin + panels * (id + 1) / nt;
        float* packed = scratch + std::size_t(id) * per_thread;
        for (int k0 = 0; k0 < w.in && mine_begin < mine_end; k0 += kKC) {
            const int kc = std::min(kKC, w.in - k0);
            const bool first = k0 == 0, last = k0 + kc == w.in;
            for (int m0 = 0; m0 < rows; m0 += kMC) {
                const int block_rows = std::min(kMC, rows - m0), tiles = (block_rows + kMR - 1) / kMR;
                for (int t = 0; t < tiles; ++t)
                    pack_rows(x, ldx, rows, m0 + t * kMR, k0, kc, packed + std::size_t(t) * std::size_t(kMR) * std::size_t(kc));
                for (int p = mine_begin; p < mine_end; ++p) {
                    const float* panel = w.panel(p) + std::size_t(k0) * kNR;
                    const int col0 = (p - p_begin) * kNR;
                    const int cols = w.panel_cols[std::size_t(p)];
                    const float* bias = w.bias.get() + std::size_t(p) * kNR;
                    // The first tile also pulls this thread's next panel slice into L2: with few
                    // rows a panel is used briefly, and otherwise the next one's first tile would
                    // wait on memory (bert-base's weights are ten times the last-level cache).
                    const float* next = p + 1 < mine_end ? w.panel(p + 1) + std::size_t(k0) * kNR : nullptr;
                    for (int t = 0; t < tiles; ++t) {
                        const int r0 = m0 + t * kMR, mr = std::min(kMR, rows - r0);
                        tile_rows<kMR>(mr, packed + std::size_t(t) * std::size_t(kMR) * std::size_t(kc), panel, kc,
                                       y + std::size_t(r0) * ldy + std::size_t(col0), ldy, cols, bias, first, last, e,
                                       t == 0 ? next : nullptr);
                    }
                }
            }
        }
    }
#else
    (void)x, (void)ldx, (void)rows, (void)w, (void)y, (void)ldy, (void)e, (void)scratch, (void)p_begin, (void)p_end;
#endif
}

}  // namespace micse::detail::gemm
