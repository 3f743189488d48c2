// Just enough of CUDA's device dialect to compile minifer's kernels as ordinary C++ (g++):
// the qualifiers become no-ops and the built-in index variables become globals that the
// generated launcher sets before calling the kernel once per (block, thread), serially.
// g++ understands __restrict__ natively.
#pragma once
#include <cstring>

#define __global__
#define __device__
#define __forceinline__ inline

struct dim3 { unsigned int x, y, z; };
static thread_local dim3 gridDim, blockDim, blockIdx, threadIdx;

static inline float __int_as_float(int i) { float f; std::memcpy(&f, &i, sizeof f); return f; }

// Runs body() once for every (block, thread) of the launch, one after another.
template <class Body>
static void walk_grid(int gx, int gy, int gz, int bx, int by, int bz, Body body)
{
    gridDim = dim3{(unsigned)gx, (unsigned)gy, (unsigned)gz};
    blockDim = dim3{(unsigned)bx, (unsigned)by, (unsigned)bz};
    for (unsigned z = 0; z < gridDim.z; ++z)
        for (unsigned y = 0; y < gridDim.y; ++y)
            for (unsigned x = 0; x < gridDim.x; ++x)
                for (unsigned tz = 0; tz < blockDim.z; ++tz)
                    for (unsigned ty = 0; ty < blockDim.y; ++ty)
                        for (unsigned tx = 0; tx < blockDim.x; ++tx) {
                            blockIdx = dim3{x, y, z};
                            threadIdx = dim3{tx, ty, tz};
                            body();
                        }
}
