/* SPDX-License-Identifier: Apache-2.0 */
/*
 * igwt: the project's small unit-test harness (in the spirit of acutest and nng's nuts.h).
 *
 *   static void test_x(void) { IGWT_CHECK(1 + 1 == 2); IGWT_OK(igw_f()); }
 *   IGWT_MAIN({"x", test_x}, {"y", test_y})
 *
 * Checks record a failure and continue; IGWT_ASSERT stops the current case. IGWT_SKIP("why")
 * ends the current case as skipped: for a case that cannot run on this machine (a missing tool
 * or fixture), never to hide a failure; checks that already failed still count. The runner
 * prints one line per case and closes with "N passed, N failed, N skipped". Exit status: 1 when
 * any case failed (or none ran), else IGWT_SKIP_CODE (77, ctest's SKIP_RETURN_CODE) when any
 * case was skipped, else 0. Run one case: ./t name.
 */
#ifndef IGWT_H
#define IGWT_H

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "igw/arena.h"
#include "igw/err.h"

struct igwt_case {
    const char *name;
    void (*fn)(void);
};

#define IGWT_SKIP_CODE 77 /* exit status ctest reports as "Skipped" (SKIP_RETURN_CODE) */

/* A test whose cases are spread over several files (a shared suite such as the queue contract):
 * the other files define IGWT_PART before including igwt.h, so every check counts in the one
 * runner of the file that has main(). */
#ifdef IGWT_PART
extern int igwt_failures_;
extern int igwt_skipped_;
extern char igwt_skip_why_[256];
extern jmp_buf igwt_jmp_;
#else
int igwt_failures_;
int igwt_skipped_;
char igwt_skip_why_[256];
jmp_buf igwt_jmp_;
#endif

/* Ends the current case as skipped; reason is printed on the runner's line. */
#define IGWT_SKIP(reason)                                                                          \
    do {                                                                                           \
        snprintf(igwt_skip_why_, sizeof(igwt_skip_why_), "%s", (reason));                          \
        igwt_skipped_ = 1;                                                                         \
        longjmp(igwt_jmp_, 1);                                                                     \
    } while (0)

#define IGWT_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "  %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);             \
            igwt_failures_++;                                                                      \
        }                                                                                          \
    } while (0)

#define IGWT_ASSERT(cond)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "  %s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond);         \
            igwt_failures_++;                                                                      \
            longjmp(igwt_jmp_, 1);                                                                 \
        }                                                                                          \
    } while (0)

#define IGWT_ERR(expr, want)                                                                       \
    do {                                                                                           \
        int igwt_rv_ = (expr);                                                                     \
        if (igwt_rv_ != (want)) {                                                                  \
            fprintf(stderr, "  %s:%d: %s returned %d (%s), want %d (%s)\n", __FILE__, __LINE__,    \
                    #expr, igwt_rv_, igw_strerror(igwt_rv_), (int)(want), igw_strerror(want));     \
            igwt_failures_++;                                                                      \
            longjmp(igwt_jmp_, 1);                                                                 \
        }                                                                                          \
    } while (0)

#define IGWT_OK(expr) IGWT_ERR(expr, IGW_OK)

#define IGWT_STREQ(a, b)                                                                           \
    do {                                                                                           \
        const char *igwt_a_ = (a);                                                                 \
        const char *igwt_b_ = (b);                                                                 \
        if (igwt_a_ == NULL || igwt_b_ == NULL || strcmp(igwt_a_, igwt_b_) != 0) {                 \
            fprintf(stderr, "  %s:%d: %s == \"%s\", want \"%s\"\n", __FILE__, __LINE__, #a,        \
                    igwt_a_ ? igwt_a_ : "(null)", igwt_b_ ? igwt_b_ : "(null)");                   \
            igwt_failures_++;                                                                      \
        }                                                                                          \
    } while (0)

static inline int
igwt_run_one(void (*fn)(void))
{
    igwt_failures_ = 0;
    igwt_skipped_ = 0;
    igwt_skip_why_[0] = '\0';
    if (setjmp(igwt_jmp_) == 0) {
        fn();
    }
    return igwt_failures_;
}

static inline int
igwt_run(const struct igwt_case *cases, int argc, char **argv)
{
    int passed = 0;
    int failed = 0;
    int skipped = 0;
    for (const struct igwt_case *c = cases; c->name != NULL; c++) {
        if (argc > 1 && strcmp(argv[1], c->name) != 0) {
            continue;
        }
        int nfail = igwt_run_one(c->fn);
        if (nfail == 0 && igwt_skipped_) {
            printf("SKIP %s: %s\n", c->name, igwt_skip_why_);
            skipped++;
        } else if (nfail == 0) {
            printf("ok   %s\n", c->name);
            passed++;
        } else {
            printf("FAIL %s\n", c->name);
            failed++;
        }
        fflush(stdout);
    }
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    if (failed > 0 || passed + skipped == 0) {
        return 1;
    }
    return skipped > 0 ? IGWT_SKIP_CODE : 0;
}

/* ---- arenas ------------------------------------------------------------------------------ */

/** A new arena of at most limit bytes (0: no limit), checked with IGWT_OK. The caller owns the
 *  result (igw_arena_free); it is NULL when the arena could not be made. */
static inline igw_arena *
igwt_arena_new(size_t limit)
{
    igw_arena *a = NULL;
    IGWT_OK(igw_arena_new(&a, limit));
    return a;
}

static inline igw_arena **
igwt_file_arena_slot_(void)
{
    static igw_arena *a; /* one per test file: the function is static */
    return &a;
}

static inline void
igwt_file_arena_free_(void)
{
    igw_arena **a = igwt_file_arena_slot_();
    igw_arena_free(*a);
    *a = NULL;
}

/** The test file's one arena, reset to empty. The first call makes it with at most limit bytes
 *  (checked with IGWT_OK; later calls ignore limit) and has it freed at exit, so every case
 *  runs alone or in any order. The file keeps it (never free it); what was allocated from it
 *  is valid until the next call. */
static inline igw_arena *
igwt_file_arena(size_t limit)
{
    igw_arena **a = igwt_file_arena_slot_();
    if (*a == NULL) {
        IGWT_OK(igw_arena_new(a, limit));
        atexit(igwt_file_arena_free_);
    }
    igw_arena_reset(*a);
    return *a;
}

#define IGWT_MAIN(...)                                                                             \
    int main(int argc, char **argv)                                                                \
    {                                                                                              \
        static const struct igwt_case cases[] = {__VA_ARGS__, {NULL, NULL}};                       \
        return igwt_run(cases, argc, argv);                                                        \
    }

#endif /* IGWT_H */
