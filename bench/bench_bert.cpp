// Forward-pass speed at bert-base size: fixed batch shapes (batch x tokens) and real sentence
// lengths (batches of 32), at 1 and 2 threads.
// Counters: sentences/s, tokens/s, GFLOP/s (dense layers plus attention products) and of_peak.
//   ./build/bench/micse_bench --benchmark_filter=Forward
#include <benchmark/benchmark.h>

#include <micse/micse.hpp>
#include <chrono>
#include <fstream>
#include <random>

#include "peak.hpp"
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

// Counters shared by the cases: rates per second, and the fraction of the FMA peak measured in
// this process at the same thread count. FLOPs are nominal: a full forward pass (micse skips
// most of the last layer, so its real work is smaller).
void report(benchmark::State& state, double seconds, std::size_t sentences, std::size_t tokens, double flops, int threads) {
    using C = benchmark::Counter;
    state.counters["sentences/s"] = C(double(sentences), C::kIsIterationInvariantRate);
    state.counters["tokens/s"] = C(double(tokens), C::kIsIterationInvariantRate);
    state.counters["GFLOP/s"] = C(flops * 1e-9, C::kIsIterationInvariantRate);
    const double peak = bench::fma_peak_gflops(threads);
    if (peak > 0) state.counters["of_peak"] = flops * double(state.iterations()) / seconds * 1e-9 / peak;
}

void Forward(benchmark::State& state) {
    const auto batch = std::size_t(state.range(0)), tokens = std::size_t(state.range(1));
    const int threads = int(state.range(2));
    const micse::Encoder& enc = encoder(threads);
    const auto ids = random_ids(batch, tokens);
    const auto t0 = std::chrono::steady_clock::now();
    for (auto _ : state) benchmark::DoNotOptimize(enc.encode_ids(ids));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    report(state, seconds, batch, batch * tokens, bench::forward_flops(std::vector<std::size_t>(batch, tokens)), threads);
}

// Real sentence lengths: bench/data/sentences.txt (ordinary English, median 18 tokens) through
// the bert-base-uncased tokenizer, in batches of 32 in input order, as users call it.
void Sentences(benchmark::State& state) {
    const int threads = int(state.range(0));
    const micse::Encoder& enc = encoder(threads);
    static const auto batches = [] {
        const auto tok = micse::Tokenizer::from_vocab_file(MICSE_SHARED "/vocab/bert-base-uncased-vocab.txt");
        std::ifstream in(MICSE_SOURCE_DIR "/bench/data/sentences.txt");
        std::vector<std::vector<std::vector<std::int32_t>>> b;
        std::string line;
        while (std::getline(in, line)) {
            if (b.empty() || b.back().size() == 32) b.emplace_back();
            b.back().push_back(tok.encode(line, 512));
        }
        return b;
    }();
    std::size_t sentences = 0, tokens = 0;
    std::vector<std::size_t> lengths;
    for (const auto& b : batches)
        for (const auto& s : b) ++sentences, tokens += s.size(), lengths.push_back(s.size());
    const auto t0 = std::chrono::steady_clock::now();
    for (auto _ : state)
        for (const auto& b : batches) benchmark::DoNotOptimize(enc.encode_ids(b));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    report(state, seconds, sentences, tokens, bench::forward_flops(lengths), threads);
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
BENCHMARK(Sentences)->ArgName("threads")->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(Load)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
