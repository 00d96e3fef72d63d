/*
 * ingest_replay.c — main() of the ingest fuzz harnesses without libFuzzer (any compiler, any
 * sanitizer), which `make test` runs (tests/fuzz_ingest.sh):
 *   fuzz_X --seeds DIR           writes the harness's seeds into DIR
 *   fuzz_X [-m N] FILE...        runs the harness on each file and on N deterministic
 *                                mutations of it (truncations, flipped and overwritten bytes,
 *                                a duplicated range); a failed invariant or a sanitizer report
 *                                aborts
 * With clang, the same harness files link with -fsanitize=fuzzer instead (see fuzz/README.md).
 */
#include "ingest_fuzz.h"

#include <errno.h>
#include <sys/stat.h>

static uint64_t next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void run_copy(const uint8_t *data, size_t n)
{
    uint8_t *copy = malloc(n ? n : 1); /* exact size: a read past it is a sanitizer report */
    IF_CHECK(copy, "out of memory");
    memcpy(copy, data, n);
    LLVMFuzzerTestOneInput(copy, n);
    free(copy);
}

static void mutate_and_run(const uint8_t *data, size_t n, unsigned count, uint64_t seed)
{
    uint8_t *m = malloc(2 * n + 16);
    IF_CHECK(m, "out of memory");
    for (unsigned i = 0; i < count; i++) {
        memcpy(m, data, n);
        size_t len = n;
        switch (next(&seed) % 4) {
        case 0: len = n ? (size_t)(next(&seed) % n) : 0; break; /* truncated */
        case 1:                                                 /* bits flipped */
            for (unsigned k = 0; k < 1 + next(&seed) % 8 && n; k++)
                m[next(&seed) % n] ^= (uint8_t)(1u << (next(&seed) % 8));
            break;
        case 2: /* bytes overwritten with boundary values */
            for (unsigned k = 0; k < 1 + next(&seed) % 4 && n; k++) {
                static const uint8_t v[] = {0, 0xff, 0x7f, 0x80, '<', '>', '/', '%', '0'};
                m[next(&seed) % n] = v[next(&seed) % sizeof v];
            }
            break;
        default: /* a range duplicated */
            if (n) {
                size_t a = (size_t)(next(&seed) % n), k = (size_t)(next(&seed) % (n - a)) + 1;
                k = k > 16 + n / 4 ? 16 + n / 4 : k;
                memmove(m + a + k, m + a, n - a);
                len = n + k;
            }
        }
        run_copy(m, len);
    }
    free(m);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--seeds") == 0) {
        if (mkdir(argv[2], 0755) != 0 && errno != EEXIST) {
            perror(argv[2]);
            return 2;
        }
        return fuzz_seeds(argv[2]) == 0 ? 0 : 2;
    }
    unsigned mutations = 0;
    int i = 1;
    if (argc > 2 && strcmp(argv[1], "-m") == 0) {
        mutations = (unsigned)strtoul(argv[2], NULL, 10);
        i = 3;
    }
    size_t files = 0;
    for (; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            perror(argv[i]);
            return 2;
        }
        uint8_t *data = NULL;
        size_t n = 0, cap = 0;
        for (;;) {
            if (n == cap) {
                cap = cap ? 2 * cap : 65536;
                data = realloc(data, cap);
                IF_CHECK(data, "out of memory");
            }
            size_t got = fread(data + n, 1, cap - n, f);
            if (got == 0)
                break;
            n += got;
        }
        fclose(f);
        run_copy(data, n);
        uint64_t seed = 0x1234567;
        for (size_t k = 0; k < n; k++)
            seed = seed * 31 + data[k];
        mutate_and_run(data, n, mutations, seed);
        free(data);
        files++;
    }
    printf("%s: %zu inputs, %u mutations each: no invariant failed\n", argv[0], files, mutations);
    return 0;
}
