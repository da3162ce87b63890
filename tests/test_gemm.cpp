// Reference: the definition of the dense layer, y = epilogue(x W^T + b), evaluated in double by
// plain loops; GELU in its exact erf form. The shapes are chosen from the kernel's own block
// sizes (kMR rows per tile, kNR columns per panel, kKC inputs per block, kMC rows per block), so
// every path runs: partial tiles and panels, several input and row blocks, several matrices in
// one packing, a column range of it, one and two threads. The full-size parity test reaches the
// same paths at bert-base size; this test reaches them in milliseconds, also under the
// sanitizers.
//
// Tolerance: the classical bound on a float dot product of n terms, (n + 2) u sum |terms| with
// u = 2^-24 (Higham, Accuracy and Stability of Numerical Algorithms, 3.1), so it cannot fail
// for rounding alone, while a wrong index or a lost block gives errors of the size of the terms.
#include <catch2/catch.hpp>

#include <micse/bert.hpp>
#include <micse/detail/gemm.hpp>

#include <cmath>
#include <random>
#include <vector>

namespace {

namespace g = micse::detail::gemm;

#if MICSE_PACKED_GEMM

struct Matrices {
    std::vector<std::vector<float>> w, b;  // per matrix: [out][in] row-major as in PyTorch, [out]
    std::vector<int> outs;
    int in = 0;
};

Matrices random_matrices(const std::vector<int>& outs, int in, std::mt19937& rng) {
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    Matrices m;
    m.outs = outs;
    m.in = in;
    for (int o : outs) {
        m.w.emplace_back(std::size_t(o) * std::size_t(in));
        m.b.emplace_back(std::size_t(o));
        for (auto& v : m.w.back()) v = u(rng);
        for (auto& v : m.b.back()) v = u(rng);
    }
    return m;
}

g::PackedLinear pack_all(const Matrices& m) {
    std::vector<const float*> w, b;
    for (std::size_t i = 0; i < m.w.size(); ++i) w.push_back(m.w[i].data()), b.push_back(m.b[i].data());
    return g::pack(w, b, m.outs, m.in);
}

double gelu_reference(double v) { return 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0))); }

