// im2col / col2im for NHWC convolution lowered to a matrix product.
// im2col copies every (output pixel, tap, channel) into a row of `cols`; col2im is its
// adjoint written as a gather: each dx element sums the cols entries that read it, so
// there are no atomics and the result is deterministic.
#ifndef scalar_t
#define scalar_t float
#endif
#include "windows.cuh"

// cols (N*HO*WO, KH*KW*C): one thread per element.
extern "C" __global__ void im2col(const scalar_t* __restrict__ x, scalar_t* __restrict__ cols,
                                  int N, int H, int W, int C, int KH, int KW, int SH, int SW,
                                  int PT, int PL, int HO, int WO)
{
    const long long total = (long long)N * HO * WO * KH * KW * C;
    for_each_index(total, [&](long long idx) {
        long long t = idx;
        const int c = (int)(t % C);   t /= C;
        const int j = (int)(t % KW);  t /= KW;
        const int i = (int)(t % KH);  t /= KH;
        const int ow = (int)(t % WO); t /= WO;
        const int oh = (int)(t % HO);
        const long long n = t / HO;
        const long long h = (long long)oh * SH + i - PT;
        const long long w = (long long)ow * SW + j - PL;
        scalar_t v = 0;
        if (h >= 0 && h < H && w >= 0 && w < W)
            v = x[((n * H + h) * W + w) * C + c];
        cols[idx] = v;
    });
}

// dx (N, H, W, C) = col2im(cols): one thread per dx element; taps i = (h + PT) % SH, +SH, ...
// are exactly those with oh = (h + PT - i) / SH integral.
extern "C" __global__ void col2im(const scalar_t* __restrict__ cols, scalar_t* __restrict__ dx,
                                  int N, int H, int W, int C, int KH, int KW, int SH, int SW,
                                  int PT, int PL, int HO, int WO)
{
    const long long K = (long long)KH * KW * C;
    gather_windows(dx, N, H, W, C, KH, KW, SH, SW, PT, PL, HO, WO,
                   [&](long long n, int c, int i, int j, int oh, int ow) {
        return cols[((n * HO + oh) * WO + ow) * K + ((long long)i * KW + j) * C + c];
    });
}
