#pragma once
// The machine's FMA peak, measured: independent vector FMAs in registers on `threads` threads.
// Benchmarks divide their GFLOP/s by it to report the fraction of peak from the same run.
#include <chrono>

#include <micse/detail/gemm.hpp>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace bench {

#if MICSE_PACKED_GEMM
// Twelve accumulators: enough independent chains to cover the FMA latency on current cores.
inline float fma_chains(long iters) {
    namespace g = micse::detail::gemm;
    constexpr int kAcc = 12;
    g::Vec acc[kAcc];
    for (auto& a : acc) a = g::vzero();
    const float one = 1.0000001f, tiny = 1e-7f;
    const g::Vec a = g::vbroadcast(&one), b = g::vbroadcast(&tiny);
    for (long it = 0; it < iters; ++it)
#pragma GCC unroll 16
        for (int i = 0; i < kAcc; ++i) acc[i] = g::vfmadd(acc[i], a, b);
    alignas(64) float out[g::kLanes];
    g::Vec s = acc[0];
    for (int i = 1; i < kAcc; ++i) s = g::vadd(s, acc[i]);
    g::vstore(out, s);
    return out[0];
}
inline constexpr double kFlopsPerIteration = 2.0 * 12 * micse::detail::gemm::kLanes;
#endif

// GFLOP/s at peak on `threads` threads (best of five 0.1 s runs); 0 without a packed kernel.
inline double fma_peak_gflops(int threads) {
#if MICSE_PACKED_GEMM
    static double cached[64] = {};
    if (threads < 1 || threads >= 64) return 0;
    if (cached[threads] > 0) return cached[threads];
    const long iters = 1 << 22;
    double best = 0;
    float sink = 0;
    for (int rep = 0; rep < 5; ++rep) {
        const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel num_threads(threads) reduction(+ : sink)
        sink += fma_chains(iters);
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        best = std::max(best, kFlopsPerIteration * double(iters) * threads / s * 1e-9);
    }
    volatile float keep = sink;
    (void)keep;
    return cached[threads] = best;
#else
    (void)threads;
    return 0;
#endif
}

}  // namespace bench
