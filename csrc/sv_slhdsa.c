#include "sv_slhdsa.h"

#include <string.h>

#include <oqs/oqs.h>

/* FIPS 205 Table 2 sizes, in the order of sv_slhdsa.h's numbering. */
typedef struct {
    size_t n, sig_len;
} sv_slhdsa_sizes;

static const sv_slhdsa_sizes SV_SLHDSA_SIZES[SV_SLHDSA_SETS] = {
    {16, 7856},  {16, 17088}, {24, 16224}, {24, 35664}, {32, 29792}, {32, 49856}, /* SHA2 128s..256f */
    {16, 7856},  {16, 17088}, {24, 16224}, {24, 35664}, {32, 29792}, {32, 49856}, /* SHAKE 128s..256f */
};

static const sv_slhdsa_sizes *sizes_for(int set) {
    return (set >= 0 && set < SV_SLHDSA_SETS) ? &SV_SLHDSA_SIZES[set] : NULL;
}

size_t sv_slhdsa_n(int set) {
    const sv_slhdsa_sizes *s = sizes_for(set);
    return s ? s->n : 0;
}

size_t sv_slhdsa_pk_len(int set) { return 2 * sv_slhdsa_n(set); }
size_t sv_slhdsa_sk_len(int set) { return 4 * sv_slhdsa_n(set); }

size_t sv_slhdsa_sig_len(int set) {
    const sv_slhdsa_sizes *s = sizes_for(set);
    return s ? s->sig_len : 0;
}

#ifdef SV_HAVE_SLHDSA_C

/*
 * slhdsa-c's API (src/sig/slh_dsa/slh_dsa_c/slh_dsa.h in liboqs), which
 * liboqs does not install: declared here as liboqs 0.16 defines it.
 */
typedef struct slh_param_s slh_param_t;
extern const slh_param_t slh_dsa_sha2_128s, slh_dsa_sha2_128f, slh_dsa_sha2_192s, slh_dsa_sha2_192f,
    slh_dsa_sha2_256s, slh_dsa_sha2_256f, slh_dsa_shake_128s, slh_dsa_shake_128f, slh_dsa_shake_192s,
    slh_dsa_shake_192f, slh_dsa_shake_256s, slh_dsa_shake_256f;
size_t slh_pk_sz(const slh_param_t *prm);
size_t slh_sk_sz(const slh_param_t *prm);
size_t slh_sig_sz(const slh_param_t *prm);
int slh_keygen_internal(uint8_t *sk, uint8_t *pk, const uint8_t *sk_seed, const uint8_t *sk_prf,
                        const uint8_t *pk_seed, const slh_param_t *prm);
size_t slh_sign_internal(uint8_t *sig, const uint8_t *m, size_t m_sz, const uint8_t *sk, const uint8_t *addrnd,
                         const slh_param_t *prm);
int slh_verify_internal(const uint8_t *m, size_t m_sz, const uint8_t *sig, size_t sig_sz, const uint8_t *pk,
                        const slh_param_t *prm);
size_t slh_sign(uint8_t *sig, const uint8_t *m, size_t m_sz, const uint8_t *ctx, size_t ctx_sz, const uint8_t *sk,
                const uint8_t *addrnd, const slh_param_t *prm);
int slh_verify(const uint8_t *m, size_t m_sz, const uint8_t *sig, size_t sig_sz, const uint8_t *ctx, size_t ctx_sz,
               const uint8_t *pk, const slh_param_t *prm);

static const slh_param_t *const SV_SLHDSA_PRM[SV_SLHDSA_SETS] = {
    &slh_dsa_sha2_128s,  &slh_dsa_sha2_128f,  &slh_dsa_sha2_192s,  &slh_dsa_sha2_192f,
    &slh_dsa_sha2_256s,  &slh_dsa_sha2_256f,  &slh_dsa_shake_128s, &slh_dsa_shake_128f,
    &slh_dsa_shake_192s, &slh_dsa_shake_192f, &slh_dsa_shake_256s, &slh_dsa_shake_256f,
};

int sv_slhdsa_available(void) { return 1; }

