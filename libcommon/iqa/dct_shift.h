/* Shift-averaged 8x8 DCT filtering of a float plane: the image is cut into
 * 8x8 blocks on a grid shifted by (dx, dy), each block is transformed with
 * the orthonormal 2-D DCT-II (JPEG's, ITU-T T.81 A.3.3), its coefficients
 * are modified, the block is transformed back, and the results of all
 * shifts are averaged.
 *
 *   REQUANT  F <- round(F / q) q: re-application of JPEG (A. Nosratinia
 *            2001, "Enhancement of JPEG-compressed images by re-application
 *            of JPEG", J. VLSI Signal Processing 27): with the table the
 *            image was coded with, every shifted re-quantisation is a
 *            plausible decoding, and their mean removes the blocking and
 *            much of the ringing of the original grid.
 *   HARD     F <- 0 where |F| < q (the DC term is kept): overcomplete DCT
 *            hard thresholding (the idea of ffmpeg's spp filter; O. G.
 *            Guleryuz 2006 for the estimator), a denoiser for the smooth
 *            residue of wavelet and video codecs.
 *
 * Shifts: dx, dy in {0, step, 2 step, ...} < 8 (step 1: all 64, step 2:
 * 16, step 4: 4). Borders: the plane is extended by half-sample reflection
 * (iqa/filter.h), so every pixel is covered by one block of every shift.
 * Deterministic: each shift's blocks are independent and the shifts are
 * summed in a fixed order (OpenMP over block rows when the plane is large). */
#ifndef OIQA_IQA_DCT_SHIFT_H
#define OIQA_IQA_DCT_SHIFT_H

typedef enum { OIQA_DCT_REQUANT, OIQA_DCT_HARD } oiqa_dct_mode;

/* in -> out (w x h, in == out allowed); q[64] in row-major (v*8 + u)
 * frequency order, every entry > 0. OIQA_OK, OIQA_EXIT_USAGE (bad
 * arguments) or OIQA_EXIT_DATA (out of memory). */
int oiqa_dct_shift_filter(const float *in, float *out, int w, int h, const float q[64], oiqa_dct_mode mode, int step);

/* The same computed block by block (the reference the tests compare the
 * strip-wise implementation with; slower). */
int oiqa_dct_shift_filter_naive(const float *in, float *out, int w, int h, const float q[64], oiqa_dct_mode mode,
                                int step);

/* The IJG luminance table (T.81 Table K.1) scaled to a quality 1..100 the
 * way libjpeg and stb_image_write do: s = 5000/q below 50, 200 - 2q above;
 * entry = clamp(floor((K1 s + 50) / 100), 1, 255); row-major order. */
void oiqa_jpeg_luma_table(int quality, float q[64]);

#endif
