// Tokenizer throughput on one thread: the ordinary-English corpus of the tokenizer tests
// (tests/fixtures/tokenizer/english.txt), every line encoded as BertTokenizerFast would
// ([CLS] ... [SEP], max_length 512). bytes_per_second is the input text's UTF-8 bytes.
//   ./build/bench/micse_bench_tokenizer
// bench/compare_tokenizer.sh runs the same work through the npm tokenizers package.
#include <benchmark/benchmark.h>

#include <fstream>
#include <string>
#include <vector>

#include <micse/tokenizer.hpp>

namespace {

std::vector<std::string> corpus(std::size_t& bytes) {
    std::ifstream in(MICSE_FIXTURES "/tokenizer/english.txt", std::ios::binary);
    std::vector<std::string> lines;
    bytes = 0;
    for (std::string line; std::getline(in, line);) {
        bytes += line.size();
        lines.push_back(line);
    }
    return lines;
}

void TokenizeEnglish(benchmark::State& state) {
    const auto tok = micse::Tokenizer::from_vocab_file(MICSE_SHARED "/vocab/bert-base-uncased-vocab.txt");
    std::size_t bytes = 0;
    const auto lines = corpus(bytes);
    std::size_t ids = 0;
    for (auto _ : state)
        for (const auto& l : lines) {
            const auto v = tok.encode(l, 512);
            ids += v.size();
            benchmark::DoNotOptimize(v.data());
        }
    state.SetBytesProcessed(std::int64_t(state.iterations()) * std::int64_t(bytes));
    state.counters["lines/s"] = benchmark::Counter(double(lines.size()), benchmark::Counter::kIsIterationInvariantRate);
    state.counters["ids/line"] = double(ids) / double(state.iterations()) / double(lines.size());
}

}  // namespace

BENCHMARK(TokenizeEnglish)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0)->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK_MAIN();
