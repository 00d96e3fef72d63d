/*
 * fuzz.h — what the fuzz harnesses (fuzz/fuzz_*.c) share: invariant checks that abort, temporary
 * directories removed at exit, files, a seeded PRNG, the texts Debian ships that libraries and
 * queries are made of, and small index builds. Each harness defines the libFuzzer entry points
 * and fuzz_seeds() (its seed corpus, written at run time); replay.c is the main() of the
 * builds without libFuzzer that `make test` runs over the seeds and fuzz/regress/<harness>/.
 */
#ifndef RECITE_FUZZ_H
#define RECITE_FUZZ_H

#include "recite.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ==== the harness interface ==== */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Writes the harness's seed corpus into dir (created); 0 on success. */
int fuzz_seeds(const char *dir);

/* ==== checks ==== */

void fz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 4, 5)));

/* An invariant of the code under test: prints the condition and a message and aborts (the
 * fuzzer records the input as a crash). */
#define FZ_CHECK(cond, ...)                                                                        \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);                                       \
    } while (0)

/* A failed call's error: a known status and a one-line, non-empty message. */
void fz_check_error(int rc, const recite_error *err, const char *what);

/* ==== files and directories ==== */

/* A new directory under /dev/shm (else $TMPDIR or /tmp), removed with its contents at exit. */
char *fz_tmpdir(const char *tag);
void fz_rm_rf(const char *path);
int fz_write(const char *path, const void *data, size_t len);
/* The whole file in a malloc'd buffer (NUL-terminated), or NULL. */
uint8_t *fz_read(const char *path, size_t *len);
/* dir/name := data[0, len), creating dir; 0 on success. */
int fz_seed(const char *dir, const char *name, const void *data, size_t len);

/* ==== PRNG (splitmix64) ==== */

typedef struct fz_rng {
    uint64_t s;
} fz_rng;

uint64_t fz_next(fz_rng *r);
static inline uint64_t fz_below(fz_rng *r, uint64_t n)
{
    return n ? fz_next(r) % n : 0;
}
uint64_t fz_hash(const void *data, size_t len);

/* ==== texts Debian ships (no third-party text is committed) ==== */

/* Bytes [from, from + max) of `path` (clipped), malloc'd and NUL-terminated; aborts when the
 * file is missing (the fixtures depend on it). */
char *fz_text(const char *path, size_t from, size_t max, size_t *len);

/* ==== indexes ==== */

/* Builds an index of `paths` at dir (deterministic: one job, fixed time stamp). mode: a
 * recite_mode; key may be NULL (an ordinary index). Aborts on failure. */
void fz_build(const char *dir, const char *const *paths, size_t n, recite_mode mode, int skip_cmi,
              const void *key, size_t key_len);

/* The key of the text-free indexes the harnesses build. */
extern const uint8_t fz_key[32];

#endif /* RECITE_FUZZ_H */
