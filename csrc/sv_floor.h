/*
 * The "C floor" for benchmarks: `iterations` back-to-back calls of one liboqs
 * operation from C, exactly as the bindings make them, timed with a
 * monotonic clock. Returns nanoseconds per call, or -1.0 if a call failed or
 * an argument is out of range (the Python side validates them first).
 * op: 0 keypair, 1 encaps, 2 decaps (KEM); 0 keypair, 1 sign, 2 verify (SIG).
 */
#ifndef SECRETUMVAULT_SV_FLOOR_H
#define SECRETUMVAULT_SV_FLOOR_H

#include <stddef.h>

#include <oqs/oqs.h>

double sv_floor_kem(const OQS_KEM *kem, int op, size_t iterations);
double sv_floor_sig(const OQS_SIG *sig, int op, size_t iterations, size_t message_len);

/* The mldsa-native paths of sv_mldsa.h; ops are listed in sv_floor.c. */
double sv_floor_mldsa(int level, size_t pk_len, size_t sk_len, size_t sig_len, int op, size_t iterations);

/* The SLH-DSA paths of sv_slhdsa.h: 0 keygen from seeds, 1 sign (hedged), 2 verify, 3 deterministic sign. */
double sv_floor_slhdsa(int set, int op, size_t iterations);

#endif /* SECRETUMVAULT_SV_FLOOR_H */
