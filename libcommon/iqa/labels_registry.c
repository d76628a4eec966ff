/* The one list of oiqa-labels' dataset adapters: adding a database touches
 * its labels_*.c file and this list. */
#include <string.h>

#include "iqa/labels.h"

extern const oiqa_labels_adapter oiqa_labels_oiqa, oiqa_labels_cviq, oiqa_labels_iqa_odi, oiqa_labels_jufe,
    oiqa_labels_jufe10k, oiqa_labels_mvaqd, oiqa_labels_oiq10k, oiqa_labels_live, oiqa_labels_csiq,
    oiqa_labels_tid2013, oiqa_labels_kadid, oiqa_labels_livec, oiqa_labels_koniq, oiqa_labels_spaq;

const oiqa_labels_adapter *const oiqa_labels_adapters[] = {
    &oiqa_labels_oiqa,  &oiqa_labels_cviq,    &oiqa_labels_iqa_odi, &oiqa_labels_jufe,  &oiqa_labels_jufe10k,
    &oiqa_labels_mvaqd, &oiqa_labels_oiq10k,  &oiqa_labels_live,    &oiqa_labels_csiq,  &oiqa_labels_tid2013,
    &oiqa_labels_kadid, &oiqa_labels_livec,   &oiqa_labels_koniq,   &oiqa_labels_spaq,  NULL,
};

const oiqa_labels_adapter *oiqa_labels_adapter_find(const char *name)
{
    for (int i = 0; name && oiqa_labels_adapters[i]; i++)
        if (strcmp(oiqa_labels_adapters[i]->name, name) == 0) return oiqa_labels_adapters[i];
    return NULL;
}
