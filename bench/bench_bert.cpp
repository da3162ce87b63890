// Forward-pass speed at bert-base size: fixed batch shapes (batch x tokens) at 1 and 2 threads.
// Counters: sentences/s, tokens/s and GFLOP/s (dense layers plus attention products).
//   ./build/bench/micse_bench --benchmark_filter=Forward
#include <benchmark/benchmark.h>

#include <micse/micse.hpp>
#include <random>

#include "random_model.hpp"

namespace {

const micse::Encoder& encoder(int threads) {
    static const std::string path = bench::write_random_model();
    static std::map<int, std::unique_ptr<micse::Encoder>> cache;
    auto& e = cache[threads];
    if (!e) {
        micse::EncoderOptions o;
        o.threads = threads;
        o.batch_size = 1 << 20;  // the benchmark's batch is one forward pass
        e = std::make_unique<micse::Encoder>(path, o);
    }
    return *e;
}

std::vector<std::vector<std::int32_t>> random_ids(std::size_t batch, std::size_t tokens) {
    std::mt19937 rng(1);
    std::vector<std::vector<std::int32_t>> ids(batch, std::vector<std::int32_t>(tokens));
    for (auto& s : ids) {
        for (auto& t : s) t = std::int32_t(1000 + rng() % 29000);
        s.front() = 101;
        s.back() = 102;
    }
    return ids;
}

void Forward(benchmark::State& state) {
    const auto batch = std::size_t(state.range(0)), tokens = std::size_t(state.range(1));
    const int threads = int(state.range(2));
    const micse::Encoder& enc = encoder(threads);
    const auto ids = random_ids(batch, tokens);
    for (auto _ : state) benchmark::DoNotOptimize(enc.encode_ids(ids));
    const double flops = bench::forward_flops(std::vector<std::size_t>(batch, tokens));
    state.counters["sentences/s"] = benchmark::Counter(double(batch), benchmark::Counter::kIsIterationInvariantRate);
    state.counters["tokens/s"] = benchmark::Counter(double(batch * tokens), benchmark::Counter::kIsIterationInvariantRate);
    state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void Load(benchmark::State& state) {
    const std::string path = bench::write_random_model();
    for (auto _ : state) benchmark::DoNotOptimize(micse::Encoder(path));
}

}  // namespace

BENCHMARK(Forward)
    ->ArgNames({"batch", "tokens", "threads"})
    ->ArgsProduct({{1}, {16, 32, 128, 512}, {1, 2}})
    ->Args({32, 32, 1})->Args({32, 32, 2})->Args({8, 128, 1})->Args({8, 128, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(1.0);
BENCHMARK(Load)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
