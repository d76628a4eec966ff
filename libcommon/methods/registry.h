/* The registry of methods: every model oiqa-train can train and oiqa-score
 * can score, one row each (methods/method.h). A method outside the library
 * (a test's, a user's experiment linked into their own tools) adds its row
 * at run time with oiqa_method_register. */
#ifndef OIQA_METHODS_REGISTRY_H
#define OIQA_METHODS_REGISTRY_H

#include "methods/method.h"

/* NULL when the name is unknown. */
const oiqa_method *oiqa_method_find(const char *name);
int oiqa_method_count(void);
const oiqa_method *oiqa_method_at(int i);
/* "mtfi, ..." (static storage, valid until the next register). */
const char *oiqa_method_names(void);
/* Adds a row after the built-in ones: OIQA_OK, or a usage error (message
 * set) for a name already taken, a row whose hooks or sizes are missing, or
 * a full registry. */
int oiqa_method_register(const oiqa_method *m);
/* Whether a row is complete (every required hook, sizes within the limits
 * of methods/method.h); the message names the method and what is wrong. */
int oiqa_method_validate(const oiqa_method *m);

#endif
