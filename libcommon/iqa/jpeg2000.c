/* JPEG 2000 re-encoding through OpenJPEG (Debian's libopenjp2): encode to a
 * codestream in memory at a compression ratio, decode it back. The coding
 * choices (iqa/distort.h): irreversible 9/7 wavelet with the irreversible
 * colour transform (ISO/IEC 15444-1 Annex F, G), one quality layer whose
 * rate is the ratio against the 24-bit source, 64x64 code blocks, up to 6
 * resolutions (fewer for small images: each must keep a sample), no tiles,
 * no subsampling. OpenJPEG is deterministic and runs on the calling thread. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <openjpeg.h>

#include "base/error.h"
#include "iqa/distort.h"
#include "iqa/filter.h"

typedef struct {
    uint8_t *data;
    size_t n, cap, pos;
    int oom;
} j2k_buf;

static OPJ_SIZE_T buf_write(void *p, OPJ_SIZE_T n, void *user)
{
    j2k_buf *b = user;
    if (b->pos + n > b->cap) {
        size_t cap = b->cap ? b->cap : 1 << 16;
        while (cap < b->pos + n) cap *= 2;
        uint8_t *d = realloc(b->data, cap);
        if (!d) {
            b->oom = 1;
            return (OPJ_SIZE_T)-1;
        }
        b->data = d, b->cap = cap;
    }
    memcpy(b->data + b->pos, p, n);
    b->pos += n;
    if (b->pos > b->n) b->n = b->pos;
    return n;
}

static OPJ_SIZE_T buf_read(void *p, OPJ_SIZE_T n, void *user)
{
    j2k_buf *b = user;
    if (b->pos >= b->n) return (OPJ_SIZE_T)-1;
    size_t k = b->n - b->pos < n ? b->n - b->pos : n;
    memcpy(p, b->data + b->pos, k);
    b->pos += k;
    return k;
}

static OPJ_OFF_T buf_skip(OPJ_OFF_T n, void *user)
{
    j2k_buf *b = user;
    OPJ_OFF_T to = (OPJ_OFF_T)b->pos + n;
    if (to < 0) return -1;
    b->pos = (size_t)to;
    return n;
}

static OPJ_BOOL buf_seek(OPJ_OFF_T to, void *user)
{
    j2k_buf *b = user;
    if (to < 0) return OPJ_FALSE;
    b->pos = (size_t)to;
    return OPJ_TRUE;
}

static void quiet(const char *msg, void *user)
{
    (void)msg, (void)user;
}

static opj_stream_t *memory_stream(j2k_buf *b, int input)
{
    opj_stream_t *s = opj_stream_create(1 << 16, input ? OPJ_TRUE : OPJ_FALSE);
    if (!s) return NULL;
    opj_stream_set_user_data(s, b, NULL);
    if (input) {
        opj_stream_set_read_function(s, buf_read);
        opj_stream_set_user_data_length(s, b->n);
    } else {
        opj_stream_set_write_function(s, buf_write);
    }
    opj_stream_set_skip_function(s, buf_skip);
    opj_stream_set_seek_function(s, buf_seek);
    return s;
}

static void set_handlers(opj_codec_t *c)
{
    opj_set_info_handler(c, quiet, NULL);
    opj_set_warning_handler(c, quiet, NULL);
    opj_set_error_handler(c, quiet, NULL);
}

/* Resolutions: at most 6, and the smallest must keep at least one sample. */
static int resolutions(int w, int h)
{
    int m = w < h ? w : h, r = 1;
    while (r < 6 && (m >> r) >= 1) r++;
    return r;
}

static int encode(const uint8_t *src, int w, int h, double ratio, j2k_buf *out)
{
    opj_image_cmptparm_t cp[3];
    memset(cp, 0, sizeof cp);
    for (int c = 0; c < 3; c++) cp[c].dx = cp[c].dy = 1, cp[c].w = (OPJ_UINT32)w, cp[c].h = (OPJ_UINT32)h, cp[c].prec = 8;
    opj_image_t *img = opj_image_create(3, cp, OPJ_CLRSPC_SRGB);
    if (!img) return 0;
    img->x0 = img->y0 = 0, img->x1 = (OPJ_UINT32)w, img->y1 = (OPJ_UINT32)h;
    size_t n = (size_t)w * h;
    for (size_t k = 0; k < n; k++)
        for (int c = 0; c < 3; c++) img->comps[c].data[k] = src[3 * k + c];
    opj_cparameters_t p;
    opj_set_default_encoder_parameters(&p);
    p.tcp_numlayers = 1;
    p.tcp_rates[0] = (float)ratio;
    p.cp_disto_alloc = 1;
    p.irreversible = 1;
    p.tcp_mct = 1;
    p.numresolution = resolutions(w, h);
    int ok = 0;
    opj_codec_t *codec = opj_create_compress(OPJ_CODEC_J2K);
    opj_stream_t *s = memory_stream(out, 0);
    if (codec && s) {
        set_handlers(codec);
        ok = opj_setup_encoder(codec, &p, img) && opj_start_compress(codec, img, s) && opj_encode(codec, s) &&
             opj_end_compress(codec, s) && !out->oom;
    }
    if (s) opj_stream_destroy(s);
    if (codec) opj_destroy_codec(codec);
    opj_image_destroy(img);
    return ok;
}

static int decode(j2k_buf *in, int w, int h, uint8_t *dst)
{
    in->pos = 0;
    opj_dparameters_t p;
    opj_set_default_decoder_parameters(&p);
    opj_codec_t *codec = opj_create_decompress(OPJ_CODEC_J2K);
    opj_stream_t *s = memory_stream(in, 1);
    opj_image_t *img = NULL;
    int ok = 0;
    if (codec && s) {
        set_handlers(codec);
        ok = opj_setup_decoder(codec, &p) && opj_read_header(s, codec, &img) && opj_decode(codec, s, img) &&
             opj_end_decompress(codec, s);
    }
    if (ok && (img->numcomps != 3 || (int)img->comps[0].w != w || (int)img->comps[0].h != h)) ok = 0;
    if (ok) {
        size_t n = (size_t)w * h;
        for (int c = 0; c < 3; c++) {
            const OPJ_INT32 *d = img->comps[c].data;
            for (size_t k = 0; k < n; k++) dst[3 * k + c] = (uint8_t)(d[k] < 0 ? 0 : d[k] > 255 ? 255 : d[k]);
        }
    }
    if (img) opj_image_destroy(img);
    if (s) opj_stream_destroy(s);
    if (codec) opj_destroy_codec(codec);
    return ok;
}

int oiqa_jpeg2000_recompress(const uint8_t *src, int w, int h, double ratio, uint8_t *dst)
{
    int rc = oiqa_iqa_check_image(src, w, h, dst);
    if (rc) return rc;
    if (!(ratio >= 1 && ratio <= 10000))
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'ratio': %g is outside 1..10000", ratio);
    j2k_buf b = {0};
    if (!encode(src, w, h, ratio, &b)) {
        free(b.data);
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "JPEG 2000 encoding of a %dx%d image failed%s", w, h,
                         b.oom ? " (out of memory)" : "");
    }
    rc = decode(&b, w, h, dst) ? OIQA_OK
                               : oiqa_fail(OIQA_EXIT_DATA, NULL, "JPEG 2000 decoding of a re-encoded %dx%d image failed", w, h);
    free(b.data);
    return rc;
}
