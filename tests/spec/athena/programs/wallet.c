/* A wallet template for Athena, in C: state = the owner's ed25519 public key (32 bytes).
 *
 * The methods of Athena's wallet interface (athenavm/athena vm/sdk/src/wallet.rs), re-expressed
 * here with our own code. Each is exported as athexp_<name>; the input stream holds the state (for
 * methods on the wallet) and then the SCALE-encoded arguments; the SCALE-encoded result goes to
 * the output (spec/athena.md, "Payloads and method selectors"):
 *
 *   spawn(owner: [u8; 32]) -> Address                       static; spawns an account of this
 *                                                           template whose state is `owner`
 *   spend(&self, SpendArguments { recipient: [u8; 24], amount: u64 })
 *                                                           sends `amount` to `recipient`
 *   proxy(&self, ProxyArguments { destination: [u8; 24], method: Option<[u8; 4]>,
 *                                 args: Option<Vec<u8>>, amount: u64 }) -> Vec<u8>
 *                                                           calls `destination` with Payload
 *                                                           { method, args or [] } and `amount`;
 *                                                           returns its output (up to 1024 bytes)
 *   deploy(&self, code: Vec<u8>) -> Address                 deploys a template
 *   max_spend(&self, SpendArguments) -> u64                 the amount a spend may move
 *   verify(&self, tx: Vec<u8>, signature: [u8; 64]) -> bool whether the owner signed `tx`
 *                                                           (ED25519 precompile); 1 byte out
 *   receive(&self)                                          accepts a plain transfer (the host
 *                                                           runs it for a call without selector
 *                                                           and input; spec/athena.md dispatch)
 *
 * spend, proxy and deploy move value or code: they run only as the wallet's own transaction,
 * that is when the caller is the wallet itself (HOST_CONTEXT caller == callee), which the host
 * authenticates with verify before it runs the transaction. Another account that calls them
 * (through its own proxy) gets FAILURE: halt code 1. Malformed SCALE arguments halt with code 2.
 * main halts with code 3: a template has no entry point of its own.
 */
#include <stdint.h>
#include <string.h>

#include "athena.h"

#define MAX_BYTES 65536 /* the longest argument a syscall may take (MAX_SYSCALL_BUFFER) */
#define PROXY_OUTPUT 1024 /* the output a proxied call may return, as Athena's SDK call() */

enum { NOT_ALLOWED = 1, MALFORMED = 2, NO_ENTRY_POINT = 3 };

static uint32_t owner[8];
static uint32_t spend_arguments[8]; /* recipient (24 bytes) then amount (u64 little-endian) */
static uint32_t signature[16];
static uint32_t destination[6];
static uint32_t amount[2];
static uint32_t address[6];
static uint32_t context[20];
static uint32_t call_output[PROXY_OUTPUT / 4];
static uint32_t buffer[(MAX_BYTES + 16) / 4]; /* a Vec argument, or the payload of a proxied call */
static uint8_t result[PROXY_OUTPUT + 5];

static void read_exact(void *destination_buffer, size_t length) {
    /* HINT_READ fails the whole call (INSUFFICIENT_INPUT) when fewer bytes are left. */
    athena_read_input(destination_buffer, length);
}

static uint8_t read_byte(void) {
    uint32_t word = 0;
    read_exact(&word, 1);
    return (uint8_t)word;
}

/* A canonical SCALE compact u32 (parity-scale-codec rejects non-minimal encodings). */
static uint32_t read_compact(void) {
    uint8_t first = read_byte();
    uint32_t value;
    switch (first & 3) {
    case 0:
        return first >> 2;
    case 1:
        value = (first | ((uint32_t)read_byte() << 8)) >> 2;
        if (value < 64) athena_halt(MALFORMED);
        return value;
    case 2:
        value = first;
        for (int i = 1; i < 4; i++) value |= (uint32_t)read_byte() << (8 * i);
        value >>= 2;
        if (value < (1u << 14)) athena_halt(MALFORMED);
        return value;
    default:
        if (first >> 2 != 0) athena_halt(MALFORMED); /* wider than a u32 */
        value = 0;
        for (int i = 0; i < 4; i++) value |= (uint32_t)read_byte() << (8 * i);
        if (value < (1u << 30)) athena_halt(MALFORMED);
        return value;
    }
}

