/*
 * test_alloc.h — shared by the allocation-failure test's harness (test_alloc.c) and its
 * operations (alloc_ops.c): the fixture (a small library, its index and catalogue, license texts
 * and a policy in a temporary directory), the operations' table and the checks they use.
 */
#ifndef TEST_ALLOC_H
#define TEST_ALLOC_H

#include "alloc_hook.h"

#include <recite.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ==== fixture ==== */

typedef struct fixture {
    char *root;      /* a temporary directory holding everything below */
    char *debian;    /* two of Debian's license texts (BSD, Artistic) */
    char *spdx;      /* a small SPDX list written by the test */
    char *cache;     /* license index cache, filled before the tests */
    char *cache2;    /* a license cache emptied before each run (a cache miss) */
    char *tmp;       /* tmp_dir of license checkers: must stay empty */
    char *lib;       /* the works */
    char *jsonl;     /* works with metadata and training runs */
    char *lib2;      /* the works of the previous index at `target` */
    char *idx;       /* the index of lib and jsonl, with its catalogue */
    char *target;    /* where the build operation builds, over a previous index */
    char *saved;     /* a copy of that previous index (and its catalogue) */
    char *catdir;    /* an index directory whose catalogue the catalogue operations change */
    char *catsaved;  /* a copy of that catalogue (it records a deletion) */
    char *tfidx;     /* a text-free index of lib, with the key below */
    char *tfkey;     /* the file of that key */
    char *compacted; /* the index compacted without tale/two (the compact operation's result) */
    char *policy;    /* a policy file */
    char *output;    /* the text checked */
    size_t output_len;
    recite_index *index;         /* idx, opened */
    const recite_result *result; /* of the output, by `checker` */
    recite_checker *checker;
    recite_policy *pol;
} fixture;

extern fixture fx;

/* The key of the text-free index. */
extern const char ta_key[];
#define TA_KEY_LEN 32

void ta_fixture_make(void);
void ta_fixture_free(void);
/* The build options of every index of the test (one job, a fixed time stamp, the fixture's
 * license texts and cache), and the policy's text (malloc'd). */
recite_build_options ta_build_options(void);
char *ta_policy_text(void);

/* ==== operations ==== */

typedef struct op {
    const char *name;
    bool threads; /* allocates on other threads too (the builder's workers) */
    /* Before the first run (disarmed): the baseline, what every run that succeeds must give. */
    void (*baseline)(void);
    /* Before each run (disarmed): the state the operation starts from. May be NULL. */
    void (*setup)(void);
    /* The operation, with the hook armed. It calls ah_disarm() once the API calls are done,
     * then compares what they gave with the baseline (when they succeeded) and frees it all. */
    int (*run)(recite_error *err);
    /* After each run (disarmed): what the operation left on disk. May be NULL. */
    void (*after)(int rc);
} op;

extern const op alloc_ops[];
extern const size_t alloc_nops;

/* ==== checks ==== */

/* The run being made, for messages: operation, class, mode and n. */
void ta_where(char *buf, size_t cap);

/* Fails the test (exit status 1) with the run's coordinates. */
void ta_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));

#define TA_CHECK(cond, ...)                                                                        \
    do {                                                                                           \
        if (!(cond))                                                                               \
            ta_fail(__FILE__, __LINE__, __VA_ARGS__);                                              \
    } while (0)

/* ==== files ==== */

char *ta_join(const char *a, const char *b);
char *ta_read(const char *path, size_t *len); /* NULL when it cannot be read */
void ta_write(const char *path, const void *data, size_t len);
void ta_copy(const char *from, const char *to);
void ta_rm_rf(const char *path);
/* Copies the directory `from` (files only, one level of subdirectories) to `to`. */
void ta_copy_dir(const char *from, const char *to);
/* Whether two files (or two directories, file by file) have the same bytes; *why says what
 * differs. */
bool ta_same_tree(const char *a, const char *b, char *why, size_t cap);
/* The names in a directory, sorted, joined with '\n' (malloc'd). */
char *ta_list_dir(const char *dir);

#endif /* TEST_ALLOC_H */
