// The dense layers alone against the machine's FMA peak, measured in the same run.
//   ./build/bench/micse_bench_gemm
// Peak/<threads>: independent FMAs in registers, GFLOP/s across the threads.
// Dense/<rows>/<threads>: one encoder layer's four products (fused Q/K/V 768->2304, output
// 768->768 + residual, up 768->3072 + GELU, down 3072->768 + residual) on `rows` tokens;
// "of_peak": Dense's GFLOP/s over the FMA peak at the same thread count, measured in the same
// process (bench/peak.hpp).
#include <benchmark/benchmark.h>

#include <micse/detail/gemm.hpp>

#include "peak.hpp"
#include <random>
#include <vector>

#if MICSE_PACKED_GEMM
#ifdef _OPENMP
#include <omp.h>
#endif

namespace {

namespace g = micse::detail::gemm;

void Peak(benchmark::State& state) {
    const int threads = int(state.range(0));
    const long iters = 1 << 22;
    float sink = 0;
    for (auto _ : state) {
#pragma omp parallel num_threads(threads) reduction(+ : sink)
        sink += bench::fma_chains(iters);
    }
    benchmark::DoNotOptimize(sink);
    const double flops = bench::kFlopsPerIteration * double(iters) * threads;
    state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

struct Layer {
    g::PackedLinear qkv, out, up, down;
};

const Layer& layer() {
    static const Layer l = [] {
        std::mt19937 rng(3);
        std::normal_distribution<float> n(0.f, 0.02f);
        auto make = [&](int out, int in) {
            std::vector<float> w(std::size_t(out) * std::size_t(in)), b(static_cast<std::size_t>(out));
            for (auto& v : w) v = n(rng);
            for (auto& v : b) v = n(rng);
            return std::make_pair(w, b);
        };
        Layer l;
        auto q = make(768, 768), k = make(768, 768), v = make(768, 768), o = make(768, 768), u = make(3072, 768),
             d = make(768, 3072);
        l.qkv = g::pack({q.first.data(), k.first.data(), v.first.data()}, {q.second.data(), k.second.data(), v.second.data()},
                        {768, 768, 768}, 768);
        l.out = g::pack({o.first.data()}, {o.second.data()}, {768}, 768);
        l.up = g::pack({u.first.data()}, {u.second.data()}, {3072}, 768);
        l.down = g::pack({d.first.data()}, {d.second.data()}, {768}, 3072);
        return l;
    }();
    return l;
}

void Dense(benchmark::State& state) {
    const int rows = int(state.range(0)), threads = int(state.range(1));
#ifdef _OPENMP
    omp_set_num_threads(threads);
#endif
    const Layer& l = layer();
    std::vector<float> x(std::size_t(rows) * 768, 0.5f), qkv(std::size_t(rows) * std::size_t(l.qkv.width())),
        h(std::size_t(rows) * 768, 0.1f), up(std::size_t(rows) * std::size_t(l.up.width()));
    std::vector<float> scratch(g::scratch_floats(rows, threads));
    const auto t0 = std::chrono::steady_clock::now();
    for (auto _ : state) {
        g::linear(x.data(), 768, rows, l.qkv, qkv.data(), std::size_t(l.qkv.width()), g::Epilogue::bias, scratch.data());
        g::linear(x.data(), 768, rows, l.out, h.data(), 768, g::Epilogue::bias_residual, scratch.data());
        g::linear(h.data(), 768, rows, l.up, up.data(), std::size_t(l.up.width()), g::Epilogue::bias_gelu, scratch.data());
        g::linear(up.data(), std::size_t(l.up.width()), rows, l.down, h.data(), 768, g::Epilogue::bias_residual,
                  scratch.data());
        benchmark::ClobberMemory();
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double flops = 2.0 * rows * (768.0 * 2304 + 768.0 * 768 + 768.0 * 3072 * 2);
    state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["of_peak"] = flops * double(state.iterations()) / seconds * 1e-9 / bench::fma_peak_gflops(threads);
}

}  // namespace

BENCHMARK(Peak)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(Dense)->Args({1024, 1})->Args({1024, 2})->Args({576, 2})->Args({32, 1})->UseRealTime()->Unit(benchmark::kMillisecond);
#endif

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
#if MICSE_PACKED_GEMM
    benchmark::RunSpecifiedBenchmarks();
#else
    std::fprintf(stderr, "no packed kernel on this CPU: the dense layers use Eigen's product\n");
#endif
    benchmark::Shutdown();
    return 0;
}
