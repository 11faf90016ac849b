/*
 * Randomness for liboqs straight from the kernel (Linux), for the native core
 * (secretumvault/pqc/backends/_oqs.pyx).
 */
#ifndef SECRETUMVAULT_SV_RANDOM_H
#define SECRETUMVAULT_SV_RANDOM_H

/*
 * Point liboqs's OQS_randombytes at getrandom(2). Returns 1 where that is
 * done (Linux), 0 where liboqs keeps its own source. Call once, after
 * OQS_init() and before any key is made.
 */
int sv_use_kernel_randomness(void);

#endif /* SECRETUMVAULT_SV_RANDOM_H */
