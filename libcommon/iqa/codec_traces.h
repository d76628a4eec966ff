/* Traces that a codec leaves on the pixel grid it coded, measured on the
 * decoded image at that grid's origin (the ERP's, for a 360-degree image
 * stored as a compressed ERP). Each is a ratio that is near 1 (or 0) for
 * images without that codec's trace, independent of the content to first
 * order because it compares positions of the same image.
 *
 * Chroma pairs (4:2:0 video decoded with sample replication, as ffmpeg's
 * yuv420p -> RGB conversion does): in 4:2:0 one chroma sample covers a
 * 2x2 pixel block, so Cb and Cr (BT.601, from the decoded RGB) change
 * across the block boundaries only. ratio = mean |dC| between the two
 * pixels of a pair (x = 2k, 2k+1) / mean |dC| across pairs, over both
 * directions and both chroma planes: ~0 for replicated 4:2:0 chroma, ~1
 * otherwise (JPEG decoders interpolate their chroma: ~1 as well).
 *
 * Chroma edge pattern (which video codec): the |dC| profile over the 16
 * positions x mod 16, normalised to its mean. H.264/AVC codes chroma in
 * 4x4 transforms of the half-resolution plane (8 pixels of the image) and
 * its deblocking changes only the two samples next to an edge, so the steps
 * stay at x = 7 and 15 mod 16; H.265/HEVC deblocks chroma only on the 8x8
 * grid of the chroma plane (16 pixels) and moves the samples next to it,
 * so the steps move to the neighbouring pairs, x = 13 and 1 mod 16
 * (ITU-T H.264 8.7, H.265 8.7.2). pattern = (P7 + P15) / (P1 + P13):
 * above 1.35 on the shipped panoramas' H.264 stills, below 1.3 for HEVC.
 *
 * Wavelet lattice (JPEG 2000): the codec quantises the coefficients of the
 * CDF 9/7 wavelet (ISO/IEC 15444-1 Annex F) with a dead zone, so after
 * decoding many first-level detail coefficients of the image's own
 * transform are ~0 (within the rounding of the decoded pixels). Shifting
 * the image by one pixel mixes the polyphase components and the zeros
 * disappear. lattice = fraction of |d| < 1 grey level on the aligned grid
 * minus the same on the grid shifted by (1, 1): 0.014 or more for the
 * shipped panoramas at every level of the jpeg2000 family, 0.002 at most
 * for any other image.
 *
 * Detail decay (strength of the smoothing codecs): the mean |d| of the
 * second-level details over that of the third level (both of the 9/7
 * transform, luma). Natural images keep it near 1.6-2.3; JPEG 2000,
 * H.264 and HEVC remove fine detail first, so it falls with the level of
 * compression (iqa/detect.h maps it to a level). */
#ifndef OIQA_IQA_CODEC_TRACES_H
#define OIQA_IQA_CODEC_TRACES_H

#include <stdint.h>

typedef struct {
    double chroma_pairs;   /* ~0: replicated 4:2:0 chroma */
    double chroma_pattern; /* (P7 + P15) / (P1 + P13) of the chroma step profile */
    double wavelet_lattice;/* aligned minus shifted zero fraction of the 9/7 details */
    double detail_decay;   /* mean |d2| / mean |d3| */
} oiqa_codec_traces;

/* The four traces of an RGB image (w, h >= 32). OIQA_OK, OIQA_EXIT_USAGE
 * (too small) or OIQA_EXIT_DATA (out of memory). */
int oiqa_codec_traces_measure(const uint8_t *rgb, int w, int h, oiqa_codec_traces *out);

/* One level of the CDF 9/7 analysis (lifting, symmetric extension) of a
 * w x h plane (w, h even) in place into the four quarter-size bands
 * LL | HL / LH | HH laid out as LL top left. */
void oiqa_dwt97_level(float *p, int w, int h, float *tmp);

#endif
