"""Array kernels the primitives are built on (NHWC windows, im2col, col2im)."""