static size_t write_compact(uint8_t *out, uint32_t value) {
    if (value < 64) {
        out[0] = (uint8_t)(value << 2);
        return 1;
    }
    if (value < (1u << 14)) {
        uint32_t encoded = (value << 2) | 1;
        out[0] = (uint8_t)encoded;
        out[1] = (uint8_t)(encoded >> 8);
        return 2;
    }
    if (value < (1u << 30)) {
        uint32_t encoded = (value << 2) | 2;
        for (int i = 0; i < 4; i++) out[i] = (uint8_t)(encoded >> (8 * i));
        return 4;
    }
    out[0] = 3;
    for (int i = 0; i < 4; i++) out[1 + i] = (uint8_t)(value >> (8 * i));
    return 5;
}

/* Reads a Vec<u8> into `destination_buffer`; returns its length. */
static uint32_t read_vec(uint8_t *destination_buffer) {
    uint32_t length = read_compact();
    if (length > MAX_BYTES) athena_halt(MALFORMED);
    read_exact(destination_buffer, length);
    return length;
}

static void read_owner(void) { read_exact(owner, 32); }

/* Methods that move value or code run only as the wallet's own transaction. */
static void require_own_transaction(void) {
    athena_context(context);
    /* bytes 8..31: caller; bytes 56..79: callee */
    if (memcmp((const uint8_t *)context + 8, (const uint8_t *)context + 56, 24) != 0) athena_halt(NOT_ALLOWED);
}

ATHENA_EXPORT(spawn);
void athexp_spawn(void) {
    read_owner();
    athena_spawn(owner, 32, address);
    athena_output(address, 24);
}

ATHENA_EXPORT(spend);
void athexp_spend(void) {
    read_owner();
    read_exact(spend_arguments, 32);
    require_own_transaction();
    amount[0] = spend_arguments[6];
    amount[1] = spend_arguments[7];
    /* Payload { selector: None, input: [] }: a plain transfer (Athena's SDK call sends these 2 bytes). */
    static const uint32_t transfer_payload = 0;
    athena_call((const uint8_t *)spend_arguments, &transfer_payload, 2, 0, 0, (const uint64_t *)amount);
}

ATHENA_EXPORT(proxy);
void athexp_proxy(void) {
    uint8_t *payload = (uint8_t *)buffer;
    size_t length = 0;
    read_owner();
    read_exact(destination, 24);
    uint8_t has_method = read_byte();
    if (has_method > 1) athena_halt(MALFORMED);
    payload[length++] = has_method;
    if (has_method) {
        read_exact(payload + length, 4);
        length += 4;
    }
    uint8_t has_args = read_byte();
    if (has_args > 1) athena_halt(MALFORMED);
    if (has_args) {
        uint32_t args_length = read_compact();
        if (args_length > MAX_BYTES) athena_halt(MALFORMED);
        length += write_compact(payload + length, args_length);
        read_exact(payload + length, args_length);
        length += args_length;
    } else {
        payload[length++] = 0; /* args: None is sent as an empty input */
    }
    read_exact(amount, 8);
    require_own_transaction();
    uint32_t copied = athena_call((const uint8_t *)destination, payload, length, call_output, PROXY_OUTPUT,
                                  (const uint64_t *)amount);
    size_t prefix = write_compact(result, copied);
    memcpy(result + prefix, call_output, copied);
    athena_output(result, prefix + copied);
}

ATHENA_EXPORT(deploy);
void athexp_deploy(void) {
    read_owner();
    uint32_t length = read_vec((uint8_t *)buffer);
    require_own_transaction();
    athena_deploy(buffer, length, address);
    athena_output(address, 24);
}

ATHENA_EXPORT(max_spend);
void athexp_max_spend(void) {
    read_owner();
    read_exact(spend_arguments, 32);
    athena_output((const uint8_t *)spend_arguments + 24, 8);
}

ATHENA_EXPORT(verify);
void athexp_verify(void) {
    read_owner();
    uint32_t length = read_vec((uint8_t *)buffer);
    read_exact(signature, 64);
    uint8_t valid = athena_ed25519_verify(buffer, length, owner, signature) ? 1 : 0;
    athena_output(&valid, 1);
}

ATHENA_EXPORT(receive);
void athexp_receive(void) {
    read_owner(); /* the state, as for every method on the wallet; the value is already credited */
}

int main(void) {
    athena_halt(NO_ENTRY_POINT);
}