/* The set's slhdsa-c parameters, after checking that slhdsa-c's sizes are FIPS 205's. */
static const slh_param_t *prm_for(int set) {
    const sv_slhdsa_sizes *s = sizes_for(set);
    const slh_param_t *prm;
    if (s == NULL) {
        return NULL;
    }
    prm = SV_SLHDSA_PRM[set];
    if (slh_pk_sz(prm) != 2 * s->n || slh_sk_sz(prm) != 4 * s->n || slh_sig_sz(prm) != s->sig_len) {
        return NULL;
    }
    return prm;
}

/* addrnd is NULL (deterministic) or exactly n bytes. */
static int addrnd_ok(const uint8_t *addrnd, size_t addrnd_len, size_t n) {
    return addrnd == NULL ? addrnd_len == 0 : addrnd_len == n;
}

int sv_slhdsa_keypair_from_seed(int set, uint8_t *pk, size_t pk_len, uint8_t *sk, size_t sk_len,
                                const uint8_t *seed, size_t seed_len) {
    const slh_param_t *prm = prm_for(set);
    size_t n = sv_slhdsa_n(set);
    if (prm == NULL || pk_len != 2 * n || sk_len != 4 * n || seed_len != 3 * n) {
        return SV_SLHDSA_BAD_LENGTH;
    }
    return slh_keygen_internal(sk, pk, seed, seed + n, seed + 2 * n, prm) == 0 ? SV_SLHDSA_OK : SV_SLHDSA_FAIL;
}

int sv_slhdsa_sk_consistent(int set, const uint8_t *sk, size_t sk_len) {
    const slh_param_t *prm = prm_for(set);
    size_t n = sv_slhdsa_n(set);
    uint8_t sk2[4 * SV_SLHDSA_MAX_N], pk2[2 * SV_SLHDSA_MAX_N];
    int same;
    if (prm == NULL || sk_len != 4 * n) {
        return 0;
    }
    if (slh_keygen_internal(sk2, pk2, sk, sk + n, sk + 2 * n, prm) != 0) {
        OQS_MEM_cleanse(sk2, sizeof sk2);
        return 0;
    }
    same = memcmp(pk2 + n, sk + 3 * n, n) == 0; /* PK.root is public: no constant-time compare needed */
    OQS_MEM_cleanse(sk2, sizeof sk2);
    return same;
}

int sv_slhdsa_sign_internal(int set, uint8_t *sig, size_t sig_len, const uint8_t *message, size_t message_len,
                            const uint8_t *addrnd, size_t addrnd_len, const uint8_t *sk, size_t sk_len) {
    const slh_param_t *prm = prm_for(set);
    size_t n = sv_slhdsa_n(set);
    if (prm == NULL || sig_len != sv_slhdsa_sig_len(set) || sk_len != 4 * n || !addrnd_ok(addrnd, addrnd_len, n)) {
        return SV_SLHDSA_BAD_LENGTH;
    }
    return slh_sign_internal(sig, message, message_len, sk, addrnd, prm) == sig_len ? SV_SLHDSA_OK : SV_SLHDSA_FAIL;
}

int sv_slhdsa_verify_internal(int set, const uint8_t *sig, size_t sig_len, const uint8_t *message,
                              size_t message_len, const uint8_t *pk, size_t pk_len) {
    const slh_param_t *prm = prm_for(set);
    if (prm == NULL || sig_len != sv_slhdsa_sig_len(set) || pk_len != sv_slhdsa_pk_len(set)) {
        return SV_SLHDSA_BAD_LENGTH;
    }
    return slh_verify_internal(message, message_len, sig, sig_len, pk, prm) == 1 ? SV_SLHDSA_OK : SV_SLHDSA_FAIL;
}

int sv_slhdsa_sign(int set, uint8_t *sig, size_t sig_len, const uint8_t *message, size_t message_len,
                   const uint8_t *ctx, size_t ctx_len, const uint8_t *addrnd, size_t addrnd_len,
                   const uint8_t *sk, size_t sk_len) {
    const slh_param_t *prm = prm_for(set);
    size_t n = sv_slhdsa_n(set);
    if (prm == NULL || sig_len != sv_slhdsa_sig_len(set) || sk_len != 4 * n || ctx_len > SV_SLHDSA_MAX_CONTEXT ||
        !addrnd_ok(addrnd, addrnd_len, n)) {
        return SV_SLHDSA_BAD_LENGTH;
    }
    return slh_sign(sig, message, message_len, ctx, ctx_len, sk, addrnd, prm) == sig_len ? SV_SLHDSA_OK
                                                                                          : SV_SLHDSA_FAIL;
}

