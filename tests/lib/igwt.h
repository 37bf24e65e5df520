/* SPDX-License-Identifier: Apache-2.0 */
/*
 * igwt: the project's small unit-test harness (in the spirit of acutest and nng's nuts.h).
 *
 *   static void test_x(void) { IGWT_CHECK(1 + 1 == 2); IGWT_OK(igw_f()); }
 *   IGWT_MAIN({"x", test_x}, {"y", test_y})
 *
 * Checks record a failure and continue; IGWT_ASSERT stops the current case. The runner prints
 * one line per case and closes with "N passed, N failed". Run one case: ./t name.
 */
#ifndef IGWT_H
#define IGWT_H

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "igw/err.h"

struct igwt_case {
    const char *name;
    void (*fn)(void);
};

static int igwt_failures_;
static jmp_buf igwt_jmp_;

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
    for (const struct igwt_case *c = cases; c->name != NULL; c++) {
        if (argc > 1 && strcmp(argv[1], c->name) != 0) {
            continue;
        }
        if (igwt_run_one(c->fn) == 0) {
            printf("ok   %s\n", c->name);
            passed++;
        } else {
            printf("FAIL %s\n", c->name);
            failed++;
        }
        fflush(stdout);
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}

#define IGWT_MAIN(...)                                                                             \
    int main(int argc, char **argv)                                                                \
    {                                                                                              \
        static const struct igwt_case cases[] = {__VA_ARGS__, {NULL, NULL}};                       \
        return igwt_run(cases, argc, argv);                                                        \
    }

#endif /* IGWT_H */
