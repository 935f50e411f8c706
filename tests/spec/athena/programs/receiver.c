/* A test template for the host's dispatch of plain transfers (spec/athena.md, "Calls between
 * accounts"): it exports receive, which the host runs when a call carries no selector and no
 * input, and adds each amount received to a running total in storage slot 0.
 *
 *   receive(&self)   state: 8 bytes (ignored); storage[0] += received; output: the new total (u64)
 *   refuse(&self)    fails (halt 4), for calls that must not succeed
 */
#include <stdint.h>

#include "athena.h"

static uint32_t context[20];
static uint32_t slot[8];
static uint32_t value[8];
static uint32_t state[2];

ATHENA_EXPORT(receive);
void athexp_receive(void) {
    athena_read_input(state, 8);
    athena_context(context);
    for (int i = 0; i < 8; i++) slot[i] = 0;
    athena_storage_read(slot); /* key 0; the value comes back in place */
    uint64_t total = ((uint64_t)slot[1] << 32 | slot[0]) + ((uint64_t)context[1] << 32 | context[0]);
    for (int i = 0; i < 8; i++) value[i] = 0;
    value[0] = (uint32_t)total;
    value[1] = (uint32_t)(total >> 32);
    for (int i = 0; i < 8; i++) slot[i] = 0;
    athena_storage_write(slot, value);
    athena_output(value, 8);
}

ATHENA_EXPORT(refuse);
void athexp_refuse(void) {
    athena_halt(4);
}

int main(void) {
    athena_halt(3);
}
