/*
 * Standard, padded base64 (RFC 4648, section 4) for transit's
 * "vault:v<N>:<base64>" strings (secretumvault/transit/_vault_string.py).
 *
 * Why it exists: CPython's binascii encodes bit by bit (about 17 instructions
 * a byte), which was a quarter of a transit ML-KEM-768 encryption of 1 KiB
 * (a 2,129-byte body) and kept it above its budget line of 1.6x its floor
 * (issue 24). This one encodes three bytes at a time from a 64-entry table.
 * It never touches secrets: only ciphertexts, signatures and MACs.
 */
#ifndef SECRETUMVAULT_SV_BASE64_H
#define SECRETUMVAULT_SV_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Characters sv_base64_encode writes for `len` input bytes: 4 * ceil(len / 3). */
size_t sv_base64_encoded_length(size_t len);

/*
 * Writes sv_base64_encoded_length(len) characters of base64 of `in` to `out`
 * (no terminator, no newline). `out` must have room for them.
 */
void sv_base64_encode(char *out, const uint8_t *in, size_t len);

#endif
