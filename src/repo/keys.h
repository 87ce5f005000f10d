/* Repository keys (keys.c): the passphrase wraps a random repository key. */
#ifndef CAIRN_KEYS_H
#define CAIRN_KEYS_H

#include <jansson.h>

#include "cairn/error.h"

/* A new random key, and the "encryption" object of cairn.json sealing it
 * under passphrase. */
int cairn_keys_create(const char *passphrase, json_t **out, unsigned char key[32],
                      cairn_error *err);
/* The key sealed in enc; "wrong passphrase" (CAIRN_ERR) when it does not
 * open. */
int cairn_keys_unlock(const json_t *enc, const char *passphrase, unsigned char key[32],
                      cairn_error *err);
/* The same key sealed under a new passphrase. */
int cairn_keys_rewrap(const unsigned char key[32], const char *passphrase, json_t **out,
                      cairn_error *err);

#endif
