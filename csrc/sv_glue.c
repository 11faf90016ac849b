#include "sv_glue.h"

#define MLKEM_Q 3329u

int sv_mlkem_ek_is_canonical(const uint8_t *ek, size_t ek_len) {
    if (ek_len < 32 || (ek_len - 32) % 384 != 0) {
        return 0;
    }
    const size_t poly_bytes = ek_len - 32;
    /* ByteDecode_12: three bytes carry two little-endian 12-bit values. */
    for (size_t i = 0; i < poly_bytes; i += 3) {
        const uint16_t a = (uint16_t)(ek[i] | ((uint16_t)(ek[i + 1] & 0x0f) << 8));
        const uint16_t b = (uint16_t)((ek[i + 1] >> 4) | ((uint16_t)ek[i + 2] << 4));
        if (a >= MLKEM_Q || b >= MLKEM_Q) {
            return 0;
        }
    }
    return 1;
}

size_t sv_kem_encaps_batch(const OQS_KEM *kem, size_t n, uint8_t *const *ciphertexts,
                           uint8_t *const *shared_secrets, const uint8_t *const *public_keys,
                           OQS_STATUS *status) {
    size_t failures = 0;
    for (size_t i = 0; i < n; i++) {
        status[i] = OQS_KEM_encaps(kem, ciphertexts[i], shared_secrets[i], public_keys[i]);
        failures += (status[i] != OQS_SUCCESS);
    }
    return failures;
}

size_t sv_kem_decaps_batch(const OQS_KEM *kem, size_t n, uint8_t *const *shared_secrets,
                           const uint8_t *const *ciphertexts, const uint8_t *secret_key,
                           OQS_STATUS *status) {
    size_t failures = 0;
    for (size_t i = 0; i < n; i++) {
        status[i] = OQS_KEM_decaps(kem, shared_secrets[i], ciphertexts[i], secret_key);
        failures += (status[i] != OQS_SUCCESS);
    }
    return failures;
}

size_t sv_sig_verify_batch(const OQS_SIG *sig, size_t n, const uint8_t *const *messages,
                           const size_t *message_lens, const uint8_t *const *signatures,
                           const size_t *signature_lens, const uint8_t *const *contexts,
                           const size_t *context_lens, const uint8_t *const *public_keys,
                           OQS_STATUS *status) {
    size_t failures = 0;
    for (size_t i = 0; i < n; i++) {
        status[i] = OQS_SIG_verify_with_ctx_str(sig, messages[i], message_lens[i], signatures[i],
                                                signature_lens[i], contexts[i], context_lens[i],
                                                public_keys[i]);
        failures += (status[i] != OQS_SUCCESS);
    }
    return failures;
}
