/* Athena syscalls for C test programs (numbers and registers as in spec/athena.md). */
#ifndef ATHENA_H
#define ATHENA_H
#include <stdint.h>
#include <stddef.h>

#define SYS_HALT 0x00
#define SYS_WRITE 0x02
#define SYS_HOST_READ 0xA0
#define SYS_HOST_WRITE 0xA1
#define SYS_HOST_CALL 0xA2
#define SYS_HOST_GETBALANCE 0xA3
#define SYS_HOST_SPAWN 0xA4
#define SYS_HOST_DEPLOY 0xA5
#define SYS_HOST_CONTEXT 0xA6
#define SYS_HINT_LEN 0xF0
#define SYS_HINT_READ 0xF1
#define SYS_ED25519_VERIFY 0x00640020

static inline void athena_halt(uint32_t code) {
    register uint32_t t0 __asm__("t0") = SYS_HALT;
    register uint32_t a0 __asm__("a0") = code;
    __asm__ volatile("ecall" : : "r"(t0), "r"(a0) : "memory");
    __builtin_unreachable();
}

static inline void athena_write(uint32_t fd, const void *buffer, size_t length) {
    register uint32_t t0 __asm__("t0") = SYS_WRITE;
    register uint32_t a0 __asm__("a0") = fd;
    register const void *a1 __asm__("a1") = buffer;
    register size_t a2 __asm__("a2") = length;
    __asm__ volatile("ecall" : "+r"(t0) : "r"(a0), "r"(a1), "r"(a2) : "memory");
}

static inline void athena_output(const void *buffer, size_t length) { athena_write(3, buffer, length); }

static inline uint32_t athena_input_length(void) {
    register uint32_t t0 __asm__("t0") = SYS_HINT_LEN;
    __asm__ volatile("ecall" : "+r"(t0) : : "memory");
    return t0;
}

static inline uint32_t athena_read_input(void *buffer, size_t length) {
    register uint32_t t0 __asm__("t0") = SYS_HINT_READ;
    register void *a0 __asm__("a0") = buffer;
    register size_t a1 __asm__("a1") = length;
    __asm__ volatile("ecall" : "+r"(t0) : "r"(a0), "r"(a1) : "memory");
    return t0;
}

static inline uint32_t athena_ed25519_verify(const void *message, size_t length, const void *public_key,
                                             const void *signature) {
    register uint32_t t0 __asm__("t0") = SYS_ED25519_VERIFY;
    register const void *a0 __asm__("a0") = message;
    register size_t a1 __asm__("a1") = length;
    register const void *a2 __asm__("a2") = public_key;
    register const void *a3 __asm__("a3") = signature;
    __asm__ volatile("ecall" : "+r"(t0) : "r"(a0), "r"(a1), "r"(a2), "r"(a3) : "memory");
    return t0;
}

static inline uint32_t athena_call(const uint8_t address[24], const void *input, size_t input_length,
                                   void *output, size_t output_capacity, const uint64_t *amount) {
    register uint32_t t0 __asm__("t0") = SYS_HOST_CALL;
    register const void *a0 __asm__("a0") = address;
    register const void *a1 __asm__("a1") = input;
    register size_t a2 __asm__("a2") = input_length;
    register void *a3 __asm__("a3") = output;
    register size_t a4 __asm__("a4") = output_capacity;
    register const void *a5 __asm__("a5") = amount;
    __asm__ volatile("ecall" : "+r"(t0) : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(a4), "r"(a5) : "memory");
    return t0;
}

static inline void athena_spawn(const void *blob, size_t length, uint32_t address_out[6]) {
    register uint32_t t0 __asm__("t0") = SYS_HOST_SPAWN;
    register const void *a0 __asm__("a0") = blob;
    register size_t a1 __asm__("a1") = length;
    register void *a2 __asm__("a2") = address_out;
    __asm__ volatile("ecall" : : "r"(t0), "r"(a0), "r"(a1), "r"(a2) : "memory");
}

static inline void athena_deploy(const void *code, size_t length, uint32_t address_out[6]) {
    register uint32_t t0 __asm__("t0") = SYS_HOST_DEPLOY;
    register const void *a0 __asm__("a0") = code;
    register size_t a1 __asm__("a1") = length;
    register void *a2 __asm__("a2") = address_out;
    __asm__ volatile("ecall" : : "r"(t0), "r"(a0), "r"(a1), "r"(a2) : "memory");
}

/* 80 bytes: received (u64), caller (24), caller template (24), callee (24). */
static inline void athena_context(uint32_t context_out[20]) {
    register uint32_t t0 __asm__("t0") = SYS_HOST_CONTEXT;
    register void *a0 __asm__("a0") = context_out;
    __asm__ volatile("ecall" : : "r"(t0), "r"(a0) : "memory");
}

static inline uint32_t athena_storage_write(const uint32_t key[8], const uint32_t value[8]) {
    register uint32_t t0 __asm__("t0") = SYS_HOST_WRITE;
    register const void *a0 __asm__("a0") = key;
    register const void *a1 __asm__("a1") = value;
    __asm__ volatile("ecall" : "+r"(t0) : "r"(a0), "r"(a1) : "memory");
    return t0;
}

static inline void athena_storage_read(uint32_t key_and_value[8]) {
    register uint32_t t0 __asm__("t0") = SYS_HOST_READ;
    register void *a0 __asm__("a0") = key_and_value;
    __asm__ volatile("ecall" : : "r"(t0), "r"(a0) : "memory");
}

/* List a function in .note.athena_export as athexp_<name>: packed {u8 0, u32 address, u32 name}. */
#define ATHENA_EXPORT(name)                                                                       \
    __asm__(".pushsection .rodata.athexp_names,\"a\"\n"                                           \
            "athexp_name_" #name ": .asciz \"athexp_" #name "\"\n"                                \
            ".popsection\n"                                                                       \
            ".pushsection .note.athena_export,\"a\"\n"                                            \
            ".byte 0\n.4byte athexp_" #name "\n.4byte athexp_name_" #name "\n"                    \
            ".popsection\n")

#endif
