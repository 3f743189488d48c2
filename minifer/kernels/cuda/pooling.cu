// Max pooling, NHWC. The forward pass records the winning tap i*PW + j of each window
// (TensorFlow's rule: the first maximum in row-major window order; padding never wins; a NaN
// wins at its first position). The backward pass is a gather: each dx element sums g over
// the windows whose argmax points at it, so there are no atomics, the result is
// deterministic, and a NaN or inf in g reaches only the chosen pixel.
#ifndef scalar_t
#define scalar_t float
#endif
#include "windows.cuh"

// y, argmax (N, HO, WO, C): one thread per element. A window with no pixel inside the image
// gives -inf and argmax -1 (so it passes no gradient).
extern "C" __global__ void max_pool_forward(const scalar_t* __restrict__ x,
                                            scalar_t* __restrict__ y, int* __restrict__ argmax,
                                            int N, int H, int W, int C, int PH, int PW,
                                            int SH, int SW, int PT, int PL, int HO, int WO)
{
    const long long total = (long long)N * HO * WO * C;
    for_each_index(total, [&](long long idx) {
        long long n;
        int oh, ow, c;
        split_nhwc(idx, HO, WO, C, n, oh, ow, c);
        scalar_t best = (scalar_t)__int_as_float(0xff800000);  // -inf
        int arg = -1;
        for (int tap = 0; tap < PH * PW; ++tap) {
            const long long h = (long long)oh * SH + tap / PW - PT;
            const long long w = (long long)ow * SW + tap % PW - PL;
            if (h < 0 || h >= H || w < 0 || w >= W) continue;
            const scalar_t v = x[((n * H + h) * W + w) * C + c];
            if (v != v) { best = v; arg = tap; break; }         // the first NaN wins
            if (arg < 0 || v > best) { best = v; arg = tap; }   // strict >: later ties lose
        }
        y[idx] = best;
        argmax[idx] = arg;
    });
}

// dx (N, H, W, C): one thread per element, summing g over the windows whose argmax is this
// pixel. Selection, not a multiply by a 0/1 mask, so inf/NaN in other windows stay there.
extern "C" __global__ void max_pool_backward(const scalar_t* __restrict__ g,
                                             const int* __restrict__ argmax,
                                             scalar_t* __restrict__ dx,
                                             int N, int H, int W, int C, int PH, int PW,
                                             int SH, int SW, int PT, int PL, int HO, int WO)
{
    gather_windows(dx, N, H, W, C, PH, PW, SH, SW, PT, PL, HO, WO,
                   [&](long long n, int c, int i, int j, int oh, int ow) {
        const long long o = ((n * HO + oh) * WO + ow) * C + c;
        return argmax[o] == i * PW + j ? g[o] : (scalar_t)0;
    });
}
