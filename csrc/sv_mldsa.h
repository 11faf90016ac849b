/*
 * FIPS 204 operations that liboqs's public API leaves out, through the
 * entry points of mldsa-native (the ML-DSA implementation inside liboqs):
 * key generation from the seed xi, signing with an explicit rnd
 * (deterministic signing: rnd = 32 zero bytes), external mu, HashML-DSA,
 * and the public key recomputed from an expanded secret key.
 *
 * Every function takes the parameter set (44, 65 or 87) and explicit buffer
 * lengths, checks them, and returns SV_MLDSA_OK or a negative status. None
 * allocates memory; none needs the GIL. The CPU dispatch (AVX2 or plain C)
 * is the one liboqs makes for its own ML-DSA calls.
 *
 * SV_HAVE_MLDSA_NATIVE is set by CMakeLists.txt when the linked liboqs
 * exports these entry points; without it every function returns
 * SV_MLDSA_UNSUPPORTED and sv_mldsa_available() returns 0.
 */
#ifndef SECRETUMVAULT_SV_MLDSA_H
#define SECRETUMVAULT_SV_MLDSA_H

#include <stddef.h>
#include <stdint.h>

#define SV_MLDSA_SEED_BYTES 32 /* xi */
#define SV_MLDSA_RND_BYTES 32  /* rnd */
#define SV_MLDSA_MU_BYTES 64   /* mu */
#define SV_MLDSA_MAX_CONTEXT 255

enum sv_mldsa_status {
    SV_MLDSA_OK = 0,
    SV_MLDSA_FAIL = -1,        /* the operation failed (for verify: the signature does not verify) */
    SV_MLDSA_BAD_LENGTH = -2,  /* a buffer length or parameter set is wrong */
    SV_MLDSA_UNSUPPORTED = -3, /* this liboqs does not export mldsa-native's entry points */
};

/* HashML-DSA pre-hash functions, numbered as mldsa-native numbers them (MLD_PREHASH_*). */
enum sv_mldsa_prehash {
    SV_MLDSA_SHA2_256 = 2,
    SV_MLDSA_SHA2_384 = 3,
    SV_MLDSA_SHA2_512 = 4,
    SV_MLDSA_SHA3_256 = 8,
    SV_MLDSA_SHA3_384 = 9,
    SV_MLDSA_SHA3_512 = 10,
    SV_MLDSA_SHAKE_128 = 11,
    SV_MLDSA_SHAKE_256 = 12,
};

/* 1 if the entry points were found when the extension was built, else 0. */
int sv_mldsa_available(void);

/* ML-DSA.KeyGen_internal(xi) (FIPS 204 Algorithm 6). */
int sv_mldsa_keypair_from_seed(int level, uint8_t *pk, size_t pk_len, uint8_t *sk, size_t sk_len,
                               const uint8_t *seed, size_t seed_len);

/* ML-DSA.Sign (Algorithm 2) with an explicit rnd: M' = 0 || len(ctx) || ctx || message. */
int sv_mldsa_sign(int level, uint8_t *sig, size_t sig_len, const uint8_t *message, size_t message_len,
                  const uint8_t *ctx, size_t ctx_len, const uint8_t *rnd, size_t rnd_len,
                  const uint8_t *sk, size_t sk_len);

/* ML-DSA.Sign_internal from a precomputed mu = H(tr || M', 64) ("external mu"). */
int sv_mldsa_sign_mu(int level, uint8_t *sig, size_t sig_len, const uint8_t *mu, size_t mu_len,
                     const uint8_t *rnd, size_t rnd_len, const uint8_t *sk, size_t sk_len);

/* ML-DSA.Verify_internal from a precomputed mu. */
int sv_mldsa_verify_mu(int level, const uint8_t *sig, size_t sig_len, const uint8_t *mu, size_t mu_len,
                       const uint8_t *pk, size_t pk_len);

/* HashML-DSA.Sign (Algorithm 4): M' = 1 || len(ctx) || ctx || OID(hash) || digest. */
int sv_mldsa_sign_prehash(int level, uint8_t *sig, size_t sig_len, const uint8_t *digest, size_t digest_len,
                          int prehash, const uint8_t *ctx, size_t ctx_len, const uint8_t *rnd, size_t rnd_len,
                          const uint8_t *sk, size_t sk_len);

/* HashML-DSA.Verify (Algorithm 5). */
int sv_mldsa_verify_prehash(int level, const uint8_t *sig, size_t sig_len, const uint8_t *digest,
                            size_t digest_len, int prehash, const uint8_t *ctx, size_t ctx_len,
                            const uint8_t *pk, size_t pk_len);

/*
 * FIPS 204 skDecode range check: 1 if every coefficient of s1 and s2 in the
 * expanded secret key lies in [-eta, eta], else 0. Needs no mldsa-native.
 */
int sv_mldsa_sk_in_range(int level, const uint8_t *sk, size_t sk_len);

/*
 * The public key recomputed from an expanded secret key. Fails
 * (SV_MLDSA_FAIL) unless s1/s2 are in range, t0 matches and tr equals
 * H(pk): the parts of the key are consistent.
 */
int sv_mldsa_pk_from_sk(int level, uint8_t *pk, size_t pk_len, const uint8_t *sk, size_t sk_len);

#endif /* SECRETUMVAULT_SV_MLDSA_H */
