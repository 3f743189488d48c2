// What the kernels share: for_each_index, the grid-stride loop every kernel runs its elements
// in; split_nhwc, the (n, y, x, c) of a thread's flat index into an (N, Y, X, C) array;
// gather_windows, the backward kernels' shape (below); and for_each_window, the one loop every gather-style backward kernel
// shares: the windows that read input pixel (h, w). Tap i of output row oh reads input row oh*SH + i - PT, so pixel row h is read by
// the taps i = (h + PT) % SH, then every SH-th, at oh = (h + PT - i) / SH, while oh is in
// [0, HO); the same for columns. body(i, j, oh, ow) runs once for each such (tap, window).
#ifndef MINIFER_WINDOWS_CUH
#define MINIFER_WINDOWS_CUH

// body(idx) for every idx in [0, total), each on one thread: 64-bit indices, and a grid of
// any size covers any total (each thread strides by the whole grid).
template <class Body>
__device__ __forceinline__ void for_each_index(long long total, Body body)
{
    for (long long idx = blockIdx.x * (long long)blockDim.x + threadIdx.x; idx < total;
         idx += (long long)blockDim.x * gridDim.x)
        body(idx);
}

__device__ __forceinline__ void split_nhwc(long long idx, int Y, int X, int C,
                                           long long& n, int& y, int& x, int& c)
{
    c = (int)(idx % C); idx /= C;
    x = (int)(idx % X); idx /= X;
    y = (int)(idx % Y);
    n = idx / Y;
}

template <class Body>
__device__ __forceinline__ void for_each_window(int h, int w, int KH, int KW, int SH, int SW,
                                                int PT, int PL, int HO, int WO, Body body)
{
    for (int i = (h + PT) % SH; i < KH; i += SH) {
        const int oh = (h + PT - i) / SH;
        if (oh < 0) break;
        if (oh >= HO) continue;
        for (int j = (w + PL) % SW; j < KW; j += SW) {
            const int ow = (w + PL - j) / SW;
            if (ow < 0) break;
            if (ow >= WO) continue;
            body(i, j, oh, ow);
        }
    }
}

// The gather every backward kernel of a sliding window is: out (N, H, W, C), one thread per
// input pixel, summing term(n, c, i, j, oh, ow) over the (tap, window) pairs that read it.
template <class T, class Term>
__device__ __forceinline__ void gather_windows(T* out, int N, int H, int W, int C, int KH, int KW,
                                               int SH, int SW, int PT, int PL, int HO, int WO, Term term)
{
    for_each_index((long long)N * H * W * C, [&](long long idx) {
        long long n;
        int h, w, c;
        split_nhwc(idx, H, W, C, n, h, w, c);
        T acc = 0;
        for_each_window(h, w, KH, KW, SH, SW, PT, PL, HO, WO, [&](int i, int j, int oh, int ow) {
            acc += term(n, c, i, j, oh, ow);
        });
        out[idx] = acc;
    });
}

#endif
