/* H.264 / HEVC intra stills through the ffmpeg program; see iqa/video_codec.h. */
#include "iqa/video_codec.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/error.h"
#include "base/strutil.h"
#include "iqa/filter.h"

extern char **environ;

#define OIQA_VIDEO_MIN_SIDE 16 /* libx265 refuses "too small" images, 8 x 8 included */

static int executable(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0;
}

int oiqa_ffmpeg_find(const char *what, char *path, size_t n)
{
    const char *env = getenv("OIQA_FFMPEG");
    if (env && *env) {
        if (executable(env)) {
            snprintf(path, n, "%s", env);
            return OIQA_OK;
        }
        return oiqa_fail(OIQA_EXIT_DATA, env, "OIQA_FFMPEG names no executable program (%s needs ffmpeg with "
                         "libx264 and libx265: apt-get install ffmpeg)", what);
    }
    const char *dirs = getenv("PATH");
    for (const char *d = dirs ? dirs : "/usr/bin:/bin"; d && *d;) {
        const char *end = strchr(d, ':');
        size_t len = end ? (size_t)(end - d) : strlen(d);
        if (len && len + 8 < n) {
            snprintf(path, n, "%.*s/ffmpeg", (int)len, d);
            if (executable(path)) return OIQA_OK;
        }
        d = end ? end + 1 : NULL;
    }
    return oiqa_fail(OIQA_EXIT_DATA, NULL, "%s needs the ffmpeg program, which is not on PATH (install it: apt-get "
                     "install ffmpeg; or set OIQA_FFMPEG to its path)", what);
}

/* Runs argv with stdout and stderr into log_path; the exit status, or -1. */
static int run_program(char *const *argv, const char *log_path)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid;
    int e = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (e) return -1;
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The last non-empty line of the program's log, for the error message. */
static void last_line(const char *log_path, char *out, size_t n)
{
    *out = 0;
    FILE *f = fopen(log_path, "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (*line) snprintf(out, n, "%s", line);
    }
    fclose(f);
}

int oiqa_ffmpeg_version(char *out, size_t n)
{
    char prog[4096];
    int rc = oiqa_ffmpeg_find("recording the ffmpeg version", prog, sizeof prog);
    if (rc) return rc;
    const char *tmp = getenv("TMPDIR");
    char *tdir = oiqa_asprintf("%s/oiqa-ffmpeg-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(tdir)) {
        rc = oiqa_fail(OIQA_EXIT_DATA, tdir, "cannot create a temporary folder: %s", strerror(errno));
        free(tdir);
        return rc;
    }
    char *log = oiqa_asprintf("%s/version.txt", tdir);
    char *argv[] = {prog, "-hide_banner", "-version", NULL};
    char line[256] = "";
    if (run_program(argv, log) == 0) {
        FILE *f = fopen(log, "r");
        if (f) {
            if (fgets(line, sizeof line, f)) line[strcspn(line, "\r\n")] = 0;
            char *c = strstr(line, " Copyright"); /* "ffmpeg version 5.1.9-0+deb12u1 Copyright (c) ..." */
            if (c) *c = 0;
            fclose(f);
        }
    }
    unlink(log), rmdir(tdir);
    free(log), free(tdir);
    if (!*line) return oiqa_fail(OIQA_EXIT_DATA, prog, "'-version' printed nothing: not a working ffmpeg");
    snprintf(out, n, "%s", line);
    return OIQA_OK;
}

