#include "sv_base64.h"

static const char sv_alphabet[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t sv_base64_encoded_length(size_t len) {
    return (len / 3 + (len % 3 != 0)) * 4;
}

void sv_base64_encode(char *out, const uint8_t *in, size_t len) {
    size_t i = 0;
    for (; len - i >= 3; i += 3) {
        const uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[0] = sv_alphabet[v >> 18];
        out[1] = sv_alphabet[(v >> 12) & 63];
        out[2] = sv_alphabet[(v >> 6) & 63];
        out[3] = sv_alphabet[v & 63];
        out += 4;
    }
    if (len - i == 1) {
        const uint32_t v = (uint32_t)in[i] << 16;
        out[0] = sv_alphabet[v >> 18];
        out[1] = sv_alphabet[(v >> 12) & 63];
        out[2] = '=';
        out[3] = '=';
    } else if (len - i == 2) {
        const uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[0] = sv_alphabet[v >> 18];
        out[1] = sv_alphabet[(v >> 12) & 63];
        out[2] = sv_alphabet[(v >> 6) & 63];
        out[3] = '=';
    }
}
