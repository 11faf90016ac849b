#include "sv_mldsa.h"

#include <string.h>

#include <oqs/oqs.h>

/* FIPS 204 Table 2 sizes, and the shape of s1 || s2 in the expanded secret key. */
typedef struct {
    int level;
    size_t pk_len, sk_len, sig_len;
    size_t k, l;  /* s2 has k polynomials, s1 has l */
    unsigned eta; /* coefficients of s1, s2 lie in [-eta, eta] */
} sv_mldsa_params;

static const sv_mldsa_params SV_MLDSA_PARAMS[] = {
    {44, 1312, 2560, 2420, 4, 4, 2},
    {65, 1952, 4032, 3309, 6, 5, 4},
    {87, 2592, 4896, 4627, 8, 7, 2},
};

static const sv_mldsa_params *params_for(int level) {
    for (size_t i = 0; i < sizeof SV_MLDSA_PARAMS / sizeof SV_MLDSA_PARAMS[0]; i++) {
        if (SV_MLDSA_PARAMS[i].level == level) {
            return &SV_MLDSA_PARAMS[i];
        }
    }
    return NULL;
}

int sv_mldsa_sk_in_range(int level, const uint8_t *sk, size_t sk_len) {
    const sv_mldsa_params *p = params_for(level);
    if (p == NULL || sk_len != p->sk_len) {
        return 0;
    }
    /* sk = rho (32) || K (32) || tr (64) || s1 || s2 || t0; BitPack(eta - w, eta, eta). */
    const uint8_t *s = sk + 128;
    const size_t coefficients = (p->k + p->l) * 256;
    uint32_t out_of_range = 0; /* no branch on secret data: every coefficient is looked at */
    if (p->eta == 2) {         /* 3 bits a coefficient, 8 coefficients in 3 bytes; valid: 0..4 */
        for (size_t i = 0; i < coefficients / 8; i++) {
            const uint32_t t = (uint32_t)s[3 * i] | ((uint32_t)s[3 * i + 1] << 8) | ((uint32_t)s[3 * i + 2] << 16);
            for (unsigned j = 0; j < 8; j++) {
                out_of_range |= (4u - ((t >> (3 * j)) & 7u)) >> 31;
            }
        }
    } else { /* eta 4: 4 bits a coefficient; valid: 0..8 */
        for (size_t i = 0; i < coefficients / 2; i++) {
            out_of_range |= ((8u - (s[i] & 15u)) >> 31) | ((8u - (uint32_t)(s[i] >> 4)) >> 31);
        }
    }
    return out_of_range == 0;
}

/* mldsa-native's entry points as liboqs builds them (no context parameter). */
typedef struct {
    int (*keypair_internal)(uint8_t *pk, uint8_t *sk, const uint8_t *seed);
    int (*signature_internal)(uint8_t *sig, size_t *siglen, const uint8_t *m, size_t mlen, const uint8_t *pre,
                              size_t prelen, const uint8_t *rnd, const uint8_t *sk, int externalmu);
    int (*verify_extmu)(const uint8_t *sig, size_t siglen, const uint8_t *mu, const uint8_t *pk);
    int (*signature_pre_hash_internal)(uint8_t *sig, size_t *siglen, const uint8_t *ph, size_t phlen,
                                       const uint8_t *ctx, size_t ctxlen, const uint8_t *rnd, const uint8_t *sk,
                                       int hashalg);
    int (*verify_pre_hash_internal)(const uint8_t *sig, size_t siglen, const uint8_t *ph, size_t phlen,
                                    const uint8_t *ctx, size_t ctxlen, const uint8_t *pk, int hashalg);
    int (*pk_from_sk)(uint8_t *pk, const uint8_t *sk);
} sv_mldsa_impl;

#if defined(SV_HAVE_MLDSA_NATIVE)

#define SV_MLDSA_IMPL(ns)                                                                                      \
    extern int ns##_keypair_internal(uint8_t *, uint8_t *, const uint8_t *);                                   \
    extern int ns##_signature_internal(uint8_t *, size_t *, const uint8_t *, size_t, const uint8_t *, size_t,  \
                                       const uint8_t *, const uint8_t *, int);                                 \
    extern int ns##_verify_extmu(const uint8_t *, size_t, const uint8_t *, const uint8_t *);                   \
    extern int ns##_signature_pre_hash_internal(uint8_t *, size_t *, const uint8_t *, size_t, const uint8_t *, \
                                                size_t, const uint8_t *, const uint8_t *, int);                \
    extern int ns##_verify_pre_hash_internal(const uint8_t *, size_t, const uint8_t *, size_t, const uint8_t *, \
                                             size_t, const uint8_t *, int);                                    \
    extern int ns##_pk_from_sk(uint8_t *, const uint8_t *);                                                    \
    static const sv_mldsa_impl ns##_IMPL = {ns##_keypair_internal,         ns##_signature_internal,          \
                                            ns##_verify_extmu,             ns##_signature_pre_hash_internal, \
                                            ns##_verify_pre_hash_internal, ns##_pk_from_sk};

