/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals of the mapping engine: tokens, the compiled plan (expression closures and statement
 * lists), values and the evaluation context. The plan of a map lives in the map's own arena and
 * is immutable after compilation.
 */
#ifndef IGW_MAP_INT_H
#define IGW_MAP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "igw/arena.h"
#include "igw/doc.h"
#include "igw/map.h"
#include "igw/maptable.h"

#define MAP_MAX_ARGS 8
#define MAP_MAX_NEST 64    /* syntactic nesting at compile time */
#define MAP_HARD_DEPTH 256 /* cap on the run-time depth limit (C stack) */

/* Small math helpers so the translators library needs no libm. */
static inline double
map_fabs(double d)
{
    return d < 0 ? -d : d;
}

static inline double
map_floor(double d)
{
    if (!(map_fabs(d) < 4503599627370496.0)) { /* 2^52: already integral, or NaN */
        return d;
    }
    double t = (double)(int64_t)d;
    return t > d ? t - 1 : t;
}

static inline double
map_round(double d)
{
    return d < 0 ? -map_floor(-d + 0.5) : map_floor(d + 0.5);
}

static inline double
map_fmod(double x, double y)
{
    double q = x / y;
    double t = q < 0 ? -map_floor(-q) : map_floor(q);
    return x - t * y;
}

/* ---- tokens ------------------------------------------------------------------------------ */
enum tok {
    TK_EOF = 0,
    TK_NL,
    TK_IDENT, /* identifier or backtick key */
    TK_NAME,  /* map name after `map` / `call` */
    TK_STRING,
    TK_NUMBER,
    TK_AT,       /* @name: text is the name */
    TK_HASHTEXT, /* #text */
    TK_DOLLAR,   /* $ or $name: text is the name (empty for $) */
    TK_DOT,
    TK_LBRACK,
    TK_RBRACK,
    TK_LPAREN,
    TK_RPAREN,
    TK_LBRACE,
    TK_RBRACE,
    TK_COMMA,
    TK_SEMI,
    TK_ASSIGN,
    TK_EQ,
    TK_NE,
    TK_LT,
    TK_LE,
    TK_GT,
    TK_GE,
    TK_PLUS,
    TK_MINUS,
    TK_STAR,
    TK_SLASH,
    TK_PERCENT,
    TK_QQ,
    TK_ERROR
};

struct token {
    uint8_t kind;
    bool quoted; /* backtick identifier (never a keyword) */
    unsigned line;
    unsigned col;
    const char *text; /* NUL-terminated, in the compile arena (unescaped for strings) */
    uint32_t len;
};

/* Tokenises text into *toks (compile arena). IGW_OK or IGW_EPARSE with errbuf set. */
int map_lex(igw_arena *a, const char *file, const char *text, size_t len, struct token **toks,
            size_t *ntoks, char *errbuf, size_t errlen);

/* ---- values ------------------------------------------------------------------------------ */
enum vkind { V_NONE = 0, V_NULL, V_BOOL, V_NUM, V_STR, V_NODE, V_LIST };

struct val {
    uint8_t kind;
    bool b;
    bool fresh;    /* V_NODE built by this evaluation: may be linked without copying */
    uint32_t len;  /* V_STR length; V_LIST count; V_NUM raw text length (0: none) */
    const char *s; /* V_STR text, V_NUM raw text or NULL */
    double n;
    const struct igw_node *node; /* V_NODE (object or array) */
    struct val *items;           /* V_LIST */
};

/* ---- plan -------------------------------------------------------------------------------- */
struct ev;
struct xnode;
typedef int (*xeval_fn)(struct ev *ev, const struct xnode *x, struct val *out);

/* static types of expressions */
enum xtype { T_ANY = 0, T_STR, T_NUM, T_BOOL, T_NULL, T_LIST, T_NODE };

enum xkind {
    X_CONST = 1,
    X_PATH,
    X_CALL, /* library function */
    X_BIN,  /* arithmetic / comparison / logic */
    X_NOT,
    X_NEG,
    X_DEFAULT, /* a ?? b */
    X_SUBMAP,
    X_IIF,
};

enum binop {
    B_ADD = 1,
    B_SUB,
    B_MUL,
    B_DIV,
    B_MOD,
    B_EQ,
    B_NE,
    B_LT,
    B_LE,
    B_GT,
    B_GE,
    B_AND,
    B_OR
};

/* source path step */
struct sstep {
    const char *key; /* NULL for `$` steps */
    uint32_t len;
    bool attr; /* @key */
    bool text; /* #text */
    bool has_index;
    int32_t index; /* negative counts from the end */
};

enum pbase { P_CONTEXT = 0, P_ROOT, P_VAR };

struct spath {
    uint8_t base; /* enum pbase */
    int slot;     /* P_VAR */
    unsigned n;
    struct sstep *steps;
};

struct mfunc;

