/*
 * Small C helpers for the SecretumVault native core
 * (secretumvault/pqc/backends/_oqs.pyx).
 *
 * Everything here runs without the GIL and takes explicit lengths, in the
 * style of liboqs's own API. Nothing here allocates memory: secrets are
 * written only into buffers the caller owns (and wipes).
 */
#ifndef SECRETUMVAULT_SV_GLUE_H
#define SECRETUMVAULT_SV_GLUE_H

#include <stddef.h>
#include <stdint.h>

#include <oqs/oqs.h>

/*
 * FIPS 203, section 7.2 (modulus check): every 12-bit coefficient of the
 * first 384*k bytes of an encapsulation key must be below q = 3329.
 * Returns 1 if `ek` passes, 0 if not. `ek_len` is the full key length
 * (384*k + 32); the trailing 32 bytes are the public seed rho.
 */
int sv_mlkem_ek_is_canonical(const uint8_t *ek, size_t ek_len);

/*
 * Batch loops: one call, one GIL release, n liboqs operations.
 * Each writes one status per item into `status` and returns the number of
 * items that failed (0 when all succeeded).
 */
size_t sv_kem_encaps_batch(const OQS_KEM *kem, size_t n, uint8_t *const *ciphertexts,
                           uint8_t *const *shared_secrets, const uint8_t *const *public_keys,
                           OQS_STATUS *status);

size_t sv_kem_decaps_batch(const OQS_KEM *kem, size_t n, uint8_t *const *shared_secrets,
                           const uint8_t *const *ciphertexts, const uint8_t *secret_key,
                           OQS_STATUS *status);

size_t sv_sig_verify_batch(const OQS_SIG *sig, size_t n, const uint8_t *const *messages,
                           const size_t *message_lens, const uint8_t *const *signatures,
                           const size_t *signature_lens, const uint8_t *const *contexts,
                           const size_t *context_lens, const uint8_t *const *public_keys,
                           OQS_STATUS *status);

#endif /* SECRETUMVAULT_SV_GLUE_H */
