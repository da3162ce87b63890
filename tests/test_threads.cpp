// Reference: the same encoder called from one thread. Several threads share one Encoder and call
// encode / encode_ids at once; each must get exactly the single-threaded result. Built alone
// under ThreadSanitizer in CI (scripts/sanitize.sh), where a data race fails the test.
#include <catch2/catch.hpp>

#include <thread>

#include <micse/micse.hpp>

#include "converted.hpp"

using namespace micse;

TEST_CASE("threads sharing one Encoder get the single-threaded results", "[encoder][threads]") {
    const auto ids = test::read_ids(test::hf_fixture("sharp") / "goldens" / "ids.txt");
    const std::vector<std::string> sentences = {"A man is playing a guitar.", "", "Ünïcödé, \xe4\xb8\xad\xe6\x96\x87 and #hashtags!",
                                                "the quick brown fox jumps over the lazy dog"};
    EncoderOptions options;
    options.threads = 1;
    options.batch_size = 3;  // several batches per call, so workspaces are leased and returned often
    const Encoder encoder(test::converted("sharp"), options);
    const Eigen::MatrixXf want_ids = encoder.encode_ids(ids);
    const Eigen::MatrixXf want_text = encoder.encode(sentences);

    constexpr int kThreads = 4, kRounds = 8;
    std::vector<int> mismatches(kThreads, 0);
    std::vector<std::thread> pool;
    for (int t = 0; t < kThreads; ++t)
        pool.emplace_back([&, t] {
            for (int r = 0; r < kRounds; ++r) {
                if ((r + t) % 2 == 0) mismatches[std::size_t(t)] += encoder.encode_ids(ids) != want_ids;
                else mismatches[std::size_t(t)] += encoder.encode(sentences) != want_text;
            }
        });
    for (auto& th : pool) th.join();
    for (int t = 0; t < kThreads; ++t) CHECK(mismatches[std::size_t(t)] == 0);
}
