#include "sv_glue.h"

#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#include <windows.h>
#else
#include <time.h>
#endif

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

/* Monotonic clock in nanoseconds. */
static double now_ns(void) {
#ifdef _WIN32
    LARGE_INTEGER counter, frequency;
    QueryPerformanceCounter(&counter);
    QueryPerformanceFrequency(&frequency);
    return (double)counter.QuadPart * 1e9 / (double)frequency.QuadPart;
#else
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
#endif
}

double sv_floor_kem(const OQS_KEM *kem, int op, size_t iterations) {
    double result = -1.0;
    uint8_t *pk = malloc(kem->length_public_key);
    uint8_t *sk = malloc(kem->length_secret_key);
    uint8_t *ct = malloc(kem->length_ciphertext);
    uint8_t *ss = malloc(kem->length_shared_secret);
    double start;
    OQS_STATUS rc = OQS_SUCCESS;

    if (!pk || !sk || !ct || !ss || iterations == 0) {
        goto done;
    }
    if (OQS_KEM_keypair(kem, pk, sk) != OQS_SUCCESS ||
        OQS_KEM_encaps(kem, ct, ss, pk) != OQS_SUCCESS) {
        goto done;
    }
    start = now_ns();
    for (size_t i = 0; i < iterations && rc == OQS_SUCCESS; i++) {
        switch (op) {
        case 0: rc = OQS_KEM_keypair(kem, pk, sk); break;
        case 1: rc = OQS_KEM_encaps(kem, ct, ss, pk); break;
        case 2: rc = OQS_KEM_decaps(kem, ss, ct, sk); break;
        default: rc = OQS_ERROR; break;
        }
    }
    if (rc == OQS_SUCCESS) {
        result = (now_ns() - start) / (double)iterations;
    }
done:
    if (sk) {
        OQS_MEM_cleanse(sk, kem->length_secret_key);
    }
    if (ss) {
        OQS_MEM_cleanse(ss, kem->length_shared_secret);
    }
    free(pk);
    free(sk);
    free(ct);
    free(ss);
    return result;
}

double sv_floor_sig(const OQS_SIG *sig, int op, size_t iterations, size_t message_len) {
    double result = -1.0;
    uint8_t *pk = malloc(sig->length_public_key);
    uint8_t *sk = malloc(sig->length_secret_key);
    uint8_t *sm = malloc(sig->length_signature);
    uint8_t *msg = calloc(message_len ? message_len : 1, 1);
    size_t sm_len = 0;
    double start;
    OQS_STATUS rc = OQS_SUCCESS;

    if (!pk || !sk || !sm || !msg || iterations == 0) {
        goto done;
    }
    if (OQS_SIG_keypair(sig, pk, sk) != OQS_SUCCESS ||
        OQS_SIG_sign_with_ctx_str(sig, sm, &sm_len, msg, message_len, NULL, 0, sk) != OQS_SUCCESS) {
        goto done;
    }
    start = now_ns();
    for (size_t i = 0; i < iterations && rc == OQS_SUCCESS; i++) {
        switch (op) {
        case 0: rc = OQS_SIG_keypair(sig, pk, sk); break;
        case 1: rc = OQS_SIG_sign_with_ctx_str(sig, sm, &sm_len, msg, message_len, NULL, 0, sk); break;
        case 2: rc = OQS_SIG_verify_with_ctx_str(sig, msg, message_len, sm, sm_len, NULL, 0, pk); break;
        default: rc = OQS_ERROR; break;
        }
    }
    if (rc == OQS_SUCCESS) {
        result = (now_ns() - start) / (double)iterations;
    }
done:
    if (sk) {
        OQS_MEM_cleanse(sk, sig->length_secret_key);
    }
    free(pk);
    free(sk);
    free(sm);
    free(msg);
    return result;
}
