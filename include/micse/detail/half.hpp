#pragma once
// IEEE 754 binary16 and bfloat16 <-> binary32, bit-exact (round to nearest even on narrowing).
// Written out by hand so the library needs no compiler extension (_Float16) or F16C.
#include <cstdint>
#include <cstring>

namespace micse::detail {

inline float bits_to_float(std::uint32_t u) {
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
}

inline std::uint32_t float_to_bits(float f) {
    std::uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    return u;
}

inline float half_to_float(std::uint16_t h) {
    const std::uint32_t sign = std::uint32_t(h & 0x8000u) << 16;
    const std::uint32_t exponent = (h >> 10) & 0x1fu;
    std::uint32_t mantissa = h & 0x3ffu;
    if (exponent == 0x1f)  // inf or NaN: keep the payload
        return bits_to_float(sign | 0x7f800000u | (mantissa << 13));
    if (exponent != 0)  // normal: rebias 15 -> 127
        return bits_to_float(sign | ((exponent + 112u) << 23) | (mantissa << 13));
    if (mantissa == 0) return bits_to_float(sign);
    // subnormal half: normalise it, every one is a normal float
    int e = -1;
    do {
        ++e;
        mantissa <<= 1;
    } while ((mantissa & 0x400u) == 0);
    return bits_to_float(sign | (std::uint32_t(112 - e) << 23) | ((mantissa & 0x3ffu) << 13));
}

inline std::uint16_t float_to_half(float f) {
    const std::uint32_t u = float_to_bits(f);
    const std::uint16_t sign = std::uint16_t((u >> 16) & 0x8000u);
    const std::uint32_t abs = u & 0x7fffffffu;
    if (abs >= 0x7f800000u)  // inf, or NaN kept quiet
        return std::uint16_t(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u | ((abs >> 13) & 0x3ffu) : 0u));
    if (abs >= 0x477ff000u)  // rounds to >= 65520: overflow to inf
        return std::uint16_t(sign | 0x7c00u);
    if (abs < 0x38800000u) {  // below the smallest normal half (2^-14): subnormal or zero
        if (abs < 0x33000000u) return sign;  // < 2^-25 rounds to zero
        const std::uint32_t exponent = abs >> 23;
        const std::uint32_t mantissa = (abs & 0x7fffffu) | 0x800000u;
        const std::uint32_t shift = 126u - exponent;  // 14..24 for the values left
        std::uint32_t half = mantissa >> shift;
        const std::uint32_t rest = mantissa & ((1u << shift) - 1u);
        const std::uint32_t halfway = 1u << (shift - 1u);
        if (rest > halfway || (rest == halfway && (half & 1u))) ++half;
        return std::uint16_t(sign | half);
    }
    // normal: rebias and round the 13 dropped bits to nearest even (a carry may bump the exponent)
    std::uint32_t h = ((abs - 0x38000000u) >> 13);
    const std::uint32_t rest = abs & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;
    return std::uint16_t(sign | h);
}

inline float bf16_to_float(std::uint16_t b) { return bits_to_float(std::uint32_t(b) << 16); }

}  // namespace micse::detail
