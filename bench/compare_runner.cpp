// micse on the side-by-side workloads (bench/reference/workloads.py): each batch packed, no
// padding, [CLS] pooling. Prints JSON {workload: sentences per second (median)}, plus the load
// time and the peak resident memory of the process.
//   ./build/bench/micse_compare MODEL.gguf WORKLOADS.json [REPEATS]
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>

#include <micse/micse.hpp>
#include <nlohmann/json.hpp>

int main(int argc, char** argv) {
    if (argc < 3) {
        std::cerr << "usage: micse_compare MODEL.gguf WORKLOADS.json [REPEATS]\n";
        return 2;
    }
    const int repeats = argc > 3 ? std::atoi(argv[3]) : 5;
    const auto workloads = nlohmann::json::parse(std::ifstream(argv[2]));
    nlohmann::json out;
    // One encoder at a time (each holds its own packed weights), so the peak memory is what one
    // user's process needs.
    std::unique_ptr<micse::Encoder> enc;
    int enc_threads = -1;
    for (auto it = workloads.begin(); it != workloads.end(); ++it) {
        const int threads = it.value()["threads"];
        if (threads != enc_threads) {
            enc.reset();
            enc_threads = threads;
            micse::EncoderOptions o;
            o.threads = threads;
            o.batch_size = 1 << 20;  // one forward pass per workload batch
            const auto t0 = std::chrono::steady_clock::now();
            enc = std::make_unique<micse::Encoder>(argv[1], o);
            out["load_seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        }
        const auto batches = it.value()["batches"].get<std::vector<std::vector<std::vector<std::int32_t>>>>();
        std::size_t sentences = 0;
        for (const auto& b : batches) sentences += b.size();
        enc->encode_ids(batches[0]);  // warm-up
        std::vector<double> times;
        for (int r = 0; r < repeats; ++r) {
            const auto t0 = std::chrono::steady_clock::now();
            for (const auto& b : batches) enc->encode_ids(b);
            times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        }
        std::sort(times.begin(), times.end());
        const double rate = double(sentences) / times[times.size() / 2];
        out[it.key()] = rate;
        std::fprintf(stderr, "micse %s: %.2f sentences/s\n", it.key().c_str(), rate);
    }
    struct rusage ru {};
    getrusage(RUSAGE_SELF, &ru);
    out["peak_rss_mb"] = double(ru.ru_maxrss) / 1024.0;
    std::cout << out.dump() << "\n";
    return 0;
}