/*
 * Which variants exist, and which one runs, exactly as in liboqs's
 * src/sig/ml_dsa/sig_ml_dsa_{44,65,87}.c: the x86_64 (AVX2) or aarch64
 * variant where liboqs built it; in a distributable build (OQS_DIST_BUILD)
 * only when the CPU has the extensions, else the portable C one.
 */
#if defined(OQS_ENABLE_SIG_ml_dsa_44)
#if defined(OQS_ENABLE_SIG_ml_dsa_44_x86_64)
SV_MLDSA_IMPL(PQCP_MLDSA_NATIVE_MLDSA44_X86_64)
#elif defined(OQS_ENABLE_SIG_ml_dsa_44_aarch64)
SV_MLDSA_IMPL(PQCP_MLDSA_NATIVE_MLDSA44_AARCH64)
#endif
#if defined(OQS_DIST_BUILD) || !(defined(OQS_ENABLE_SIG_ml_dsa_44_x86_64) || defined(OQS_ENABLE_SIG_ml_dsa_44_aarch64))
SV_MLDSA_IMPL(PQCP_MLDSA_NATIVE_MLDSA44_C)
#endif
#endif

#if defined(OQS_ENABLE_SIG_ml_dsa_65)
#if defined(OQS_ENABLE_SIG_ml_dsa_65_x86_64)
SV_MLDSA_IMPL(PQCP_MLDSA_NATIVE_MLDSA65_X86_64)
#elif defined(OQS_ENABLE_SIG_ml_dsa_65_aarch64)
SV_MLDSA_IMPL(PQCP_MLDSA_NATIVE_MLDSA65_AARCH64)
#endif
#if defined(OQS_DIST_BUILD) || !(defined(OQS_ENABLE_SIG_ml_dsa_65_x86_64) || defined(OQS_ENABLE_SIG_ml_dsa_65_aarch64))
SV_MLDSA_IMPL(PQCP_MLDSA_NATIVE_MLDSA65_C)
#endif
#endif

#if defined(OQS_ENABLE_SIG_ml_dsa_87)
#if defined(OQS_ENABLE_SIG_ml_dsa_87_x86_64)
SV_MLDSA_IMPL(PQCP_MLDSA_NATIVE_MLDSA87_X86_64)
#elif defined(OQS_ENABLE_SIG_ml_dsa_87_aarch64)
SV_MLDSA_IMPL(PQCP_MLDSA_NATIVE_MLDSA87_AARCH64)
#endif
#if defined(OQS_DIST_BUILD) || !(defined(OQS_ENABLE_SIG_ml_dsa_87_x86_64) || defined(OQS_ENABLE_SIG_ml_dsa_87_aarch64))
SV_MLDSA_IMPL(PQCP_MLDSA_NATIVE_MLDSA87_C)
#endif
#endif

#if defined(__x86_64__) || defined(_M_X64)
static inline int sv_cpu_fast(void) {
    return OQS_CPU_has_extension(OQS_CPU_EXT_AVX2) && OQS_CPU_has_extension(OQS_CPU_EXT_BMI2) &&
           OQS_CPU_has_extension(OQS_CPU_EXT_POPCNT);
}
#else
static inline int sv_cpu_fast(void) {
    return OQS_CPU_has_extension(OQS_CPU_EXT_ARM_NEON);
}
#endif