struct xnode {
    xeval_fn eval;
    uint8_t kind; /* enum xkind */
    uint8_t type; /* enum xtype (static) */
    uint8_t op;   /* enum binop */
    unsigned line;
    unsigned col;
    struct val k;           /* X_CONST */
    struct spath path;      /* X_PATH */
    const struct mfunc *fn; /* X_CALL */
    struct xnode **args;
    unsigned nargs;
    struct xnode *a; /* operands */
    struct xnode *b;
    struct xnode *c;
    void *aux; /* bound regex / table / date patterns / callee map */
    const char *name;
    uint32_t memo; /* X_PATH: 1-based slot shared by equal source paths (map.c), 0: none */
};

/* library function binding */
struct cctx;
typedef int (*mfunc_call)(struct ev *ev, const struct xnode *x, struct val *args, struct val *out);
typedef int (*mfunc_check)(struct cctx *c, struct xnode *x);
struct mfunc {
    const char *name;
    uint8_t min_args;
    uint8_t max_args;
    uint8_t ret;                   /* enum xtype */
    uint8_t argtype[MAP_MAX_ARGS]; /* T_ANY, T_STR or T_NUM: constant args are checked */
    mfunc_call call;
    mfunc_check check; /* binds constant arguments at load; may be NULL */
};
const struct mfunc *map_func_find(const char *name, size_t len);
extern const struct mfunc map_funcs_str[];
extern const struct mfunc map_funcs_date[];
extern const struct mfunc map_funcs_misc[];

/* target path step */
enum tmode { TM_KEY = 0, TM_INDEX, TM_APPEND, TM_LAST, TM_SLICE };
struct tstep {
    const char *key; /* interned in the map */
    uint32_t len;
    uint8_t mode;
    bool attr;
    uint32_t index;
    /* TM_SLICE, `key[a.b = const]`: the element whose value at the discriminator path sel
     * (TM_KEY / TM_INDEX steps) equals *selv; created with that value when none does */
    uint32_t nsel;
    const struct tstep *sel;
    const struct val *selv;
};
struct tpath {
    unsigned n;
    struct tstep *steps;
};

enum skind { S_ASSIGN = 1, S_BLOCK, S_WHEN, S_IF, S_FOR, S_LET };

struct stmt {
    uint8_t kind;
    unsigned line;
    unsigned col;
    const char *label; /* full target path as written (with enclosing blocks) */
    struct tpath target;
    struct xnode *expr; /* value, condition or iterable */
    struct stmt *body;
    struct stmt *els;
    struct stmt *next;
    int slot;    /* S_LET / S_FOR variable */
    bool oneway; /* `oneway <rule>`: runs forward only, skipped in reverse */
    bool invertible;
    const char *why; /* reason when not invertible */
};

struct map_table {
    const char *name;
    igw_table *t;
    unsigned line;
    unsigned col;
    bool used;
    struct map_table *next;
};

struct map_regex; /* funcs_str.c */

struct igw_map {
    char *name;
    char *file;
    igw_arena *plan; /* everything below lives here */
    enum igw_format in_fmt;
    enum igw_format out_fmt;
    struct stmt *body;
    unsigned nslots;
    bool compiled;
    bool invertible;
    struct map_table *tables;
    struct map_regex *regexes; /* freed with the map */
    struct scope_var *unused;  /* variables never read (lint) */
    const struct igw_map_set *set;
    struct igw_map_set *pending; /* during set loading */
    unsigned nmemo;              /* memo slots of the source paths (map_plan_scan) */
    bool scanned;                /* map_plan_scan ran: the fields below are known */
    bool no_clock;               /* neither now() nor a sub-map call: no clock per message */
};

struct igw_map_set {
    igw_map **maps;
    size_t n;
};

/* ---- compile context --------------------------------------------------------------------- */
struct scope_var {
    const char *name;
    int slot;
    bool is_loop;
    bool used;
    struct xnode *konst; /* let bound to a constant: the constant */
    unsigned line;
    unsigned col;
    struct scope_var *next;
    struct scope_var *next_unused;
};

struct istr {
    const char *s;
    uint32_t len;
    struct istr *next;
};

struct schema_path {
    const char *path;
    bool required;
    bool seen;
    unsigned line;
    struct schema_path *next;
};

struct cctx {
    igw_map *m;
    struct istr *interned;
    struct schema_path *schema;
    const char *schema_file;
    unsigned schema_line;
    unsigned schema_col;
    char tprefix[1024]; /* schema form of the enclosing block's target path */
    igw_arena *a;
    const char *file;
    const char *base_dir;
    struct token *t;
    size_t nt;
    size_t pos;
    unsigned nest;
    const char *rule; /* current rule label for messages */
    struct scope_var *vars;
    char *errbuf;
    size_t errlen;
    int err;
};

