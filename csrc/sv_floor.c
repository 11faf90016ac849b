/*
 * The "C floor" for `secretumvault bench`: the same liboqs calls the bindings
 * make, looped in C. A binding can at best match it.
 *
 * These loops allocate key buffers, so they hold secrets for the length of a
 * loop; every secret buffer is wiped with OQS_MEM_cleanse before it is freed.
 */
#include "sv_floor.h"
#include "sv_mldsa.h"
#include "sv_slhdsa.h"

#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#include <windows.h>
#else
#include <time.h>
#endif

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

/*
 * The mldsa-native paths (sv_mldsa.h) looped the way the bindings call them,
 * hedged where the binding's default is hedged (rnd from OQS_randombytes).
 * op: 0 keygen from a seed, 1 deterministic sign, 2 sign_mu, 3 verify_mu,
 * 4 sign_prehashed (SHA-512 digest), 5 verify_prehashed, 6 loading an
 * expanded secret key (range check and pk_from_sk).
 */
double sv_floor_mldsa(int level, size_t pk_len, size_t sk_len, size_t sig_len, int op, size_t iterations) {
    double result = -1.0;
    uint8_t *pk = malloc(pk_len);
    uint8_t *pk2 = malloc(pk_len);
    uint8_t *sk = malloc(sk_len);
    uint8_t *sig_mu = malloc(sig_len);
    uint8_t *sig_ph = malloc(sig_len);
    uint8_t *out = malloc(sig_len);
    uint8_t seed[SV_MLDSA_SEED_BYTES] = {0}, rnd[SV_MLDSA_RND_BYTES] = {0}, mu[SV_MLDSA_MU_BYTES] = {0};
    uint8_t digest[64] = {0}, message[32] = {0};
    double start;
    int rc = SV_MLDSA_OK;

    if (!pk || !pk2 || !sk || !sig_mu || !sig_ph || !out || iterations == 0 || op < 0 || op > 6) {
        goto done;
    }
    if (sv_mldsa_keypair_from_seed(level, pk, pk_len, sk, sk_len, seed, sizeof seed) != SV_MLDSA_OK ||
        sv_mldsa_sign_mu(level, sig_mu, sig_len, mu, sizeof mu, rnd, sizeof rnd, sk, sk_len) != SV_MLDSA_OK ||
        sv_mldsa_sign_prehash(level, sig_ph, sig_len, digest, sizeof digest, SV_MLDSA_SHA2_512, NULL, 0, rnd,
                              sizeof rnd, sk, sk_len) != SV_MLDSA_OK) {
        goto done;
    }
    start = now_ns();
    for (size_t i = 0; i < iterations && rc == SV_MLDSA_OK; i++) {
        switch (op) {
        case 0: rc = sv_mldsa_keypair_from_seed(level, pk2, pk_len, sk, sk_len, seed, sizeof seed); break;
        case 1:
            rc = sv_mldsa_sign(level, out, sig_len, message, sizeof message, NULL, 0, rnd, sizeof rnd, sk, sk_len);
            break;
        case 2:
            OQS_randombytes(rnd, sizeof rnd);
            rc = sv_mldsa_sign_mu(level, out, sig_len, mu, sizeof mu, rnd, sizeof rnd, sk, sk_len);
            break;
        case 3: rc = sv_mldsa_verify_mu(level, sig_mu, sig_len, mu, sizeof mu, pk, pk_len); break;
        case 4:
            OQS_randombytes(rnd, sizeof rnd);
            rc = sv_mldsa_sign_prehash(level, out, sig_len, digest, sizeof digest, SV_MLDSA_SHA2_512, NULL, 0, rnd,
                                       sizeof rnd, sk, sk_len);
            break;
        case 5:
            rc = sv_mldsa_verify_prehash(level, sig_ph, sig_len, digest, sizeof digest, SV_MLDSA_SHA2_512, NULL, 0,
                                         pk, pk_len);
            break;
        default:
            rc = sv_mldsa_sk_in_range(level, sk, sk_len) ? sv_mldsa_pk_from_sk(level, pk2, pk_len, sk, sk_len)
                                                          : SV_MLDSA_FAIL;
            break;
        }
    }
    if (rc == SV_MLDSA_OK) {
        result = (now_ns() - start) / (double)iterations;
    }
done:
    if (sk) {
        OQS_MEM_cleanse(sk, sk_len);
    }
    OQS_MEM_cleanse(seed, sizeof seed);
    OQS_MEM_cleanse(rnd, sizeof rnd);
    free(pk);
    free(pk2);
    free(sk);
    free(sig_mu);
    free(sig_ph);
    free(out);
    return result;
}

/*
 * The slhdsa-c paths (sv_slhdsa.h) looped the way the bindings call them:
 * pure SLH-DSA over a 32-byte message with an empty context, hedged signing
 * drawing addrnd from OQS_randombytes as SigSecretKey.sign does.
 */
double sv_floor_slhdsa(int set, int op, size_t iterations) {
    double result = -1.0;
    const size_t n = sv_slhdsa_n(set), pk_len = sv_slhdsa_pk_len(set), sk_len = sv_slhdsa_sk_len(set);
    const size_t sig_len = sv_slhdsa_sig_len(set);
    uint8_t *sig = sig_len ? malloc(sig_len) : NULL;
    uint8_t *out = sig_len ? malloc(sig_len) : NULL;
    uint8_t pk[2 * SV_SLHDSA_MAX_N], pk2[2 * SV_SLHDSA_MAX_N], sk[4 * SV_SLHDSA_MAX_N];
    uint8_t seed[3 * SV_SLHDSA_MAX_N] = {0}, addrnd[SV_SLHDSA_MAX_N] = {0}, message[32] = {0};
    double start;
    int rc = SV_SLHDSA_OK;

    if (!sig || !out || iterations == 0 || op < 0 || op > 3) {
        goto done;
    }
    if (sv_slhdsa_keypair_from_seed(set, pk, pk_len, sk, sk_len, seed, 3 * n) != SV_SLHDSA_OK ||
        sv_slhdsa_sign(set, sig, sig_len, message, sizeof message, NULL, 0, NULL, 0, sk, sk_len) != SV_SLHDSA_OK) {
        goto done;
    }
    start = now_ns();
    for (size_t i = 0; i < iterations && rc == SV_SLHDSA_OK; i++) {
        switch (op) {
        case 0: rc = sv_slhdsa_keypair_from_seed(set, pk2, pk_len, sk, sk_len, seed, 3 * n); break;
        case 1:
            OQS_randombytes(addrnd, n);
            rc = sv_slhdsa_sign(set, out, sig_len, message, sizeof message, NULL, 0, addrnd, n, sk, sk_len);
            break;
        case 2: rc = sv_slhdsa_verify(set, sig, sig_len, message, sizeof message, NULL, 0, pk, pk_len); break;
        default: rc = sv_slhdsa_sign(set, out, sig_len, message, sizeof message, NULL, 0, NULL, 0, sk, sk_len); break;
        }
    }
    if (rc == SV_SLHDSA_OK) {
        result = (now_ns() - start) / (double)iterations;
    }
done:
    OQS_MEM_cleanse(sk, sizeof sk);
    OQS_MEM_cleanse(seed, sizeof seed);
    OQS_MEM_cleanse(addrnd, sizeof addrnd);
    free(sig);
    free(out);
    return result;
}
