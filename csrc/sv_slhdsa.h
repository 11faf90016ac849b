/*
 * FIPS 205 (SLH-DSA) through the entry points of slhdsa-c, the SLH-DSA
 * implementation inside liboqs 0.16+: liboqs's OQS_SIG API offers neither key
 * generation from the seed components (slh_keygen_internal), deterministic
 * signing, nor HashSLH-DSA over a digest the caller computed.
 *
 * Parameter sets are numbered 0..11 in the order of SV_SLHDSA_NAMES below
 * (the order of secretumvault.pqc.params.SLH_DSA_NAMES). Every function
 * takes explicit buffer lengths, checks them, and returns SV_SLHDSA_OK or a
 * negative status. None allocates memory except sv_slhdsa_check_sk (stack
 * only) and none needs the GIL.
 *
 * SV_HAVE_SLHDSA_C is set by CMakeLists.txt when the linked liboqs exports
 * these entry points; without it every function returns
 * SV_SLHDSA_UNSUPPORTED and sv_slhdsa_available() returns 0.
 */
#ifndef SECRETUMVAULT_SV_SLHDSA_H
#define SECRETUMVAULT_SV_SLHDSA_H

#include <stddef.h>
#include <stdint.h>

#define SV_SLHDSA_SETS 12
#define SV_SLHDSA_MAX_N 32
#define SV_SLHDSA_MAX_CONTEXT 255

enum sv_slhdsa_status {
    SV_SLHDSA_OK = 0,
    SV_SLHDSA_FAIL = -1,        /* the operation failed (for verify: the signature does not verify) */
    SV_SLHDSA_BAD_LENGTH = -2,  /* a buffer length or parameter set is wrong */
    SV_SLHDSA_UNSUPPORTED = -3, /* this liboqs does not export slhdsa-c's entry points */
};

/* 1 if the entry points were found when the extension was built, else 0. */
int sv_slhdsa_available(void);

/* n, and the FIPS 205 sizes of the parameter set; 0 for an unknown set. */
size_t sv_slhdsa_n(int set);
size_t sv_slhdsa_pk_len(int set);
size_t sv_slhdsa_sk_len(int set);
size_t sv_slhdsa_sig_len(int set);

/* slh_keygen_internal(SK.seed, SK.prf, PK.seed) (FIPS 205 Algorithm 18); seed = the three, 3n bytes. */
int sv_slhdsa_keypair_from_seed(int set, uint8_t *pk, size_t pk_len, uint8_t *sk, size_t sk_len,
                                const uint8_t *seed, size_t seed_len);

/*
 * 1 if the secret key's PK.root is the root its SK.seed and PK.seed give
 * (recomputed: as long as a key generation), 0 if not or on a bad length.
 */
int sv_slhdsa_sk_consistent(int set, const uint8_t *sk, size_t sk_len);

/*
 * slh_sign_internal(M', SK, addrnd) (Algorithm 19) on a message the caller
 * has already formatted (M' = 0 || len(ctx) || ctx || M, or HashSLH-DSA's
 * 1 || len(ctx) || ctx || OID || PH(M)). addrnd NULL (addrnd_len 0) is the
 * deterministic variant (opt_rand = PK.seed); otherwise n bytes.
 */
int sv_slhdsa_sign_internal(int set, uint8_t *sig, size_t sig_len, const uint8_t *message, size_t message_len,
                            const uint8_t *addrnd, size_t addrnd_len, const uint8_t *sk, size_t sk_len);

/* slh_verify_internal(M', SIG, PK) (Algorithm 20). */
int sv_slhdsa_verify_internal(int set, const uint8_t *sig, size_t sig_len, const uint8_t *message,
                              size_t message_len, const uint8_t *pk, size_t pk_len);

/* slh_sign (Algorithm 22): pure SLH-DSA with a context string, without copying the message. */
int sv_slhdsa_sign(int set, uint8_t *sig, size_t sig_len, const uint8_t *message, size_t message_len,
                   const uint8_t *ctx, size_t ctx_len, const uint8_t *addrnd, size_t addrnd_len,
                   const uint8_t *sk, size_t sk_len);

/* slh_verify (Algorithm 24). */
int sv_slhdsa_verify(int set, const uint8_t *sig, size_t sig_len, const uint8_t *message, size_t message_len,
                     const uint8_t *ctx, size_t ctx_len, const uint8_t *pk, size_t pk_len);

/* Pure verification of n items under one parameter set; status[i] = SV_SLHDSA_OK or a failure. */
void sv_slhdsa_verify_batch(int set, size_t n, const uint8_t **messages, const size_t *message_lens,
                            const uint8_t **signatures, const size_t *signature_lens, const uint8_t **contexts,
                            const size_t *context_lens, const uint8_t **public_keys, size_t pk_len, int *status);

#endif /* SECRETUMVAULT_SV_SLHDSA_H */