int map_fail(struct cctx *c, int err, unsigned line, unsigned col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
const char *map_intern(struct cctx *c, const char *s, size_t len);
/* expression parser/compiler (parse_expr.c) */
int map_parse_expr(struct cctx *c, struct xnode **out);
struct xnode *map_xnode(struct cctx *c, uint8_t kind, const struct token *t);
bool map_tok_is(const struct token *t, const char *word);
/* statements (parse.c) */
int map_compile_text(igw_map *m, const char *text, size_t len, const char *base_dir, char *errbuf,
                     size_t errlen);
int map_scan_name(const char *text, size_t len, char *name, size_t cap);
/* schema (schema.c) */
int map_schema_load(struct cctx *c, const struct token *t);
int map_schema_check(struct cctx *c, const char *path, unsigned line, unsigned col);
int map_schema_finish(struct cctx *c);
int map_read_file(const char *path, char **text, size_t *len);
/* tables: `lookup` binding (funcs_misc.c) */
struct map_table *map_table_find(struct cctx *c, const char *name);
/* invertibility (reverse.c) */
void map_mark_invertible(igw_map *m);

/* ---- evaluation -------------------------------------------------------------------------- */
struct rev_counter;

/* at most this many distinct source paths get a memo slot */
#define MAP_MEMO_MAX 64

/* The value of one source path read from the message's root (at most one match), kept for the
 * rest of the message: the input tree is never written while a map runs. */
struct path_memo {
    const struct igw_node *start; /* NULL: not read yet */
    struct val v;
};

struct ev {
    const igw_map *m;
    igw_arena *a;
    const struct igw_node *root;
    const struct igw_node *ctx; /* context node for bare paths */
    const struct val *ctxv;     /* context value inside `for` (may have no node) */
    struct val *vars;
    uint32_t *idx; /* loop positions per slot */
    unsigned depth;
    unsigned max_depth;
    uint64_t iters;
    uint64_t max_iters;
    size_t nodes;
    size_t max_nodes;
    uint64_t now_ms;
    bool xml_out;
    bool xml_in; /* reverse: the document read is XML */
    bool reverse;
    const struct stmt *cur; /* rule being run, for messages */
    struct rev_counter *counters;
    struct path_memo *memo; /* m->nmemo slots, or NULL */
    char *errbuf;
    size_t errlen;
};

int map_rt_fail(struct ev *ev, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int map_oom(struct ev *ev);
/* expression evaluators (eval_expr.c) */
int map_eval_path(struct ev *ev, const struct xnode *x, struct val *out);
xeval_fn map_eval_fn(uint8_t kind);
bool map_truthy(const struct val *v);
void map_node_val(const struct igw_node *n, struct val *out);
/* Elements of v (list items, array children, or v itself); returns count, *items in arena. */
int map_val_items(struct ev *ev, const struct val *v, struct val **items, uint32_t *n);
int map_val_str(struct ev *ev, const struct val *v, const char **s, uint32_t *len);
int map_val_num(const struct val *v, double *out);
int map_num_val(struct ev *ev, double d, struct val *out);
bool map_val_equal(const struct val *a, const struct val *b);
int map_val_cmp(const struct val *a, const struct val *b, int *out);
/* output building (eval.c) */
struct igw_node *map_onode(struct ev *ev, uint8_t type);
int map_val_node(struct ev *ev, const struct val *v, struct igw_node **out);
int map_run(struct ev *ev, const struct stmt *s, struct igw_node *tgt);
int map_write_path(struct ev *ev, struct igw_node *root, const struct tstep *steps, unsigned n,
                   const struct val *v);
/* The element of a TM_SLICE step: among the children of arr (JSON array) or the members of
 * arr named st->key (XML), the first object whose value at st->sel equals *st->selv; NULL when
 * none does. */
const struct igw_node *map_slice_find(const struct igw_node *arr, const struct tstep *st, bool xml);
int map_call_submap(struct ev *ev, const igw_map *callee, const struct val *in, struct val *out);
/* reverse */
int map_run_reverse(struct ev *ev, const struct stmt *s, const struct igw_node *rin,
                    struct igw_node *out);
/* dates / sha1 */
void map_sha1(const void *data, size_t len, uint8_t out[20]);
struct map_sha1_ctx {
    uint32_t h[5];
    uint64_t total;
    uint8_t buf[64];
    size_t used;
};
void map_sha1_init(struct map_sha1_ctx *c);
void map_sha1_update(struct map_sha1_ctx *c, const void *data, size_t len);
void map_sha1_final(struct map_sha1_ctx *c, uint8_t out[20]);
void map_free_regexes(struct map_regex *r);
int map_split(struct ev *ev, const char *s, uint32_t len, const char *sep, uint32_t seplen,
              struct val *out);
int map_join(struct ev *ev, const struct val *v, const char *sep, uint32_t seplen, struct val *out);
int map_new_shell(igw_map **out, const char *file, const char *name);
/* After compilation: gives equal source paths a shared memo slot (map.c). */
void map_plan_scan(igw_map *m);
int map_uuid5(const uint8_t ns[16], const char *name, size_t len, char out[37]);
int map_parse_uuid(const char *s, size_t len, uint8_t out[16]);
/* date patterns (funcs_date.c) */
int map_date_reverse(struct ev *ev, const struct xnode *x, const struct val *v, struct val *out);
int map_date_apply(struct ev *ev, const void *in_pat, const void *out_pat, const struct val *tz,
                   const struct val *v, struct val *out);

#endif /* IGW_MAP_INT_H */
