// The engine's one SIMD layer (private): lane types, the target attributes,
// and the one runtime CPU dispatch. Used by the sparse x block product of the
// iterative solvers and the residual checks (kernels.cpp) and by the Monte
// Carlo draw blocks (draw_block.cpp).
//
// A kernel is written once, as a template over an instruction set `Isa`
// (simd::Avx512, simd::Avx2, simd::Scalar), using only the lane types
// Isa::V8 (8 doubles) and Isa::V4 (4 doubles) and their operations. Every
// operation is one exact IEEE operation per lane (fmadd(a, b, c) = fma(a, b,
// c), one rounding), and the files that use this header are compiled with
// -ffp-contract=off (no fusions the source does not write), so a kernel gives
// the same bits on every instruction set: results do not depend on the CPU or
// on the dispatch, as they do not depend on the thread count.
//
// MRIOTRACE_SIMD_VARIANTS(ret, name, impl, params, args) defines name_avx512,
// name_avx2 and name_scalar, each `impl<Isa> args` compiled for its target;
// simd::pick(level(), ...) chooses one.
#pragma once

#include <immintrin.h>

#include <cmath>

namespace mriotrace::simd {

/// Instruction sets, in increasing order.
enum class Level { Scalar = 0, Avx2 = 1, Avx512 = 2 };

/// The CPU's best level (detected once: AVX2 needs FMA; AVX-512 needs F, DQ
/// and VL), capped by the environment: MRIOTRACE_SIMD = "scalar", "avx2" or
/// "avx512", and MRIOTRACE_NO_AVX512 = anything (as "avx2"). Read at every
/// call, so tests compare the paths in one process.
Level level();

/// The variant of a kernel for a level.
template <class F>
F pick(Level l, F avx512, F avx2, F scalar) {
  return l == Level::Avx512 ? avx512 : l == Level::Avx2 ? avx2 : scalar;
}

#define MRIOTRACE_SIMD_AVX512 __attribute__((target("avx512f,avx512dq,avx512vl,avx2,fma")))
#define MRIOTRACE_SIMD_AVX2 __attribute__((target("avx2,fma")))
#define MRIOTRACE_LANE_AVX512 MRIOTRACE_SIMD_AVX512
#define MRIOTRACE_LANE_AVX2 MRIOTRACE_SIMD_AVX2

// flatten: the lane types' operations (target-specific) are inlined into the variants.
#define MRIOTRACE_SIMD_VARIANTS(ret, name, impl, params, args)                                                 \
  MRIOTRACE_SIMD_AVX512 __attribute__((flatten)) ret name##_avx512 params { return impl<::mriotrace::simd::Avx512> args; } \
  MRIOTRACE_SIMD_AVX2 __attribute__((flatten)) ret name##_avx2 params { return impl<::mriotrace::simd::Avx2> args; }       \
  ret name##_scalar params { return impl<::mriotrace::simd::Scalar> args; }

// The same for plain loops left to the compiler's vectoriser (no lane types):
// without flatten, as GCC 12's AVX-512 code for the Monte Carlo factor loops
// (libm calls in masked tails) gave NaNs when everything was flattened into them.
#define MRIOTRACE_SIMD_LOOP_VARIANTS(ret, name, impl, params, args)                         \
  MRIOTRACE_SIMD_AVX512 ret name##_avx512 params { return impl<::mriotrace::simd::Avx512> args; } \
  MRIOTRACE_SIMD_AVX2 ret name##_avx2 params { return impl<::mriotrace::simd::Avx2> args; }       \
  ret name##_scalar params { return impl<::mriotrace::simd::Scalar> args; }

// Internal linkage, one copy per file: the lane operations must be inlined
// into each kernel. As ordinary inline functions shared by several files,
// GCC 12 left V512::set1 out of line in the draw kernels, and the calls to
// that shared copy returned wrong lanes (NaN accounts).
namespace {

/// W doubles in plain arrays: the portable lanes (and the reference the
/// vector ones must match bit for bit).
template <int W>
struct VScalar {
  double v[W];
  static constexpr int width = W;
  static VScalar load(const double* p) {
    VScalar r;
    for (int g = 0; g < W; ++g) r.v[g] = p[g];
    return r;
  }
  static VScalar loadf(const float* p) {
    VScalar r;
    for (int g = 0; g < W; ++g) r.v[g] = static_cast<double>(p[g]);
    return r;
  }
  static VScalar set1(double a) {
    VScalar r;
    for (int g = 0; g < W; ++g) r.v[g] = a;
    return r;
  }
  static VScalar zero() { return set1(0.0); }
  void store(double* p) const {
    for (int g = 0; g < W; ++g) p[g] = v[g];
  }
  template <class Op>
  static VScalar map(VScalar a, VScalar b, Op op) {
    VScalar r;
    for (int g = 0; g < W; ++g) r.v[g] = op(a.v[g], b.v[g]);
    return r;
  }
  friend VScalar operator*(VScalar a, VScalar b) { return map(a, b, [](double x, double y) { return x * y; }); }
  friend VScalar operator+(VScalar a, VScalar b) { return map(a, b, [](double x, double y) { return x + y; }); }
  friend VScalar operator-(VScalar a, VScalar b) { return map(a, b, [](double x, double y) { return x - y; }); }
  friend VScalar operator/(VScalar a, VScalar b) { return map(a, b, [](double x, double y) { return x / y; }); }
  static VScalar fmadd(VScalar a, VScalar b, VScalar c) {
    VScalar r;
    for (int g = 0; g < W; ++g) r.v[g] = std::fma(a.v[g], b.v[g], c.v[g]);
    return r;
  }
  static VScalar fnmadd(VScalar a, VScalar b, VScalar c) {
    VScalar r;
    for (int g = 0; g < W; ++g) r.v[g] = std::fma(-a.v[g], b.v[g], c.v[g]);
    return r;
  }
};

/// 4 doubles in one AVX register (both vector instruction sets).
struct V256 {
  __m256d v;
  static constexpr int width = 4;
  MRIOTRACE_LANE_AVX2 static V256 load(const double* p) { return {_mm256_loadu_pd(p)}; }
  MRIOTRACE_LANE_AVX2 static V256 loadf(const float* p) { return {_mm256_cvtps_pd(_mm_loadu_ps(p))}; }
  MRIOTRACE_LANE_AVX2 static V256 set1(double a) { return {_mm256_set1_pd(a)}; }
  MRIOTRACE_LANE_AVX2 static V256 zero() { return {_mm256_setzero_pd()}; }
  MRIOTRACE_LANE_AVX2 void store(double* p) const { _mm256_storeu_pd(p, v); }
  MRIOTRACE_LANE_AVX2 friend V256 operator*(V256 a, V256 b) { return {_mm256_mul_pd(a.v, b.v)}; }
  MRIOTRACE_LANE_AVX2 friend V256 operator+(V256 a, V256 b) { return {_mm256_add_pd(a.v, b.v)}; }
  MRIOTRACE_LANE_AVX2 friend V256 operator-(V256 a, V256 b) { return {_mm256_sub_pd(a.v, b.v)}; }
  MRIOTRACE_LANE_AVX2 friend V256 operator/(V256 a, V256 b) { return {_mm256_div_pd(a.v, b.v)}; }
  MRIOTRACE_LANE_AVX2 static V256 fmadd(V256 a, V256 b, V256 c) { return {_mm256_fmadd_pd(a.v, b.v, c.v)}; }
  MRIOTRACE_LANE_AVX2 static V256 fnmadd(V256 a, V256 b, V256 c) { return {_mm256_fnmadd_pd(a.v, b.v, c.v)}; }
};

/// 8 doubles in one AVX-512 register.
struct V512 {
  __m512d v;
  static constexpr int width = 8;
  MRIOTRACE_LANE_AVX512 static V512 load(const double* p) { return {_mm512_loadu_pd(p)}; }
  MRIOTRACE_LANE_AVX512 static V512 loadf(const float* p) { return {_mm512_cvtps_pd(_mm256_loadu_ps(p))}; }
  MRIOTRACE_LANE_AVX512 static V512 set1(double a) { return {_mm512_set1_pd(a)}; }
  MRIOTRACE_LANE_AVX512 static V512 zero() { return {_mm512_setzero_pd()}; }
  MRIOTRACE_LANE_AVX512 void store(double* p) const { _mm512_storeu_pd(p, v); }
  MRIOTRACE_LANE_AVX512 friend V512 operator*(V512 a, V512 b) { return {_mm512_mul_pd(a.v, b.v)}; }
  MRIOTRACE_LANE_AVX512 friend V512 operator+(V512 a, V512 b) { return {_mm512_add_pd(a.v, b.v)}; }
  MRIOTRACE_LANE_AVX512 friend V512 operator-(V512 a, V512 b) { return {_mm512_sub_pd(a.v, b.v)}; }
  MRIOTRACE_LANE_AVX512 friend V512 operator/(V512 a, V512 b) { return {_mm512_div_pd(a.v, b.v)}; }
  MRIOTRACE_LANE_AVX512 static V512 fmadd(V512 a, V512 b, V512 c) { return {_mm512_fmadd_pd(a.v, b.v, c.v)}; }
  MRIOTRACE_LANE_AVX512 static V512 fnmadd(V512 a, V512 b, V512 c) { return {_mm512_fnmadd_pd(a.v, b.v, c.v)}; }
};

/// 8 doubles in two AVX registers.
struct V256x2 {
  V256 lo, hi;
  static constexpr int width = 8;
  MRIOTRACE_LANE_AVX2 static V256x2 load(const double* p) { return {V256::load(p), V256::load(p + 4)}; }
  MRIOTRACE_LANE_AVX2 static V256x2 loadf(const float* p) { return {V256::loadf(p), V256::loadf(p + 4)}; }
  MRIOTRACE_LANE_AVX2 static V256x2 set1(double a) { return {V256::set1(a), V256::set1(a)}; }
  MRIOTRACE_LANE_AVX2 static V256x2 zero() { return {V256::zero(), V256::zero()}; }
  MRIOTRACE_LANE_AVX2 void store(double* p) const {
    lo.store(p);
    hi.store(p + 4);
  }
  MRIOTRACE_LANE_AVX2 friend V256x2 operator*(V256x2 a, V256x2 b) { return {a.lo * b.lo, a.hi * b.hi}; }
  MRIOTRACE_LANE_AVX2 friend V256x2 operator+(V256x2 a, V256x2 b) { return {a.lo + b.lo, a.hi + b.hi}; }
  MRIOTRACE_LANE_AVX2 friend V256x2 operator-(V256x2 a, V256x2 b) { return {a.lo - b.lo, a.hi - b.hi}; }
  MRIOTRACE_LANE_AVX2 friend V256x2 operator/(V256x2 a, V256x2 b) { return {a.lo / b.lo, a.hi / b.hi}; }
  MRIOTRACE_LANE_AVX2 static V256x2 fmadd(V256x2 a, V256x2 b, V256x2 c) {
    return {V256::fmadd(a.lo, b.lo, c.lo), V256::fmadd(a.hi, b.hi, c.hi)};
  }
  MRIOTRACE_LANE_AVX2 static V256x2 fnmadd(V256x2 a, V256x2 b, V256x2 c) {
    return {V256::fnmadd(a.lo, b.lo, c.lo), V256::fnmadd(a.hi, b.hi, c.hi)};
  }
};

/// The instruction sets: their 8- and 4-double lane types.
struct Avx512 {
  using V8 = V512;
  using V4 = V256;
};
struct Avx2 {
  using V8 = V256x2;
  using V4 = V256;
};
struct Scalar {
  using V8 = VScalar<8>;
  using V4 = VScalar<4>;
};

}  // namespace

}  // namespace mriotrace::simd
