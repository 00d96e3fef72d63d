/*
 * replay.c — main() of a fuzz harness built without libFuzzer (gcc or clang, any sanitizer):
 *   fuzz_X --seeds DIR        writes the harness's seed corpus into DIR
 *   fuzz_X FILE|DIR...        runs the harness once on each file (directories: their files, in
 *                             name order); a failed invariant or a sanitizer report aborts
 * `make test` replays the seeds and fuzz/regress/<harness>/ this way in every tier.
 */
#include "fuzz.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static size_t replayed;

static void replay_file(const char *path)
{
    size_t n;
    uint8_t *data = fz_read(path, &n);
    FZ_CHECK(data, "cannot read %s", path);
    /* An exact-size copy, so that a read past the input is caught by the sanitizers. */
    uint8_t *copy = malloc(n ? n : 1);
    FZ_CHECK(copy, "out of memory");
    memcpy(copy, data, n);
    free(data);
    LLVMFuzzerTestOneInput(copy, n);
    free(copy);
    replayed++;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void replay_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "%s: no such file or directory (nothing replayed)\n", path);
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        replay_file(path);
        return;
    }
    DIR *d = opendir(path);
    FZ_CHECK(d, "cannot open %s", path);
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            names = realloc(names, cap * sizeof *names);
            FZ_CHECK(names, "out of memory");
        }
        FZ_CHECK(asprintf(&names[n], "%s/%s", path, e->d_name) > 0, "out of memory");
        n++;
    }
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof *names, cmp_names);
    for (size_t i = 0; i < n; i++) {
        struct stat fs;
        if (stat(names[i], &fs) == 0 && S_ISREG(fs.st_mode))
            replay_file(names[i]);
        free(names[i]);
    }
    free(names);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--seeds") == 0)
        return fuzz_seeds(argv[2]) == 0 ? 0 : 1;
    if (argc < 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: %s --seeds DIR | %s FILE|DIR...\n", argv[0], argv[0]);
        return 2;
    }
    LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++)
        replay_path(argv[i]);
    printf("%s: %zu inputs replayed\n", argv[0], replayed);
    return 0;
}
