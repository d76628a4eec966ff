/* SHA-256 against the FIPS 180-4 / NIST example vectors, padding edge cases
 * and updates split at awkward places. */
#include "check.h"
#include "base/error.h"
#include "base/sha256.h"

#include <stdint.h>
#include <unistd.h>

/* CHECK_STR on a char array trips -Waddress; compare through a pointer. */
#define CHECK_HEX(hex, want) CHECK_MSG(!strcmp((hex), (want)), "got %s, expected %s", (hex), (want))

static void hex_of_updates(const uint8_t *data, size_t n, const size_t *pieces, int n_pieces, char hex[65])
{
    oiqa_sha256 s;
    uint8_t d[32];
    oiqa_sha256_init(&s);
    size_t off = 0;
    for (int i = 0; i < n_pieces && off < n; i++) {
        size_t take = pieces[i] < n - off ? pieces[i] : n - off;
        oiqa_sha256_update(&s, data + off, take);
        off += take;
    }
    oiqa_sha256_update(&s, data + off, n - off);
    oiqa_sha256_final(&s, d);
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

/* Deterministic test bytes (i*7+3 mod 256). */
static void pattern(uint8_t *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)(i * 7 + 3);
}

static void t_nist_vectors(void)
{
    char hex[65];
    oiqa_sha256_hex("", 0, hex);
    CHECK_HEX(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    oiqa_sha256_hex("abc", 3, hex);
    CHECK_HEX(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    oiqa_sha256_hex(m448, strlen(m448), hex);
    CHECK_HEX(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void t_million_a(void)
{
    /* In 1000 updates of 1000 bytes, and in one. */
    static uint8_t a[1000000];
    memset(a, 'a', sizeof a);
    oiqa_sha256 s;
    uint8_t d[32];
    char hex[65];
    oiqa_sha256_init(&s);
    for (int i = 0; i < 1000; i++) oiqa_sha256_update(&s, a + 1000 * i, 1000);
    oiqa_sha256_final(&s, d);
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", d[i]);
    CHECK_HEX(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    oiqa_sha256_hex(a, sizeof a, hex);
    CHECK_HEX(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* Lengths around the padding boundary: 55 bytes fit one block with the
 * length, 56..63 need a second block. Digests from an independent SHA-256. */
static void t_padding_boundaries(void)
{
    static const struct { size_t n; const char *hex; } cases[] = {
        {55, "e7313d333c272e639f790978283f9eb392e843d0f29b7016828bb1daa4aac70b"},
        {56, "4324d65f3c103567f5589c710bc08f8523f929a9272e3af36fc968e52abc6c27"},
        {63, "81c80242132f230c3bd41b3e63bbcff16107339549214a99614ff26664625055"},
        {64, "39e3d7b6b5d075d37d053ad89b24b41bef4f3c29760c84447cab3f3be1882241"},
        {65, "aacca6ff74fdbb296d165a45cecfa04e5127bc008770fbbdd48006f2d2fae95e"},
        {119, "9ce7368e4daf32341631b492e80359dc9f594b48453cd0dd5bf0b19279cc177e"},
        {120, "7836b787757e95e58b3ca5aec90b1b004e8deba1e50e9675af9cabf1a13a04b5"},
    };
    uint8_t buf[128];
    pattern(buf, sizeof buf);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char hex[65];
        oiqa_sha256_hex(buf, cases[i].n, hex);
        CHECK_MSG(!strcmp(hex, cases[i].hex), "length %zu: %s", cases[i].n, hex);
    }
}

static void t_split_updates(void)
{
    const char *want = "1e9bc38cbf860b9ec31918b065f9b52476c549a782e0e7990bed8ce3868d2371";
    uint8_t buf[1000];
    pattern(buf, sizeof buf);
    static const size_t firsts[] = {0, 1, 55, 56, 63, 64, 65, 127, 128, 999, 1000};
    for (size_t i = 0; i < sizeof firsts / sizeof firsts[0]; i++) {
        char hex[65];
        size_t pieces[1] = {firsts[i]};
        hex_of_updates(buf, sizeof buf, pieces, 1, hex);
        CHECK_MSG(!strcmp(hex, want), "first piece %zu: %s", firsts[i], hex);
    }
    /* Repeated odd pieces that land everywhere within a block. */
    static const size_t steps[] = {1, 3, 55, 56, 63, 64, 65};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        size_t pieces[1000];
        for (int k = 0; k < 1000; k++) pieces[k] = steps[i];
        char hex[65];
        hex_of_updates(buf, sizeof buf, pieces, 1000, hex);
        CHECK_MSG(!strcmp(hex, want), "pieces of %zu: %s", steps[i], hex);
    }
}

static void t_file(void)
{
    char path[] = "/tmp/oiqa_test_sha256_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0) return;
    CHECK(write(fd, "abc", 3) == 3);
    close(fd);
    char hex[65];
    CHECK(oiqa_sha256_file(path, hex) == OIQA_OK);
    CHECK_HEX(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    unlink(path);
    CHECK(oiqa_sha256_file(path, hex) == OIQA_EXIT_DATA);
    char want[256];
    snprintf(want, sizeof want, "%s: no such file", path);
    CHECK_HEX(oiqa_errmsg(), want);
    CHECK(oiqa_sha256_file("/tmp", hex) == OIQA_EXIT_DATA);
    CHECK_STR(oiqa_errmsg(), "/tmp: is a directory");
}

int main(void)
{
    RUN(t_nist_vectors);
    RUN(t_million_a);
    RUN(t_padding_boundaries);
    RUN(t_split_updates);
    RUN(t_file);
    return check_done();
}
