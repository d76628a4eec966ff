/* A small pickle virtual machine: runs the opcode subset torch.save writes
 * (protocol 2, plus the common protocol 3-4 opcodes) and builds a tree of
 * values without executing anything. Python's pickle protocol as described
 * by Lib/pickletools.py (the opcode table) and PEP 307 (protocol 2).
 *
 * Classes are never looked up: GLOBAL gives a PK_GLOBAL (module, name);
 * REDUCE gives PK_REDUCE(callable, args) except for two callables it
 * interprets: collections.OrderedDict() (an empty dict) and
 * torch._utils._rebuild_parameter(data, ...) (data itself). NEWOBJ gives a
 * PK_OBJECT, BUILD stores its state in the object (dict states given to a
 * dict, e.g. OrderedDict's _metadata, are dropped). BINPERSID gives
 * PK_PERSID whose args is the persistent id.
 *
 * Hostile input: every length is checked against the bytes left, the stack,
 * mark stack and memo are capped, an unknown opcode fails with its byte
 * value and offset. Values form a DAG (memo references share nodes); all are
 * owned by the oiqa_pickle and freed together. */
#ifndef OIQA_IO_PICKLE_H
#define OIQA_IO_PICKLE_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    PK_NONE, PK_BOOL, PK_INT, PK_FLOAT, PK_STR, PK_BYTES,
    PK_TUPLE, PK_LIST, PK_DICT,   /* items; a dict stores key, value, key, value ... */
    PK_GLOBAL,                    /* str = module, name = attribute */
    PK_REDUCE,                    /* callable(args) */
    PK_OBJECT,                    /* callable.__new__(callable, *args) (NEWOBJ) */
    PK_PERSID,                    /* args = the persistent id */
} oiqa_pk_kind;

typedef struct oiqa_pk_value oiqa_pk_value;
struct oiqa_pk_value {
    oiqa_pk_kind kind;
    int64_t i;                  /* PK_INT, PK_BOOL */
    double f;                   /* PK_FLOAT */
    char *str;                  /* PK_STR / PK_BYTES (NUL-terminated copy), PK_GLOBAL module */
    size_t len;                 /* bytes of str */
    char *name;                 /* PK_GLOBAL */
    oiqa_pk_value **items;      /* PK_TUPLE, PK_LIST, PK_DICT */
    int n, cap;                 /* items used / allocated */
    oiqa_pk_value *callable, *args, *state; /* PK_REDUCE, PK_OBJECT (state from BUILD), PK_PERSID (args) */
};

typedef struct {
    oiqa_pk_value *root;        /* the value on the stack at STOP */
    oiqa_pk_value **all;        /* every value made, for freeing */
    size_t n_all, cap_all;
} oiqa_pickle;

/* Runs the pickle data[0, len). what names it in messages ("x.pth: data.pkl: ...").
 * Returns OIQA_OK or OIQA_EXIT_DATA; pk is usable (and must be freed) either way. */
int oiqa_pickle_load(oiqa_pickle *pk, const char *path, const char *what, const uint8_t *data, size_t len);
void oiqa_pickle_free(oiqa_pickle *pk);

/* The value of the last entry with string key `key` in dict d, or NULL. */
const oiqa_pk_value *oiqa_pk_dict_get(const oiqa_pk_value *d, const char *key);
/* True when v is PK_GLOBAL module.name. */
int oiqa_pk_is_global(const oiqa_pk_value *v, const char *module, const char *name);

#endif