// Runs matrix `which` of the packing (all of them when which < 0) over `rows` rows of x and
// compares every output with the double-precision definition; columns of y outside the product
// must keep their guard value.
void check_linear(const Matrices& m, const g::PackedLinear& packed, int which, int rows, g::Epilogue e, int threads,
           std::mt19937& rng) {
    const int p_begin = which < 0 ? 0 : packed.first_panel[std::size_t(which)];
    const int p_end = which < 0 ? packed.panels : packed.first_panel[std::size_t(which) + 1];
    const std::size_t ldx = std::size_t(m.in) + 5, ldy = std::size_t(p_end - p_begin) * g::kNR + 3;
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    std::vector<float> x(std::size_t(rows) * ldx);
    for (auto& v : x) v = u(rng);
    const float guard = 12345.0f;
    std::vector<float> y(std::size_t(rows) * ldy, guard);
    // the column of y that output (matrix i, row r) lands in, or -1 outside the product
    std::vector<std::pair<int, int>> column_of;  // per column of y: (matrix, output)
    column_of.assign(ldy, {-1, -1});
    for (std::size_t i = 0; i < m.outs.size(); ++i) {
        if (which >= 0 && int(i) != which) continue;
        for (int r = 0; r < m.outs[i]; ++r) {
            const int col = (packed.first_panel[i] - p_begin) * g::kNR + r;
            column_of[std::size_t(col)] = {int(i), r};
        }
    }
    if (e == g::Epilogue::bias_residual)
        for (int t = 0; t < rows; ++t)
            for (std::size_t c = 0; c < ldy; ++c)
                if (column_of[c].first >= 0) y[std::size_t(t) * ldy + c] = u(rng);
    const std::vector<float> before = y;

    std::vector<float> scratch(g::scratch_floats(rows, threads));
    {
        micse::detail::ThreadScope scope(threads);
        g::linear(x.data(), ldx, rows, packed, y.data(), ldy, e, scratch.data(), p_begin, p_end);
    }

    const double unit = std::ldexp(1.0, -24);
    int bad = 0;
    for (int t = 0; t < rows && bad < 5; ++t) {
        for (std::size_t c = 0; c < ldy && bad < 5; ++c) {
            const float got = y[std::size_t(t) * ldy + c];
            const auto [i, r] = column_of[c];
            if (i < 0) {
                if (got != guard) {
                    INFO("row " << t << ", column " << c << " lies outside the product but was written: " << got);
                    CHECK(got == guard);
                    ++bad;
                }
                continue;
            }
            const float* w = m.w[std::size_t(i)].data() + std::size_t(r) * std::size_t(m.in);
            double sum = m.b[std::size_t(i)][std::size_t(r)], magnitude = std::abs(sum);
            if (e == g::Epilogue::bias_residual) {
                const double res = before[std::size_t(t) * ldy + c];
                sum += res, magnitude += std::abs(res);
            }
            for (int k = 0; k < m.in; ++k) {
                const double term = double(x[std::size_t(t) * ldx + std::size_t(k)]) * double(w[k]);
                sum += term, magnitude += std::abs(term);
            }
            double bound = double(m.in + 2) * unit * magnitude;
            double expected = sum;
            if (e == g::Epilogue::bias_gelu) {
                expected = gelu_reference(sum);
                bound = 1.13 * bound + 1e-6;  // |GELU'| <= 1.13; float erf's own error
            }
            if (!(std::abs(double(got) - expected) <= bound)) {
                INFO("rows " << rows << ", in " << m.in << ", matrix " << i << " output " << r << ", row " << t
                             << ", threads " << threads << ", epilogue " << int(e) << ": got " << got << ", expected "
                             << expected << ", bound " << bound);
                CHECK(std::abs(double(got) - expected) <= bound);
                ++bad;
            }
        }
    }
    CHECK(bad == 0);
}

#endif

}  // namespace

TEST_CASE("the packed dense-layer kernel computes x W^T + b and its epilogues on every path", "[gemm]") {
#if MICSE_PACKED_GEMM
    std::mt19937 rng(20261204);
    const int mr = g::kMR, nr = g::kNR, kc = g::kKC, mc = g::kMC;
    const std::vector<int> row_counts = {1, std::max(1, mr - 1), mr + 1, mc + mr + 1, 2 * mc + 3};
    const std::vector<int> input_counts = {3, kc, kc + 7, 2 * kc + 1};
    const g::Epilogue epilogues[] = {g::Epilogue::bias, g::Epilogue::bias_residual, g::Epilogue::bias_gelu};
    int n = 0;
    for (int in : input_counts) {
        const Matrices m = random_matrices({2 * nr + 5}, in, rng);  // full panels and a partial one
        const g::PackedLinear packed = pack_all(m);
        for (int rows : row_counts)
            for (int threads : {1, 2}) check_linear(m, packed, -1, rows, epilogues[n++ % 3], threads, rng);
    }
    for (int out : {1, nr - 1, nr, nr + 1}) {
        const Matrices m = random_matrices({out}, kc + 7, rng);
        const g::PackedLinear packed = pack_all(m);
        for (const g::Epilogue e : epilogues) check_linear(m, packed, -1, mr + 1, e, 2, rng);
    }
    // Q, K and V side by side as the model packs them, each product over one of them alone
    const Matrices qkv = random_matrices({nr + 3, 7, nr}, kc + 1, rng);
    const g::PackedLinear packed = pack_all(qkv);
    REQUIRE(packed.first_panel == std::vector<int>{0, 2, 3, 4});
    for (int which : {-1, 0, 1, 2})
        for (int threads : {1, 2}) check_linear(qkv, packed, which, mc + 2, g::Epilogue::bias, threads, rng);
#else
    WARN("this build has no packed kernel (neither AVX-512 nor AVX2/FMA): the Eigen path is tested by test_bert");
#endif
}
