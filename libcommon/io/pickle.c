/* Pickle VM (see pickle.h). Opcode names and argument encodings follow the
 * opcode table of CPython's Lib/pickletools.py. */
#include "io/pickle.h"

#include "base/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PK_STACK_MAX (1 << 20) /* values on the stack */
#define PK_MARKS_MAX (1 << 16) /* nested MARKs */
#define PK_MEMO_MAX (1 << 24)  /* memo slots */

typedef struct {
    oiqa_pickle *pk;
    const char *path, *what;
    const uint8_t *d;
    size_t len, pos, op_pos;
    oiqa_pk_value **stack;
    size_t sp, stack_cap;
    size_t *marks;
    size_t n_marks, marks_cap;
    oiqa_pk_value **memo;
    size_t memo_cap, memo_top; /* memo_top: one past the highest slot set */
} vm;

static int vfail(vm *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int vfail(vm *m, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return oiqa_fail(OIQA_EXIT_DATA, m->path, "%s: bad pickle: %s (opcode at offset %zu)", m->what, buf, m->op_pos);
}

/* Grows *arr (elements of size es) to hold at least need, doubling, capped at max. */
static int grow(void **arr, size_t *cap, size_t need, size_t es, size_t max)
{
    if (need <= *cap) return 1;
    if (need > max) return 0;
    size_t c = *cap ? *cap : 16;
    while (c < need) c *= 2;
    if (c > max) c = max;
    void *p = realloc(*arr, c * es);
    if (!p) return 0;
    *arr = p, *cap = c;
    return 1;
}

static oiqa_pk_value *newv(vm *m, oiqa_pk_kind k)
{
    oiqa_pickle *pk = m->pk;
    if (!grow((void **)&pk->all, &pk->cap_all, pk->n_all + 1, sizeof *pk->all, (size_t)1 << 40)) return NULL;
    oiqa_pk_value *v = calloc(1, sizeof *v);
    if (!v) return NULL;
    v->kind = k;
    pk->all[pk->n_all++] = v;
    return v;
}

static int add_item(oiqa_pk_value *c, oiqa_pk_value *it)
{
    size_t cap = (size_t)c->cap;
    if (!grow((void **)&c->items, &cap, (size_t)c->n + 1, sizeof *c->items, (size_t)1 << 30)) return 0;
    c->cap = (int)cap;
    c->items[c->n++] = it;
    return 1;
}

static int push(vm *m, oiqa_pk_value *v)
{
    if (!v) return vfail(m, "out of memory");
    if (!grow((void **)&m->stack, &m->stack_cap, m->sp + 1, sizeof *m->stack, PK_STACK_MAX))
        return vfail(m, "stack deeper than %d", PK_STACK_MAX);
    m->stack[m->sp++] = v;
    return OIQA_OK;
}

/* Takes n bytes of opcode argument; NULL (with a message) when past the end. */
static const uint8_t *take(vm *m, size_t n, int *rc)
{
    if (n > m->len - m->pos) {
        *rc = vfail(m, "argument of %zu bytes runs past the end (%zu bytes left)", n, m->len - m->pos);
        return NULL;
    }
    const uint8_t *p = m->d + m->pos;
    m->pos += n;
    return p;
}

static uint64_t le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

/* Index of the topmost MARK on the stack, popped. */
static int pop_mark(vm *m, size_t *at)
{
    if (!m->n_marks) return vfail(m, "no MARK on the stack");
    *at = m->marks[--m->n_marks];
    if (*at > m->sp) return vfail(m, "MARK above the stack top");
    return OIQA_OK;
}

static int push_string(vm *m, oiqa_pk_kind k, size_t n)
{
    int rc = OIQA_OK;
    const uint8_t *s = take(m, n, &rc);
    if (!s) return rc;
    oiqa_pk_value *v = newv(m, k);
    if (!v || !(v->str = malloc(n + 1))) return vfail(m, "out of memory");
    memcpy(v->str, s, n);
    v->str[n] = 0;
    v->len = n;
    return push(m, v);
}

/* A tuple of the top n stack values (n <= sp checked by the caller). */
static int push_tuple_from(vm *m, size_t from)
{
    oiqa_pk_value *t = newv(m, PK_TUPLE);
    if (!t) return vfail(m, "out of memory");
    for (size_t i = from; i < m->sp; i++)
        if (!add_item(t, m->stack[i])) return vfail(m, "out of memory");
    m->sp = from;
    return push(m, t);
}

static int need(vm *m, size_t n)
{
    if (m->sp < n) return vfail(m, "stack underflow (%zu values, %zu needed)", m->sp, n);
    if (m->n_marks && m->marks[m->n_marks - 1] > m->sp - n) return vfail(m, "operand under a MARK");
    return OIQA_OK;
}

static int set_items(vm *m, oiqa_pk_value *dict, size_t from)
{
    if (dict->kind != PK_DICT) return vfail(m, "SETITEM(S) on a non-dict");
    if ((m->sp - from) % 2) return vfail(m, "SETITEMS with an odd number of values");
    for (size_t i = from; i < m->sp; i++)
        if (!add_item(dict, m->stack[i])) return vfail(m, "out of memory");
    m->sp = from;
    return OIQA_OK;
}

static int do_global(vm *m, const char *mod, size_t ml, const char *nm, size_t nl)
{
    oiqa_pk_value *v = newv(m, PK_GLOBAL);
    if (!v || !(v->str = strndup(mod, ml)) || !(v->name = strndup(nm, nl))) return vfail(m, "out of memory");
    v->len = ml;
    return push(m, v);
}

/* GLOBAL's argument: "module\nname\n". */
static int op_global(vm *m)
{
    const uint8_t *a = m->d + m->pos, *end = m->d + m->len;
    const uint8_t *nl1 = memchr(a, '\n', (size_t)(end - a));
    const uint8_t *nl2 = nl1 ? memchr(nl1 + 1, '\n', (size_t)(end - nl1 - 1)) : NULL;
    if (!nl2) return vfail(m, "GLOBAL without two newline-terminated lines");
    m->pos = (size_t)(nl2 + 1 - m->d);
    return do_global(m, (const char *)a, (size_t)(nl1 - a), (const char *)nl1 + 1, (size_t)(nl2 - nl1 - 1));
}

static int op_reduce(vm *m)
{
    int rc = need(m, 2);
    if (rc) return rc;
    oiqa_pk_value *args = m->stack[--m->sp], *fn = m->stack[--m->sp], *v;
    if (oiqa_pk_is_global(fn, "collections", "OrderedDict") && args->kind == PK_TUPLE && args->n == 0)
        v = newv(m, PK_DICT);
    else if (oiqa_pk_is_global(fn, "torch._utils", "_rebuild_parameter") && args->kind == PK_TUPLE && args->n >= 1)
        v = args->items[0];
    else if ((v = newv(m, PK_REDUCE)))
        v->callable = fn, v->args = args;
    return push(m, v);
}

static int op_build(vm *m)
{
    int rc = need(m, 2);
    if (rc) return rc;
    oiqa_pk_value *state = m->stack[--m->sp], *obj = m->stack[m->sp - 1];
    if (obj->kind == PK_REDUCE || obj->kind == PK_OBJECT) obj->state = state;
    return OIQA_OK; /* dict states (OrderedDict._metadata) and others are dropped */
}

static int memo_put(vm *m, uint64_t idx)
{
    if (!m->sp) return vfail(m, "PUT on an empty stack");
    if (idx >= PK_MEMO_MAX || idx > m->len + 16) return vfail(m, "memo index %llu too large", (unsigned long long)idx);
    size_t old = m->memo_cap;
    if (!grow((void **)&m->memo, &m->memo_cap, (size_t)idx + 1, sizeof *m->memo, PK_MEMO_MAX))
        return vfail(m, "out of memory");
    if (m->memo_cap > old) memset(m->memo + old, 0, (m->memo_cap - old) * sizeof *m->memo);
    m->memo[idx] = m->stack[m->sp - 1];
    if (idx >= m->memo_top) m->memo_top = (size_t)idx + 1;
    return OIQA_OK;
}

static int memo_get(vm *m, uint64_t idx)
{
    if (idx >= m->memo_cap || !m->memo[idx]) return vfail(m, "GET of unset memo slot %llu", (unsigned long long)idx);
    return push(m, m->memo[idx]);
}

/* Executes one opcode; *stop is set at STOP. */
static int step(vm *m, int *stop)
{
    int rc = OIQA_OK;
    const uint8_t *a;
    size_t from;
    oiqa_pk_value *v;
    m->op_pos = m->pos;
    uint8_t op = m->d[m->pos++];
#define ARG(n) do { if (!(a = take(m, (n), &rc))) return rc; } while (0)
    switch (op) {
    case 0x80: ARG(1); return a[0] > 5 ? vfail(m, "protocol %d unsupported", a[0]) : OIQA_OK; /* PROTO */
    case 0x95: ARG(8); return OIQA_OK;                                  /* FRAME (protocol 4): a hint only */
    case '.':                                                           /* STOP */
        if ((rc = need(m, 1))) return rc;
        m->pk->root = m->stack[m->sp - 1];
        *stop = 1;
        return OIQA_OK;
    case '(':                                                           /* MARK */
        if (!grow((void **)&m->marks, &m->marks_cap, m->n_marks + 1, sizeof *m->marks, PK_MARKS_MAX))
            return vfail(m, "more than %d nested MARKs", PK_MARKS_MAX);
        m->marks[m->n_marks++] = m->sp;
        return OIQA_OK;
    case '0': if ((rc = need(m, 1))) return rc; m->sp--; return OIQA_OK; /* POP */
    case '1': if ((rc = pop_mark(m, &from))) return rc; m->sp = from; return OIQA_OK; /* POP_MARK */
    case '2': if ((rc = need(m, 1))) return rc; return push(m, m->stack[m->sp - 1]); /* DUP */
    case 'N': return push(m, newv(m, PK_NONE));
    case 0x88: case 0x89:                                               /* NEWTRUE, NEWFALSE */
        if ((v = newv(m, PK_BOOL))) v->i = op == 0x88;
        return push(m, v);
    case 'J': ARG(4); if ((v = newv(m, PK_INT))) v->i = (int32_t)(uint32_t)le(a, 4); return push(m, v); /* BININT */
    case 'K': ARG(1); if ((v = newv(m, PK_INT))) v->i = a[0]; return push(m, v);      /* BININT1 */
    case 'M': ARG(2); if ((v = newv(m, PK_INT))) v->i = (int64_t)le(a, 2); return push(m, v); /* BININT2 */
    case 0x8a: {                                                        /* LONG1: n-byte two's complement */
        ARG(1);
        int n = a[0];
        if (n > 8) return vfail(m, "LONG1 of %d bytes does not fit 64 bits", n);
        ARG((size_t)n);
        uint64_t u = n ? le(a, n) : 0;
        if (n && n < 8 && (a[n - 1] & 0x80)) u |= ~(uint64_t)0 << (8 * n);
        if ((v = newv(m, PK_INT))) v->i = (int64_t)u;
        return push(m, v);
    }
    case 'G': {                                                         /* BINFLOAT: big-endian double */
        ARG(8);
        uint64_t u = 0;
        for (int i = 0; i < 8; i++) u = u << 8 | a[i];
        if ((v = newv(m, PK_FLOAT))) memcpy(&v->f, &u, 8);
        return push(m, v);
    }
    case 'X': ARG(4); return push_string(m, PK_STR, (size_t)le(a, 4));   /* BINUNICODE */
    case 0x8c: ARG(1); return push_string(m, PK_STR, a[0]);               /* SHORT_BINUNICODE */
    case 0x8d: /* BINUNICODE8; a length above the pickle's fails in take() */
        ARG(8);
        return push_string(m, PK_STR, le(a, 8) > m->len ? m->len + 1 : (size_t)le(a, 8));
    case 'U': ARG(1); return push_string(m, PK_STR, a[0]);                /* SHORT_BINSTRING */
    case 'T': ARG(4); return push_string(m, PK_STR, (size_t)le(a, 4));    /* BINSTRING */
    case 'C': ARG(1); return push_string(m, PK_BYTES, a[0]);              /* SHORT_BINBYTES */
    case 'B': ARG(4); return push_string(m, PK_BYTES, (size_t)le(a, 4));  /* BINBYTES */
    case ')': return push(m, newv(m, PK_TUPLE));                          /* EMPTY_TUPLE */
    case 't': if ((rc = pop_mark(m, &from))) return rc; return push_tuple_from(m, from); /* TUPLE */
    case 0x85: case 0x86: case 0x87:                                      /* TUPLE1..3 */
        if ((rc = need(m, (size_t)(op - 0x84)))) return rc;
        return push_tuple_from(m, m->sp - (size_t)(op - 0x84));
    case ']': return push(m, newv(m, PK_LIST));                           /* EMPTY_LIST */
    case 'l':                                                             /* LIST */
        if ((rc = pop_mark(m, &from))) return rc;
        if ((rc = push_tuple_from(m, from))) return rc;
        m->stack[m->sp - 1]->kind = PK_LIST;
        return OIQA_OK;
    case 'a':                                                             /* APPEND */
        if ((rc = need(m, 2))) return rc;
        v = m->stack[m->sp - 2];
        if (v->kind != PK_LIST) return vfail(m, "APPEND to a non-list");
        if (!add_item(v, m->stack[m->sp - 1])) return vfail(m, "out of memory");
        m->sp--;
        return OIQA_OK;
    case 'e':                                                             /* APPENDS */
        if ((rc = pop_mark(m, &from))) return rc;
        if (from == 0 || m->stack[from - 1]->kind != PK_LIST) return vfail(m, "APPENDS to a non-list");
        for (size_t i = from; i < m->sp; i++)
            if (!add_item(m->stack[from - 1], m->stack[i])) return vfail(m, "out of memory");
        m->sp = from;
        return OIQA_OK;
    case '}': return push(m, newv(m, PK_DICT));                           /* EMPTY_DICT */
    case 'd':                                                             /* DICT */
        if ((rc = pop_mark(m, &from))) return rc;
        if (!(v = newv(m, PK_DICT))) return vfail(m, "out of memory");
        if ((rc = set_items(m, v, from))) return rc;
        return push(m, v);
    case 's':                                                             /* SETITEM */
        if ((rc = need(m, 3))) return rc;
        return set_items(m, m->stack[m->sp - 3], m->sp - 2);
    case 'u':                                                             /* SETITEMS */
        if ((rc = pop_mark(m, &from))) return rc;
        if (from == 0) return vfail(m, "SETITEMS without a dict");
        return set_items(m, m->stack[from - 1], from);
    case 'c': return op_global(m);                                        /* GLOBAL */
    case 0x93: {                                                          /* STACK_GLOBAL */
        if ((rc = need(m, 2))) return rc;
        oiqa_pk_value *nm = m->stack[m->sp - 1], *mod = m->stack[m->sp - 2];
        if (nm->kind != PK_STR || mod->kind != PK_STR) return vfail(m, "STACK_GLOBAL of non-strings");
        m->sp -= 2;
        return do_global(m, mod->str, mod->len, nm->str, nm->len);
    }
    case 'R': return op_reduce(m);                                        /* REDUCE */
    case 'b': return op_build(m);                                         /* BUILD */
    case 0x81:                                                            /* NEWOBJ */
        if ((rc = need(m, 2))) return rc;
        if (!(v = newv(m, PK_OBJECT))) return vfail(m, "out of memory");
        v->args = m->stack[--m->sp];
        v->callable = m->stack[--m->sp];
        return push(m, v);
    case 'Q':                                                             /* BINPERSID */
        if ((rc = need(m, 1))) return rc;
        if (!(v = newv(m, PK_PERSID))) return vfail(m, "out of memory");
        v->args = m->stack[--m->sp];
        return push(m, v);
    case 'q': ARG(1); return memo_put(m, a[0]);                           /* BINPUT */
    case 'r': ARG(4); return memo_put(m, le(a, 4));                       /* LONG_BINPUT */
    case 0x94: return memo_put(m, m->memo_top);                           /* MEMOIZE: slot len(memo) */
    case 'h': ARG(1); return memo_get(m, a[0]);                           /* BINGET */
    case 'j': ARG(4); return memo_get(m, le(a, 4));                       /* LONG_BINGET */
    default:
        return vfail(m, "unknown or unsupported opcode 0x%02x", op);
    }
#undef ARG
}

int oiqa_pickle_load(oiqa_pickle *pk, const char *path, const char *what, const uint8_t *data, size_t len)
{
    memset(pk, 0, sizeof *pk);
    vm m = {.pk = pk, .path = path, .what = what, .d = data, .len = len};
    int rc = OIQA_OK, stop = 0;
    while (!rc && !stop) {
        if (m.pos >= m.len) {
            m.op_pos = m.pos;
            rc = vfail(&m, "ends without STOP (truncated?)");
            break;
        }
        rc = step(&m, &stop);
    }
    free(m.stack);
    free(m.marks);
    free(m.memo);
    return rc;
}

void oiqa_pickle_free(oiqa_pickle *pk)
{
    for (size_t i = 0; i < pk->n_all; i++) {
        free(pk->all[i]->str);
        free(pk->all[i]->name);
        free(pk->all[i]->items);
        free(pk->all[i]);
    }
    free(pk->all);
    memset(pk, 0, sizeof *pk);
}

const oiqa_pk_value *oiqa_pk_dict_get(const oiqa_pk_value *d, const char *key)
{
    if (!d || d->kind != PK_DICT) return NULL;
    for (int i = d->n - 2; i >= 0; i -= 2)
        if (d->items[i]->kind == PK_STR && !strcmp(d->items[i]->str, key)) return d->items[i + 1];
    return NULL;
}

int oiqa_pk_is_global(const oiqa_pk_value *v, const char *module, const char *name)
{
    return v && v->kind == PK_GLOBAL && !strcmp(v->str, module) && !strcmp(v->name, name);
}
