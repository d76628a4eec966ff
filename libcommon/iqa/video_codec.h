/* H.264/AVC and H.265/HEVC intra coding through the ffmpeg program.
 *
 * oiqa links no video encoder (libx264 and libx265 are GPL): it runs the
 * `ffmpeg` program of Debian's ffmpeg package, found as $OIQA_FFMPEG or on
 * PATH, with files in a private temporary folder (no pipes, no shell):
 *   encode: raw rgb24 frames -> yuv420p (swscale, bicubic) -> libx264
 *           (-preset medium, constant QP, ipratio 1 so the intra frame is
 *           coded at exactly that QP, every frame an IDR frame, 1 thread) or
 *           libx265 (the same through -x265-params, no thread pools)
 *   decode: the elementary stream -> rgb24 (swscale, bicubic)
 * One thread and fixed options make the bytes depend on the input, the QP
 * and the ffmpeg / x264 / x265 versions only (the version is recorded by
 * the callers). Odd widths or heights (4:2:0) and sides under 16 (libx265's
 * minimum) are padded by repeating the last column / row and cropped back. */
#ifndef OIQA_IQA_VIDEO_CODEC_H
#define OIQA_IQA_VIDEO_CODEC_H

#include <stddef.h>

#include "iqa/distort.h"

/* The program that would run ($OIQA_FFMPEG, else "ffmpeg" found on PATH)
 * into path; OIQA_OK, or OIQA_EXIT_DATA with the one-line message saying
 * what to install ("the h264 family needs the ffmpeg program ..."). `what`
 * names the caller's family or purpose in the message. */
int oiqa_ffmpeg_find(const char *what, char *path, size_t n);

/* The first line of `ffmpeg -version` up to its copyright ("ffmpeg version
 * 5.1.9-0+deb12u1") into out; OIQA_OK or the oiqa_ffmpeg_find error. */
int oiqa_ffmpeg_version(char *out, size_t n);

#endif
