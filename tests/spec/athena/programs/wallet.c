/* A wallet template for Athena, in C: state = the owner's ed25519 public key (32 bytes).
 *
 * Methods (exported as athexp_<name>, arguments read from the input stream after the state):
 *   spawn(owner[32])                       -> spawns an account whose state is the owner key;
 *                                             output: the new account's 24-byte address
 *   spend(recipient[24], amount u64, signature[64])
 *                                          -> verifies the signature of recipient || amount with
 *                                             the owner key (ED25519 precompile), then sends
 *                                             `amount` to `recipient`; fails (halt 1) otherwise
 *   max_spend(recipient[24], amount u64)   -> output: amount as u64 little-endian
 * There is no nonce: replay protection is the host's business in this template.
 */
#include <stdint.h>
#include <string.h>

#include "athena.h"

struct spend_arguments {
    uint8_t recipient[24];
    uint64_t amount;
} __attribute__((packed));

static uint32_t owner[8];
static uint32_t arguments[8];
static uint32_t signature[16];

static void read_exact(void *buffer, size_t length) {
    if (athena_read_input(buffer, length) != length) athena_halt(2);
}

ATHENA_EXPORT(spawn);
void athexp_spawn(void) {
    uint32_t address[6];
    read_exact(owner, 32);
    athena_spawn(owner, 32, address);
    athena_output(address, 24);
}

ATHENA_EXPORT(spend);
void athexp_spend(void) {
    read_exact(owner, 32);
    read_exact(arguments, 32);
    read_exact(signature, 64);
    if (!athena_ed25519_verify(arguments, 32, owner, signature)) athena_halt(1);
    uint64_t amount;
    memcpy(&amount, (const uint8_t *)arguments + 24, 8);
    athena_call((const uint8_t *)arguments, 0, 0, 0, 0, &amount);
}

ATHENA_EXPORT(max_spend);
void athexp_max_spend(void) {
    read_exact(owner, 32);
    read_exact(arguments, 32);
    athena_output((const uint8_t *)arguments + 24, 8);
}

int main(void) {
    athena_halt(3); /* a template has no entry point of its own */
}