/* The variant liboqs would call for `level` on this CPU; NULL if liboqs lacks the parameter set. */
static const sv_mldsa_impl *impl_for(int level) {
    switch (level) {
#if defined(OQS_ENABLE_SIG_ml_dsa_44)
    case 44:
#if defined(OQS_ENABLE_SIG_ml_dsa_44_x86_64) || defined(OQS_ENABLE_SIG_ml_dsa_44_aarch64)
#if defined(OQS_DIST_BUILD)
        if (!sv_cpu_fast()) {
            return &PQCP_MLDSA_NATIVE_MLDSA44_C_IMPL;
        }
#endif
#if defined(OQS_ENABLE_SIG_ml_dsa_44_x86_64)
        return &PQCP_MLDSA_NATIVE_MLDSA44_X86_64_IMPL;
#else
        return &PQCP_MLDSA_NATIVE_MLDSA44_AARCH64_IMPL;
#endif
#else
        return &PQCP_MLDSA_NATIVE_MLDSA44_C_IMPL;
#endif
#endif
#if defined(OQS_ENABLE_SIG_ml_dsa_65)
    case 65:
#if defined(OQS_ENABLE_SIG_ml_dsa_65_x86_64) || defined(OQS_ENABLE_SIG_ml_dsa_65_aarch64)
#if defined(OQS_DIST_BUILD)
        if (!sv_cpu_fast()) {
            return &PQCP_MLDSA_NATIVE_MLDSA65_C_IMPL;
        }
#endif
#if defined(OQS_ENABLE_SIG_ml_dsa_65_x86_64)
        return &PQCP_MLDSA_NATIVE_MLDSA65_X86_64_IMPL;
#else
        return &PQCP_MLDSA_NATIVE_MLDSA65_AARCH64_IMPL;
#endif
#else
        return &PQCP_MLDSA_NATIVE_MLDSA65_C_IMPL;
#endif
#endif
#if defined(OQS_ENABLE_SIG_ml_dsa_87)
    case 87:
#if defined(OQS_ENABLE_SIG_ml_dsa_87_x86_64) || defined(OQS_ENABLE_SIG_ml_dsa_87_aarch64)
#if defined(OQS_DIST_BUILD)
        if (!sv_cpu_fast()) {
            return &PQCP_MLDSA_NATIVE_MLDSA87_C_IMPL;
        }
#endif
#if defined(OQS_ENABLE_SIG_ml_dsa_87_x86_64)
        return &PQCP_MLDSA_NATIVE_MLDSA87_X86_64_IMPL;
#else
        return &PQCP_MLDSA_NATIVE_MLDSA87_AARCH64_IMPL;
#endif
#else
        return &PQCP_MLDSA_NATIVE_MLDSA87_C_IMPL;
#endif
#endif
    default:
        return NULL;
    }
}

int sv_mldsa_available(void) {
    return 1;
}

#else /* !SV_HAVE_MLDSA_NATIVE */

static const sv_mldsa_impl *impl_for(int level) {
    (void)level;
    return NULL;
}

int sv_mldsa_available(void) {
    return 0;
}

#endif /* SV_HAVE_MLDSA_NATIVE */

/*
 * The implementation for `level` once the sizes are checked: *status is set
 * and NULL returned when the call cannot be made.
 */
static const sv_mldsa_impl *prepare(int level, size_t sig_len, size_t key_len, int secret, int *status) {
    const sv_mldsa_params *p = params_for(level);
    const sv_mldsa_impl *impl = impl_for(level);
    if (impl == NULL) {
        *status = SV_MLDSA_UNSUPPORTED;
    } else if (p == NULL || sig_len != p->sig_len || key_len != (secret ? p->sk_len : p->pk_len)) {
        *status = SV_MLDSA_BAD_LENGTH;
        impl = NULL;
    }
    return impl;
}

/* A signature is there only if mldsa-native says so and wrote all of it. */
static int signed_status(int rc, size_t siglen, size_t expected) {
    return (rc == 0 && siglen == expected) ? SV_MLDSA_OK : SV_MLDSA_FAIL;
}

int sv_mldsa_keypair_from_seed(int level, uint8_t *pk, size_t pk_len, uint8_t *sk, size_t sk_len,
                               const uint8_t *seed, size_t seed_len) {
    const sv_mldsa_params *p = params_for(level);
    const sv_mldsa_impl *impl = impl_for(level);
    if (impl == NULL) {
        return SV_MLDSA_UNSUPPORTED;
    }
    if (p == NULL || pk_len != p->pk_len || sk_len != p->sk_len || seed_len != SV_MLDSA_SEED_BYTES) {
        return SV_MLDSA_BAD_LENGTH;
    }
    return impl->keypair_internal(pk, sk, seed) == 0 ? SV_MLDSA_OK : SV_MLDSA_FAIL;
}

int sv_mldsa_sign(int level, uint8_t *sig, size_t sig_len, const uint8_t *message, size_t message_len,
                  const uint8_t *ctx, size_t ctx_len, const uint8_t *rnd, size_t rnd_len,
                  const uint8_t *sk, size_t sk_len) {
    int status = SV_MLDSA_BAD_LENGTH;
    const sv_mldsa_impl *impl = prepare(level, sig_len, sk_len, 1, &status);
    uint8_t pre[2 + SV_MLDSA_MAX_CONTEXT]; /* M' = 0 || len(ctx) || ctx || message */
    size_t siglen = 0;
    int rc;
    if (impl == NULL || ctx_len > SV_MLDSA_MAX_CONTEXT || rnd_len != SV_MLDSA_RND_BYTES) {
        return impl == NULL ? status : SV_MLDSA_BAD_LENGTH;
    }
    pre[0] = 0;
    pre[1] = (uint8_t)ctx_len;
    if (ctx_len > 0) {
        memcpy(pre + 2, ctx, ctx_len);
    }
    rc = impl->signature_internal(sig, &siglen, message, message_len, pre, 2 + ctx_len, rnd, sk, 0);
    return signed_status(rc, siglen, sig_len);
}

