// Depthwise convolution, NHWC, weights w (KH, KW, C, M); output channel c*M + m reads
// input channel c only. Both backward kernels are gathers (each output element sums its own
// terms; the weight gradient is split into CHUNKS row ranges the caller sums), so there are
// no atomics and the results are deterministic.
#ifndef scalar_t
#define scalar_t float
#endif
#include "windows.cuh"

// y (N, HO, WO, C*M): one thread per element.
extern "C" __global__ void depthwise_forward(const scalar_t* __restrict__ x,
                                             const scalar_t* __restrict__ w,
                                             scalar_t* __restrict__ y,
                                             int N, int H, int W, int C, int M, int KH, int KW,
                                             int SH, int SW, int PT, int PL, int HO, int WO)
{
    const long long total = (long long)N * HO * WO * C * M;
    for_each_index(total, [&](long long idx) {
        long long t = idx;
        const int m = (int)(t % M);   t /= M;
        const int c = (int)(t % C);   t /= C;
        const int ow = (int)(t % WO); t /= WO;
        const int oh = (int)(t % HO);
        const long long n = t / HO;
        scalar_t acc = 0;
        for (int i = 0; i < KH; ++i) {
            const long long h = (long long)oh * SH + i - PT;
            if (h < 0 || h >= H) continue;
            for (int j = 0; j < KW; ++j) {
                const long long v = (long long)ow * SW + j - PL;
                if (v < 0 || v >= W) continue;
                acc += x[((n * H + h) * W + v) * C + c]
                     * w[(((long long)i * KW + j) * C + c) * M + m];
            }
        }
        y[idx] = acc;
    });
}

// dx (N, H, W, C): one thread per element, summing over the taps that read it and over m.
extern "C" __global__ void depthwise_backward_input(const scalar_t* __restrict__ g,
                                                    const scalar_t* __restrict__ w,
                                                    scalar_t* __restrict__ dx,
                                                    int N, int H, int W, int C, int M,
                                                    int KH, int KW, int SH, int SW,
                                                    int PT, int PL, int HO, int WO)
{
    const long long CM = (long long)C * M;
    gather_windows(dx, N, H, W, C, KH, KW, SH, SW, PT, PL, HO, WO,
                   [&](long long n, int c, int i, int j, int oh, int ow) {
        const scalar_t* gp = g + ((n * HO + oh) * WO + ow) * CM + (long long)c * M;
        const scalar_t* wp = w + (((long long)i * KW + j) * C + c) * M;
        scalar_t sum = 0;
        for (int m = 0; m < M; ++m) sum += gp[m] * wp[m];
        return sum;
    });
}

// partial (CHUNKS, KH*KW*C*M): thread (k, weight element) sums x * g over the output rows
// r = (n*HO + oh)*WO + ow in [k*R/CHUNKS, (k+1)*R/CHUNKS), R = N*HO*WO.
extern "C" __global__ void depthwise_backward_weight(const scalar_t* __restrict__ x,
                                                     const scalar_t* __restrict__ g,
                                                     scalar_t* __restrict__ partial,
                                                     int N, int H, int W, int C, int M,
                                                     int KH, int KW, int SH, int SW,
                                                     int PT, int PL, int HO, int WO, int CHUNKS)
{
    const long long CM = (long long)C * M;
    const long long R = (long long)N * HO * WO;
    const long long KS = (long long)KH * KW * CM;
    const long long total = (long long)CHUNKS * KS;
    for_each_index(total, [&](long long idx) {
        long long t = idx;
        const int m = (int)(t % M);  t /= M;
        const int c = (int)(t % C);  t /= C;
        const int j = (int)(t % KW); t /= KW;
        const int i = (int)(t % KH);
        const long long k = t / KH;
        const long long r0 = k * R / CHUNKS, r1 = (k + 1) * R / CHUNKS;
        // Walk (n, oh, ow) along with r instead of dividing r on every step.
        int ow = (int)(r0 % WO), oh = (int)(r0 / WO % HO);
        long long n = r0 / ((long long)WO * HO);
        scalar_t acc = 0;
        for (long long r = r0; r < r1; ++r) {
            const long long h = (long long)oh * SH + i - PT;
            const long long v = (long long)ow * SW + j - PL;
            if (h >= 0 && h < H && v >= 0 && v < W)
                acc += x[((n * H + h) * W + v) * C + c] * g[r * CM + (long long)c * M + m];
            if (++ow == WO) {
                ow = 0;
                if (++oh == HO) { oh = 0; ++n; }
            }
        }
        partial[idx] = acc;
    });
}
