// The runtime CPU dispatch of the SIMD layer (simd.hpp): one detection.
#include "simd.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace mriotrace::simd {

Level level() {
  static const Level best = [] {
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
      return Level::Avx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Level::Avx2;
    return Level::Scalar;
  }();
  Level cap = Level::Avx512;
  if (const char* env = std::getenv("MRIOTRACE_SIMD"); env && *env)
    cap = std::strcmp(env, "scalar") == 0 ? Level::Scalar : std::strcmp(env, "avx2") == 0 ? Level::Avx2 : Level::Avx512;
  if (const char* env = std::getenv("MRIOTRACE_NO_AVX512"); env && *env) cap = std::min(cap, Level::Avx2);
  return std::min(best, cap);
}

}  // namespace mriotrace::simd
