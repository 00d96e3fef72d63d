/*
 * fuzz_key.c — the keys of text-free indexes on any bytes: the key-file rules (recite_key_read,
 * which index, check and serve use: 16 to 4096 bytes, read back unchanged, else RECITE_EINVAL
 * and one line naming the file), the text-free key derivation (rc_key_derive: refused under 16
 * bytes, deterministic, and a changed byte changes the key), and opening a text-free index with
 * the key (recite_index_open_keyed: RECITE_EKEY for any key but the index's; with the right one,
 * a check finds the planted text).
 */
#include "fuzz.h"
#include "text/rc_keyed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *key_path, *ix_dir;
static char *planted;
static size_t planted_len;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char *dir = fz_tmpdir("key");
    char *work;
    FZ_CHECK(asprintf(&key_path, "%s/key", dir) > 0 && asprintf(&ix_dir, "%s/idx", dir) > 0 &&
                 asprintf(&work, "%s/mpl.txt", dir) > 0,
             "oom");
    size_t n;
    char *mpl = fz_text("/usr/share/common-licenses/MPL-2.0", 0, 6000, &n);
    FZ_CHECK(fz_write(work, mpl, n) == 0, "cannot write %s", work);
    const char *paths[] = {work};
    fz_build(ix_dir, paths, 1, RECITE_MODE_PROSE, 1, fz_key, sizeof fz_key);
    planted_len = 400;
    planted = malloc(planted_len);
    FZ_CHECK(planted, "oom");
    memcpy(planted, mpl + 2000, planted_len);
    free(mpl);
    free(work);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The rules for a key file. */
    FZ_CHECK(fz_write(key_path, data, size) == 0, "cannot write %s", key_path);
    char *key = NULL;
    size_t len = 0;
    recite_error err = {0};
    int rrc = recite_key_read(&key, &len, key_path, &err);
    bool ok = rrc == RECITE_OK;
    FZ_CHECK(ok == (size >= 16 && size <= 4096), "a key file of %zu bytes is %s", size,
             ok ? "accepted" : "refused");
    if (ok) {
        FZ_CHECK(key && len == size && memcmp(key, data, size) == 0, "the key read back differs");
    } else {
        FZ_CHECK(!key && len == 0 && rrc == RECITE_EINVAL && err.code == RECITE_EINVAL &&
                     strncmp(err.message, key_path, strlen(key_path)) == 0 &&
                     strstr(err.message, size < 16 ? "key too short" : "key too long") &&
                     !strchr(err.message, '\n'),
                 "bad message: %d %s", rrc, err.message);
    }
    free(key);

    /* The derivation. */
    rc_key k1, k2;
    int rc = rc_key_derive(&k1, data, size);
    FZ_CHECK((rc == RECITE_OK) == (size >= RC_KEY_MIN_SECRET), "derive(%zu bytes): %d", size, rc);
    FZ_CHECK(rc_key_derive(&k2, data, size) == rc && memcmp(&k1, &k2, sizeof k1) == 0,
             "the derivation is not deterministic");
    if (rc == RECITE_OK) {
        uint8_t *flipped = malloc(size);
        FZ_CHECK(flipped, "oom");
        memcpy(flipped, data, size);
        flipped[fz_hash(data, size) % size] ^= 1;
        FZ_CHECK(rc_key_derive(&k2, flipped, size) == RECITE_OK &&
                     memcmp(k1.tok, k2.tok, sizeof k1.tok) != 0 &&
                     memcmp(k1.bytes, k2.bytes, sizeof k1.bytes) != 0 && k1.check != k2.check,
                 "a changed byte leaves the key unchanged");
        free(flipped);
    }

    /* Opening the text-free index with it. */
    recite_index *idx = NULL;
    rc = recite_index_open_keyed(&idx, ix_dir, data, size, &err);
    bool right = size == sizeof fz_key && memcmp(data, fz_key, size) == 0;
    if (!right) {
        FZ_CHECK(rc == RECITE_EKEY && !idx, "a wrong key of %zu bytes opens the index (%d)", size,
                 rc);
        fz_check_error(rc, &err, "open_keyed");
        return 0;
    }
    FZ_CHECK(rc == RECITE_OK, "the right key does not open the index: %s", err.message);
    recite_checker *c = NULL;
    const recite_result *res = NULL;
    FZ_CHECK(recite_checker_create(&c, idx, NULL, &err) == RECITE_OK, "%s", err.message);
    FZ_CHECK(recite_check_text(&res, c, planted, planted_len, &err) == RECITE_OK, "%s",
             err.message);
    FZ_CHECK(res->nmatches == 1 && res->matches[0].kind == RECITE_KIND_EXACT,
             "the planted span is not found exactly (%zu matches)", res->nmatches);
    recite_checker_free(c);
    recite_index_close(idx);
    return 0;
}

int fuzz_seeds(const char *dir)
{
    uint8_t big[4097];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 7 + 3);
    uint8_t near[sizeof fz_key];
    memcpy(near, fz_key, sizeof near);
    near[5] ^= 0x20;
    int rc = fz_seed(dir, "seed-right", fz_key, sizeof fz_key);
    rc |= fz_seed(dir, "seed-one-bit-off", near, sizeof near);
    rc |= fz_seed(dir, "seed-15", fz_key, 15);
    rc |= fz_seed(dir, "seed-16", fz_key, 16);
    rc |= fz_seed(dir, "seed-empty", "", 0);
    rc |= fz_seed(dir, "seed-4096", big, 4096);
    rc |= fz_seed(dir, "seed-4097", big, 4097);
    rc |= fz_seed(dir, "seed-newline", "0123456789abcdef0123456789abcdef\n", 33);
    return rc;
}
