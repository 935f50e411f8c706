/* Our own ISA conformance program for Athena (RV32EM, GCC + picolibc).
 *
 * Reads a u32 seed n from the input stream and writes, as little-endian words: a Fibonacci pair
 * modulo 7919, a CRC-32, a recursive Fibonacci, a table of 32-bit signed/unsigned division,
 * remainder and high multiplications, 64-bit products and quotients (libgcc), and an array sorted
 * with picolibc's qsort. The test computes the same values in Python with C semantics.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "athena.h"

static uint32_t out[512];
static unsigned used;

static void put(uint32_t value) { out[used++] = value; }

static uint32_t xorshift(uint32_t *state) {
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

static uint32_t crc32(const uint8_t *data, size_t length) {
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < length; i++) {
        crc ^= data[i];
        for (int bit = 0; bit < 8; bit++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
    }
    return ~crc;
}

static uint32_t fib_recursive(uint32_t n) { return n < 2 ? n : fib_recursive(n - 1) + fib_recursive(n - 2); }

static int compare(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

int main(void) {
    uint32_t n = 0;
    if (athena_input_length() >= 4) athena_read_input(&n, 4);

    uint32_t a = 0, b = 1;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t c = (a + b) % 7919;
        a = b;
        b = c;
    }
    put(a);
    put(b);

    uint8_t buffer[256];
    for (unsigned i = 0; i < sizeof buffer; i++) buffer[i] = (uint8_t)(i * 7 + n);
    put(crc32(buffer, sizeof buffer));
    put(fib_recursive(n % 16));

    uint32_t state = n * 2654435761u + 1;
    for (int i = 0; i < 16; i++) {
        int32_t x = (int32_t)xorshift(&state);
        int32_t y = (int32_t)(xorshift(&state) >> (i & 15));
        if (i == 0) y = 0;
        if (i == 1) { x = INT32_MIN; y = -1; }
        uint32_t ux = (uint32_t)x, uy = (uint32_t)y;
        put(y == 0 ? 0xFFFFFFFFu : (uint32_t)(x == INT32_MIN && y == -1 ? x : x / y));
        put(y == 0 ? (uint32_t)x : (uint32_t)(x == INT32_MIN && y == -1 ? 0 : x % y));
        put(uy == 0 ? 0xFFFFFFFFu : ux / uy);
        put(uy == 0 ? ux : ux % uy);
        put((uint32_t)(((int64_t)x * (int64_t)y) >> 32));
        put((uint32_t)(((uint64_t)ux * (uint64_t)uy) >> 32));
        put((uint32_t)(((int64_t)x * (int64_t)(uint64_t)uy) >> 32));
        uint64_t wide = ((uint64_t)ux << 32) | uy;
        uint64_t divisor = (uint64_t)(uy | 1) * 3u;
        uint64_t quotient = wide / divisor;
        put((uint32_t)quotient);
        put((uint32_t)(quotient >> 32));
        put((uint32_t)(wide % divisor));
    }

    int32_t values[64];
    for (int i = 0; i < 64; i++) values[i] = (int32_t)xorshift(&state);
    qsort(values, 64, sizeof values[0], compare);
    for (int i = 0; i < 64; i++) put((uint32_t)values[i]);

    char text[32];
    memcpy(text, "athena rv32em", 14);
    put((uint32_t)strlen(text));
    put((uint32_t)(memcmp(text, "athena", 6) == 0));

    athena_output(out, used * 4);
    return 0;
}