static int write_all(const char *path, const uint8_t *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    int ok = fwrite(data, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

static int read_exact(const char *path, uint8_t *data, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    int ok = fread(data, 1, n, f) == n && fgetc(f) == EOF;
    fclose(f);
    return ok;
}

int oiqa_video_recompress(const uint8_t *src, int w, int h, int n, oiqa_dist_family codec, int qp, uint8_t *dst)
{
    int rc = oiqa_iqa_check_image(src, w, h, dst);
    if (rc) return rc;
    if (codec != OIQA_DIST_H264 && codec != OIQA_DIST_HEVC)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'distortion': %d is not a video codec", (int)codec);
    if (qp < 0 || qp > 51) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'qp': %d is outside 0..51", qp);
    if (n < 1 || n > 100000) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'frames': %d is outside 1..100000", n);
    char prog[4096];
    rc = oiqa_ffmpeg_find(codec == OIQA_DIST_H264 ? "the h264 family" : "the hevc family", prog, sizeof prog);
    if (rc) return rc;

    /* 4:2:0 needs even sides and libx265 at least 16 x 16: pad by repeating
     * the last column / row (cut off again after decoding). */
    int pw = w + (w & 1), ph = h + (h & 1);
    if (pw < OIQA_VIDEO_MIN_SIDE) pw = OIQA_VIDEO_MIN_SIDE;
    if (ph < OIQA_VIDEO_MIN_SIDE) ph = OIQA_VIDEO_MIN_SIDE;
    size_t frame = (size_t)pw * ph * 3;
    uint8_t *pad = malloc(frame * (size_t)n);
    if (!pad) return oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory for %d frames of %dx%d", n, w, h);
    for (int f = 0; f < n; f++)
        for (int y = 0; y < ph; y++) {
            const uint8_t *row = src + ((size_t)f * h + (y < h ? y : h - 1)) * w * 3;
            uint8_t *o = pad + (size_t)f * frame + (size_t)y * pw * 3;
            memcpy(o, row, (size_t)w * 3);
            for (int x = w; x < pw; x++) memcpy(o + (size_t)x * 3, row + (size_t)(w - 1) * 3, 3);
        }

    const char *tmp = getenv("TMPDIR");
    char *tdir = oiqa_asprintf("%s/oiqa-ffmpeg-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(tdir)) {
        rc = oiqa_fail(OIQA_EXIT_DATA, tdir, "cannot create a temporary folder: %s", strerror(errno));
        free(tdir), free(pad);
        return rc;
    }
    const char *ext = codec == OIQA_DIST_H264 ? "264" : "265";
    char *in = oiqa_asprintf("%s/in.rgb", tdir), *bits = oiqa_asprintf("%s/out.%s", tdir, ext);
    char *out = oiqa_asprintf("%s/out.rgb", tdir), *log = oiqa_asprintf("%s/log.txt", tdir);
    char size[32], qps[16], x265[128];
    snprintf(size, sizeof size, "%dx%d", pw, ph);
    snprintf(qps, sizeof qps, "%d", qp);
    snprintf(x265, sizeof x265, "qp=%d:ipratio=1:keyint=1:pools=none:frame-threads=1:log-level=error", qp);
    if (!write_all(in, pad, frame * (size_t)n)) {
        rc = oiqa_fail(OIQA_EXIT_DATA, in, "cannot write the frames for ffmpeg: %s", strerror(errno));
    } else {
        char *x264_argv[] = {prog, "-nostdin", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", size,
                             "-r", "25", "-i", in, "-sws_flags", "bicubic", "-pix_fmt", "yuv420p", "-c:v", "libx264",
                             "-preset", "medium", "-qp", qps, "-x264-params", "ipratio=1:keyint=1:threads=1",
                             "-threads", "1", "-f", "h264", bits, NULL};
        char *x265_argv[] = {prog, "-nostdin", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", size,
                             "-r", "25", "-i", in, "-sws_flags", "bicubic", "-pix_fmt", "yuv420p", "-c:v", "libx265",
                             "-preset", "medium", "-x265-params", x265, "-threads", "1", "-f", "hevc", bits, NULL};
        char *dec_argv[] = {prog, "-nostdin", "-v", "error", "-y", "-threads", "1", "-i", bits, "-sws_flags",
                            "bicubic", "-f", "rawvideo", "-pix_fmt", "rgb24", out, NULL};
        char line[520];
        int st = run_program(codec == OIQA_DIST_H264 ? x264_argv : x265_argv, log);
        if (st != 0) {
            last_line(log, line, sizeof line);
            rc = oiqa_fail(OIQA_EXIT_DATA, prog, "%s encoding of %d frame(s) of %dx%d failed (exit %d%s%s)",
                           codec == OIQA_DIST_H264 ? "libx264" : "libx265", n, w, h, st, *line ? ": " : "", line);
        } else if ((st = run_program(dec_argv, log)) != 0) {
            last_line(log, line, sizeof line);
            rc = oiqa_fail(OIQA_EXIT_DATA, prog, "decoding a %s stream failed (exit %d%s%s)", ext, st, *line ? ": " : "",
                           line);
        } else if (!read_exact(out, pad, frame * (size_t)n)) {
            rc = oiqa_fail(OIQA_EXIT_DATA, prog, "decoded %s stream is not %d frame(s) of %dx%d", ext, n, pw, ph);
        }
    }
    if (!rc)
        for (int f = 0; f < n; f++)
            for (int y = 0; y < h; y++)
                memcpy(dst + ((size_t)f * h + y) * w * 3, pad + (size_t)f * frame + (size_t)y * pw * 3, (size_t)w * 3);
    unlink(in), unlink(bits), unlink(out), unlink(log), rmdir(tdir);
    free(in), free(bits), free(out), free(log), free(tdir), free(pad);
    return rc;
}
