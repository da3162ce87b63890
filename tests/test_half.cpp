// Reference: IEEE 754-2008 binary16 — every half value is checked against ldexp() of its
// fields, and narrowing against the definition of round-to-nearest-even over its neighbours.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <random>

#include <micse/detail/half.hpp>

using micse::detail::float_to_half;
using micse::detail::half_to_float;

static double half_by_definition(std::uint16_t h) {
    const int sign = (h >> 15) ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
    if (e == 0) return sign * std::ldexp(double(m), -24);
    if (e == 31) return m ? std::numeric_limits<double>::quiet_NaN() : sign * std::numeric_limits<double>::infinity();
    return sign * std::ldexp(double(1024 + m), e - 25);
}

TEST_CASE("every binary16 value widens exactly and narrows back to itself", "[half]") {
    for (std::uint32_t h = 0; h < 65536; ++h) {
        const float f = half_to_float(std::uint16_t(h));
        const double ref = half_by_definition(std::uint16_t(h));
        if (std::isnan(ref)) {
            REQUIRE(std::isnan(f));
            REQUIRE(std::isnan(half_to_float(float_to_half(f))));
        } else {
            REQUIRE(double(f) == ref);
            REQUIRE(float_to_half(f) == h);
        }
    }
}

TEST_CASE("narrowing rounds to the nearest half, ties to even", "[half]") {
    std::mt19937 rng(7);
    std::uniform_int_distribution<std::uint32_t> bits;
    int checked = 0;
    for (int i = 0; i < 200000; ++i) {
        // floats spread over the half range and a little beyond, including subnormals
        const float x = std::ldexp(float(bits(rng)) / 4294967296.0f * 2 - 1, int(bits(rng) % 46) - 30);
        if (std::fabs(x) >= 65504.0f) continue;
        const std::uint16_t h = float_to_half(x);
        const double got = half_to_float(h);
        // The neighbours on either side of the result must not be strictly closer.
        for (int step : {-1, 1}) {
            const std::uint16_t mag = h & 0x7fff;
            if ((mag == 0 && step < 0) || mag >= 0x7bff) continue;
            const std::uint16_t n = std::uint16_t((h & 0x8000) | (mag + step));
            const double other = half_to_float(n);
            const double d_got = std::fabs(double(x) - got), d_other = std::fabs(double(x) - other);
            REQUIRE(d_got <= d_other);
            if (d_got == d_other) REQUIRE((h & 1) == 0);  // a tie goes to the even mantissa
        }
        ++checked;
    }
    REQUIRE(checked > 100000);
    CHECK(float_to_half(65520.0f) == 0x7c00);  // first value that rounds past the largest half
    CHECK(float_to_half(65519.99f) == 0x7bff);
    CHECK(float_to_half(-0.0f) == 0x8000);
    CHECK(float_to_half(std::ldexp(1.0f, -25)) == 0);          // exactly half the smallest subnormal: even
    CHECK(float_to_half(std::ldexp(1.5f, -25)) == 1);
}

TEST_CASE("bfloat16 widens by shifting into the high half", "[half]") {
    CHECK(micse::detail::bf16_to_float(0x3f80) == 1.0f);
    CHECK(micse::detail::bf16_to_float(0xc040) == -3.0f);
}
