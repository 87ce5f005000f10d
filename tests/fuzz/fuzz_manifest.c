/* libFuzzer target: a manifest is untrusted input.  Any bytes must parse
 * or be refused -- never crash, leak or read out of bounds -- and a
 * manifest that parses must serialize and parse again to the same thing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "repo/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    cairn_manifest m;
    memset(&m, 0, sizeof m);
    cairn_error err = {0};
    if (cairn_manifest_parse((const char *)data, len, &m, &err) != CAIRN_OK)
        return 0;
    json_t *j = cairn_manifest_to_json(&m);
    char *text = json_dumps(j, JSON_COMPACT);
    cairn_manifest again;
    memset(&again, 0, sizeof again);
    if (cairn_manifest_parse(text, strlen(text), &again, &err) != CAIRN_OK)
        abort(); /* what cairn writes, cairn must read */
    json_t *k = cairn_manifest_to_json(&again);
    if (!json_equal(j, k))
        abort();
    json_decref(k);
    cairn_manifest_clear(&again);
    free(text);
    json_decref(j);
    cairn_manifest_clear(&m);
    return 0;
}
