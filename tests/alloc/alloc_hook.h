/*
 * alloc_hook.h — the allocation hook of the allocation-failure test (test_alloc.c): counts the
 * allocations the library makes and fails the n-th (and, persistently, every one after it).
 * Test-only: the library knows nothing of it; the linker routes the library's calls here
 * (alloc_hook.c says which), so release builds carry no hook and no global state for it.
 */
#ifndef ALLOC_HOOK_H
#define ALLOC_HOOK_H

#include <stdbool.h>
#include <stddef.h>

/* Whose allocations count: those of the thread that armed the hook (the caller of the API), or
 * those of every other thread (the builder's workers). The two are counted apart so that the
 * n-th allocation of each is the same one from run to run, however the threads interleave. */
typedef enum { AH_CALLER = 0, AH_OTHERS = 1 } ah_class;

/* Installs jansson's and SQLite's allocators (before anything uses them). */
void ah_init(void);

/* Starts counting from zero; when fail_at > 0, the fail_at-th allocation of class `cls` fails,
 * and with `persistent` every one after it as well. */
void ah_arm(long fail_at, ah_class cls, bool persistent);

/* Stops counting and failing (frees are still tracked). */
void ah_disarm(void);

/* Allocations counted in class `cls` since ah_arm; how many were failed. */
long ah_count(ah_class cls);
long ah_injected(void);

/* Blocks allocated while armed and not freed yet; ah_live_first gives the sequence number (in
 * its class, 1-based) and the function of the oldest of them, for the report of a leak. */
size_t ah_live(void);
void ah_live_first(long *seq, int *cls, const char **fn);

/* Forgets the blocks still tracked (after a leak was reported). */
void ah_live_clear(void);

#endif /* ALLOC_HOOK_H */