int sv_slhdsa_verify(int set, const uint8_t *sig, size_t sig_len, const uint8_t *message, size_t message_len,
                     const uint8_t *ctx, size_t ctx_len, const uint8_t *pk, size_t pk_len) {
    const slh_param_t *prm = prm_for(set);
    if (prm == NULL || sig_len != sv_slhdsa_sig_len(set) || pk_len != sv_slhdsa_pk_len(set) ||
        ctx_len > SV_SLHDSA_MAX_CONTEXT) {
        return SV_SLHDSA_BAD_LENGTH;
    }
    return slh_verify(message, message_len, sig, sig_len, ctx, ctx_len, pk, prm) == 1 ? SV_SLHDSA_OK
                                                                                       : SV_SLHDSA_FAIL;
}

#else /* !SV_HAVE_SLHDSA_C */

int sv_slhdsa_available(void) { return 0; }

int sv_slhdsa_keypair_from_seed(int set, uint8_t *pk, size_t pk_len, uint8_t *sk, size_t sk_len,
                                const uint8_t *seed, size_t seed_len) {
    (void)set, (void)pk, (void)pk_len, (void)sk, (void)sk_len, (void)seed, (void)seed_len;
    return SV_SLHDSA_UNSUPPORTED;
}

int sv_slhdsa_sk_consistent(int set, const uint8_t *sk, size_t sk_len) {
    (void)set, (void)sk, (void)sk_len;
    return 0;
}

int sv_slhdsa_sign_internal(int set, uint8_t *sig, size_t sig_len, const uint8_t *message, size_t message_len,
                            const uint8_t *addrnd, size_t addrnd_len, const uint8_t *sk, size_t sk_len) {
    (void)set, (void)sig, (void)sig_len, (void)message, (void)message_len, (void)addrnd, (void)addrnd_len;
    (void)sk, (void)sk_len;
    return SV_SLHDSA_UNSUPPORTED;
}

int sv_slhdsa_verify_internal(int set, const uint8_t *sig, size_t sig_len, const uint8_t *message,
                              size_t message_len, const uint8_t *pk, size_t pk_len) {
    (void)set, (void)sig, (void)sig_len, (void)message, (void)message_len, (void)pk, (void)pk_len;
    return SV_SLHDSA_UNSUPPORTED;
}

int sv_slhdsa_sign(int set, uint8_t *sig, size_t sig_len, const uint8_t *message, size_t message_len,
                   const uint8_t *ctx, size_t ctx_len, const uint8_t *addrnd, size_t addrnd_len,
                   const uint8_t *sk, size_t sk_len) {
    (void)set, (void)sig, (void)sig_len, (void)message, (void)message_len, (void)ctx, (void)ctx_len;
    (void)addrnd, (void)addrnd_len, (void)sk, (void)sk_len;
    return SV_SLHDSA_UNSUPPORTED;
}

int sv_slhdsa_verify(int set, const uint8_t *sig, size_t sig_len, const uint8_t *message, size_t message_len,
                     const uint8_t *ctx, size_t ctx_len, const uint8_t *pk, size_t pk_len) {
    (void)set, (void)sig, (void)sig_len, (void)message, (void)message_len, (void)ctx, (void)ctx_len;
    (void)pk, (void)pk_len;
    return SV_SLHDSA_UNSUPPORTED;
}

#endif /* SV_HAVE_SLHDSA_C */

void sv_slhdsa_verify_batch(int set, size_t n, const uint8_t **messages, const size_t *message_lens,
                            const uint8_t **signatures, const size_t *signature_lens, const uint8_t **contexts,
                            const size_t *context_lens, const uint8_t **public_keys, size_t pk_len, int *status) {
    for (size_t i = 0; i < n; i++) {
        status[i] = sv_slhdsa_verify(set, signatures[i], signature_lens[i], messages[i], message_lens[i],
                                     contexts[i], context_lens[i], public_keys[i], pk_len);
    }
}
