/*
 * Why: liboqs draws randomness with getentropy() where the C library has it
 * (glibc >= 2.25). The manylinux_2_17 wheels target glibc 2.17, where liboqs
 * falls back to fopen("/dev/urandom") on every call: a 4 KiB stdio read per
 * key or encapsulation (about 10 us, so ML-KEM keygen ran 2.5x slower), whose
 * buffer of random bytes is freed unwiped, and exit() if the device is missing.
 *
 * getrandom(2) is what getentropy() itself calls, and needs no buffer and no
 * file descriptor. /dev/urandom, read unbuffered, serves only kernels older
 * than 3.17 (ENOSYS). Failing to get randomness is fatal: liboqs's callback
 * cannot report an error, and returning without random bytes would be worse.
 */
#include "sv_random.h"

#include <oqs/oqs.h>

#if defined(__linux__)
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static void sv_urandom(uint8_t *out, size_t len) {
    int fd;
    do {
        fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        abort();
    }
    while (len > 0) {
        const ssize_t got = read(fd, out, len);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            abort();
        }
        out += got;
        len -= (size_t)got;
    }
    close(fd);
}

static void sv_randombytes(uint8_t *out, size_t len) {
    while (len > 0) {
        /* The syscall, not glibc's getrandom() wrapper, which glibc 2.17 lacks. */
        const long got = syscall(SYS_getrandom, out, len, 0);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0 && errno == ENOSYS) {
            sv_urandom(out, len);
            return;
        }
        if (got <= 0) {
            abort();
        }
        out += got;
        len -= (size_t)got;
    }
}

int sv_use_kernel_randomness(void) {
    OQS_randombytes_custom_algorithm(sv_randombytes);
    return 1;
}

#else

int sv_use_kernel_randomness(void) {
    return 0; /* liboqs's own source (BCryptGenRandom, arc4random, getentropy) */
}

#endif
