/* Repository keys: a random 256-bit repository key encrypts every file;
 * the passphrase only wraps it.
 *
 * The passphrase goes through scrypt (N = 2^15, r = 8, p = 1: 32 MiB and
 * about a tenth of a second, so guessing is slow) into a key-encryption
 * key, which seals the repository key with AES-256-GCM.  cairn.json keeps
 * the parameters, the salt and the sealed key -- never the key.  Changing
 * the passphrase seals the same key again: no backup is rewritten. */
#include "repo/keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "util/text.h"

#define SCRYPT_N 32768
#define SCRYPT_R 8
#define SCRYPT_P 1
static const char aad[] = "cairn repository key v1";

static char *hex(const unsigned char *b, size_t n)
{
    char *s = cairn_xmalloc(2 * n + 1);
    for (size_t i = 0; i < n; i++)
        snprintf(s + 2 * i, 3, "%02x", b[i]);
    return s;
}

static int unhex(const char *s, unsigned char *out, size_t n)
{
    if (!s || strlen(s) != 2 * n)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            return -1;
        out[i] = (unsigned char)v;
    }
    return 0;
}

static int kek(const char *passphrase, const unsigned char salt[16], uint64_t n, uint64_t r,
               uint64_t p, unsigned char out[32])
{
    return EVP_PBE_scrypt(passphrase, strlen(passphrase), salt, 16, n, r, p, 256u << 20, out, 32) ==
                   1
               ? 0
               : -1;
}

/* Seals key under the passphrase into a fresh "encryption" object. */
static json_t *wrap(const char *passphrase, const unsigned char key[32])
{
    unsigned char salt[16], iv[12], sealed[48], k[32];
    if (RAND_bytes(salt, sizeof salt) != 1 || RAND_bytes(iv, sizeof iv) != 1 ||
        kek(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, k) != 0)
        return NULL;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0;
    int ok = ctx && EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, k, iv) == 1 &&
             EVP_EncryptUpdate(ctx, NULL, &n, (const unsigned char *)aad, sizeof aad - 1) == 1 &&
             EVP_EncryptUpdate(ctx, sealed, &n, key, 32) == 1 &&
             EVP_EncryptFinal_ex(ctx, sealed + 32, &n) == 1 &&
             EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, sealed + 32) == 1;
    EVP_CIPHER_CTX_free(ctx);
    OPENSSL_cleanse(k, sizeof k);
    if (!ok)
        return NULL;
    char *hs = hex(salt, sizeof salt), *hi = hex(iv, sizeof iv), *hk = hex(sealed, sizeof sealed);
    json_t *j = json_pack("{s:s, s:i, s:s, s:i, s:i, s:i, s:s, s:s, s:s}", "cipher", "aes-256-gcm",
                          "frame_bytes", 65536, "kdf", "scrypt", "n", SCRYPT_N, "r", SCRYPT_R, "p",
                          SCRYPT_P, "salt", hs, "nonce", hi, "sealed_key", hk);
    free(hs);
    free(hi);
    free(hk);
    return j;
}

int cairn_keys_create(const char *passphrase, json_t **out, unsigned char key[32], cairn_error *err)
{
    if (RAND_bytes(key, 32) != 1 || !(*out = wrap(passphrase, key)))
        return cairn_error_set(err, CAIRN_ERR, "cannot create the repository's key");
    return CAIRN_OK;
}

int cairn_keys_unlock(const json_t *enc, const char *passphrase, unsigned char key[32],
                      cairn_error *err)
{
    unsigned char salt[16], iv[12], sealed[48], k[32];
    const char *cipher = json_string_value(json_object_get(enc, "cipher"));
    const char *kdf = json_string_value(json_object_get(enc, "kdf"));
    json_int_t n = json_integer_value(json_object_get(enc, "n"));
    json_int_t r = json_integer_value(json_object_get(enc, "r"));
    json_int_t p = json_integer_value(json_object_get(enc, "p"));
    if (!cipher || strcmp(cipher, "aes-256-gcm") != 0 || !kdf || strcmp(kdf, "scrypt") != 0 ||
        json_integer_value(json_object_get(enc, "frame_bytes")) != 65536 || n < 2 ||
        n > (1 << 22) || (n & (n - 1)) || r < 1 || r > 32 || p < 1 || p > 16 ||
        unhex(json_string_value(json_object_get(enc, "salt")), salt, sizeof salt) ||
        unhex(json_string_value(json_object_get(enc, "nonce")), iv, sizeof iv) ||
        unhex(json_string_value(json_object_get(enc, "sealed_key")), sealed, sizeof sealed))
        return cairn_error_set(err, CAIRN_EVERIFY,
                               "cairn.json: the encryption parameters are malformed");
    if (kek(passphrase, salt, (uint64_t)n, (uint64_t)r, (uint64_t)p, k) != 0)
        return cairn_error_set(err, CAIRN_ERR, "cannot derive the key from the passphrase");
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    unsigned char plain[48];
    int len = 0;
    int ok = ctx && EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, k, iv) == 1 &&
             EVP_DecryptUpdate(ctx, NULL, &len, (const unsigned char *)aad, sizeof aad - 1) == 1 &&
             EVP_DecryptUpdate(ctx, plain, &len, sealed, 32) == 1 &&
             EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, sealed + 32) == 1 &&
             EVP_DecryptFinal_ex(ctx, plain + 32, &len) == 1;
    EVP_CIPHER_CTX_free(ctx);
    OPENSSL_cleanse(k, sizeof k);
    memcpy(key, plain, 32);
    OPENSSL_cleanse(plain, sizeof plain);
    if (!ok) {
        OPENSSL_cleanse(key, 32);
        return cairn_error_set(err, CAIRN_ERR, "wrong passphrase for this repository");
    }
    return CAIRN_OK;
}

int cairn_keys_rewrap(const unsigned char key[32], const char *passphrase, json_t **out,
                      cairn_error *err)
{
    if (!(*out = wrap(passphrase, key)))
        return cairn_error_set(err, CAIRN_ERR, "cannot seal the repository's key");
    return CAIRN_OK;
}