int sv_mldsa_sign_mu(int level, uint8_t *sig, size_t sig_len, const uint8_t *mu, size_t mu_len,
                     const uint8_t *rnd, size_t rnd_len, const uint8_t *sk, size_t sk_len) {
    int status = SV_MLDSA_BAD_LENGTH;
    const sv_mldsa_impl *impl = prepare(level, sig_len, sk_len, 1, &status);
    size_t siglen = 0;
    int rc;
    if (impl == NULL || mu_len != SV_MLDSA_MU_BYTES || rnd_len != SV_MLDSA_RND_BYTES) {
        return impl == NULL ? status : SV_MLDSA_BAD_LENGTH;
    }
    rc = impl->signature_internal(sig, &siglen, mu, mu_len, NULL, 0, rnd, sk, 1);
    return signed_status(rc, siglen, sig_len);
}

int sv_mldsa_verify_mu(int level, const uint8_t *sig, size_t sig_len, const uint8_t *mu, size_t mu_len,
                       const uint8_t *pk, size_t pk_len) {
    int status = SV_MLDSA_BAD_LENGTH;
    const sv_mldsa_impl *impl = prepare(level, sig_len, pk_len, 0, &status);
    if (impl == NULL || mu_len != SV_MLDSA_MU_BYTES) {
        return impl == NULL ? status : SV_MLDSA_BAD_LENGTH;
    }
    return impl->verify_extmu(sig, sig_len, mu, pk) == 0 ? SV_MLDSA_OK : SV_MLDSA_FAIL;
}

int sv_mldsa_sign_prehash(int level, uint8_t *sig, size_t sig_len, const uint8_t *digest, size_t digest_len,
                          int prehash, const uint8_t *ctx, size_t ctx_len, const uint8_t *rnd, size_t rnd_len,
                          const uint8_t *sk, size_t sk_len) {
    int status = SV_MLDSA_BAD_LENGTH;
    const sv_mldsa_impl *impl = prepare(level, sig_len, sk_len, 1, &status);
    size_t siglen = 0;
    int rc;
    if (impl == NULL || ctx_len > SV_MLDSA_MAX_CONTEXT || rnd_len != SV_MLDSA_RND_BYTES) {
        return impl == NULL ? status : SV_MLDSA_BAD_LENGTH;
    }
    /* mldsa-native checks digest_len against the hash and builds M' itself. */
    rc = impl->signature_pre_hash_internal(sig, &siglen, digest, digest_len, ctx, ctx_len, rnd, sk, prehash);
    return signed_status(rc, siglen, sig_len);
}

int sv_mldsa_verify_prehash(int level, const uint8_t *sig, size_t sig_len, const uint8_t *digest,
                            size_t digest_len, int prehash, const uint8_t *ctx, size_t ctx_len,
                            const uint8_t *pk, size_t pk_len) {
    int status = SV_MLDSA_BAD_LENGTH;
    const sv_mldsa_impl *impl = prepare(level, sig_len, pk_len, 0, &status);
    if (impl == NULL || ctx_len > SV_MLDSA_MAX_CONTEXT) {
        return impl == NULL ? status : SV_MLDSA_BAD_LENGTH;
    }
    return impl->verify_pre_hash_internal(sig, sig_len, digest, digest_len, ctx, ctx_len, pk, prehash) == 0
               ? SV_MLDSA_OK
               : SV_MLDSA_FAIL;
}

int sv_mldsa_pk_from_sk(int level, uint8_t *pk, size_t pk_len, const uint8_t *sk, size_t sk_len) {
    const sv_mldsa_params *p = params_for(level);
    const sv_mldsa_impl *impl = impl_for(level);
    if (impl == NULL) {
        return SV_MLDSA_UNSUPPORTED;
    }
    if (p == NULL || pk_len != p->pk_len || sk_len != p->sk_len) {
        return SV_MLDSA_BAD_LENGTH;
    }
    return impl->pk_from_sk(pk, sk) == 0 ? SV_MLDSA_OK : SV_MLDSA_FAIL;
}
