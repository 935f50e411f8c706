/*
 * PoST labels on OpenCL: scrypt-jane as spacemesh builds it (spec/post.md, "scrypt-jane").
 *
 *   password = commitment[32] || u64_le(index) || 0[32]      (72 bytes = one Keccak block)
 *   B        = PBKDF2-HMAC-Keccak512(password, "", 1, 128)
 *   X        = ROMix_N(B) with BlockMix(ChaCha20/8), r = p = 1
 *   out      = PBKDF2-HMAC-Keccak512(password, X, 1, 32)
 *
 * One work item computes one label. Because the password is exactly one Keccak-512 block
 * (rate 72 bytes), the HMAC inner and outer keys are each one absorbed block: their sponge
 * states are computed once per label and reused by the three HMACs.
 *
 * Keccak here is the original submission: padding byte 0x01 (not SHA-3's 0x06), last byte of
 * the block ORed with 0x80.
 *
 * The ROMix table t is interleaved with the others for coalesced access on GPUs: uint4 number z
 * (0..7) of entry i lives at scratch[(i * 8 + z) * tables + t], where `tables` (an argument) is
 * the launch's label count rounded up to whole work items. With the build option
 * -DCONTIGUOUS_SCRATCH (CPUs) each table is contiguous instead, scratch[(t * n + i) * 8 + z],
 * which keeps an entry in two cache lines. The host may pad the global size to a multiple of the
 * work-group size: work items past `count` return at once and touch no table.
 *
 * LABELS_PER_ITEM (build option, 1, 2 or 4) labels share one work item: their ChaCha rows are
 * packed side by side into uint4 / uint8 / uint16 vectors, so one vector instruction advances all
 * of them (on CPUs with AVX2 / AVX-512 this is what makes pocl fast). Each label keeps its own
 * ROMix table: label l of item g uses table number g * LABELS_PER_ITEM + l.
 *
 * Kernels:
 *   scrypt_labels(commitment[8 words LE], start, count, n, tables, scratch, out[32 bytes per label])
 *   vrf_scan(outputs, count, difficulty[32 bytes], below[1 byte per item])
 */

/* slot z (0..7) of entry i of ROMix table t */
#ifdef CONTIGUOUS_SCRATCH
#define SLOT(i, z, t, tables) (((ulong)(t) * n + (i)) * 8 + (z))
#else
#define SLOT(i, z, t, tables) (((ulong)(i) * 8 + (z)) * (tables) + (t))
#endif

#ifndef LABELS_PER_ITEM
#define LABELS_PER_ITEM 1
#endif
#if LABELS_PER_ITEM == 1
typedef uint4 vec;
#define ROW_LEFT1(v) (v).yzwx
#define ROW_LEFT2(v) (v).zwxy
#define ROW_LEFT3(v) (v).wxyz
#elif LABELS_PER_ITEM == 2
typedef uint8 vec;
#define ROW_LEFT1(v) (v).s12305674
#define ROW_LEFT2(v) (v).s23016745
#define ROW_LEFT3(v) (v).s30127456
#elif LABELS_PER_ITEM == 4
typedef uint16 vec;
#define ROW_LEFT1(v) (v).s123056749ab8defc
#define ROW_LEFT2(v) (v).s23016745ab89efcd
#define ROW_LEFT3(v) (v).s30127456b89afcde
#else
#error "LABELS_PER_ITEM must be 1, 2 or 4"
#endif

/* one vector = the same row of every label of the work item */
typedef union {
    vec v;
    uint4 row[LABELS_PER_ITEM];
} rows;

__constant ulong KECCAK_RC[24] = {
    0x0000000000000001UL, 0x0000000000008082UL, 0x800000000000808AUL, 0x8000000080008000UL,
    0x000000000000808BUL, 0x0000000080000001UL, 0x8000000080008081UL, 0x8000000000008009UL,
    0x000000000000008AUL, 0x0000000000000088UL, 0x0000000080008009UL, 0x000000008000000AUL,
    0x000000008000808BUL, 0x800000000000008BUL, 0x8000000000008089UL, 0x8000000000008003UL,
    0x8000000000008002UL, 0x8000000000000080UL, 0x000000000000800AUL, 0x800000008000000AUL,
    0x8000000080008081UL, 0x8000000000008080UL, 0x0000000080000001UL, 0x8000000080008008UL};

/* rotation offset of lane x + 5y */
__constant uint KECCAK_RHO[25] = {0,  1,  62, 28, 27, 36, 44, 6,  55, 20, 3,  10, 43,
                                  25, 39, 41, 45, 15, 21, 8,  18, 2,  61, 56, 14};

static void keccak_f(ulong a[25]) {
    ulong b[25];
    ulong c[5];
    for (int round = 0; round < 24; round++) {
        /* theta */
        for (int x = 0; x < 5; x++)
            c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
        for (int x = 0; x < 5; x++) {
            ulong d = c[(x + 4) % 5] ^ rotate(c[(x + 1) % 5], (ulong)1);
            for (int y = 0; y < 25; y += 5)
                a[x + y] ^= d;
        }
        /* rho and pi: B[y, 2x + 3y] = rot(A[x, y]) */
        for (int x = 0; x < 5; x++)
            for (int y = 0; y < 5; y++)
                b[y + 5 * ((2 * x + 3 * y) % 5)] = rotate(a[x + 5 * y], (ulong)KECCAK_RHO[x + 5 * y]);
        /* chi */
        for (int y = 0; y < 25; y += 5)
            for (int x = 0; x < 5; x++)
                a[x + y] = b[x + y] ^ (~b[(x + 1) % 5 + y] & b[(x + 2) % 5 + y]);
        /* iota */
        a[0] ^= KECCAK_RC[round];
    }
}

/* absorb one full 72-byte block (9 lanes) */
static void absorb(ulong state[25], const ulong block[9]) {
    for (int i = 0; i < 9; i++)
        state[i] ^= block[i];
    keccak_f(state);
}

/* HMAC outer step: state_outer (after the key block) absorbs the 64-byte inner digest + pad */
static void hmac_finish(const ulong outer[25], const ulong inner_state[25], ulong digest[8]) {
    ulong state[25];
    for (int i = 0; i < 25; i++)
        state[i] = outer[i];
    for (int i = 0; i < 8; i++)
        state[i] ^= inner_state[i];
    state[8] ^= 0x01UL | (0x80UL << 56);
    keccak_f(state);
    for (int i = 0; i < 8; i++)
        digest[i] = state[i];
}

/*
 * ChaCha20/8 core on one 64-byte block per label, held as four row vectors (words 0-3, 4-7,
 * 8-11, 12-15 of each label): the column round works on whole rows; the diagonal round first
 * rotates rows b, c, d left by one, two and three words so that diagonals line up as columns,
 * then rotates them back. The feed-forward adds the input.
 */
static inline void chacha8(vec *block) {
    vec a = block[0], b = block[1], c = block[2], d = block[3];
    for (int round = 0; round < 4; round++) {
        a += b; d = rotate(d ^ a, (vec)16); c += d; b = rotate(b ^ c, (vec)12);
        a += b; d = rotate(d ^ a, (vec)8);  c += d; b = rotate(b ^ c, (vec)7);
        b = ROW_LEFT1(b); c = ROW_LEFT2(c); d = ROW_LEFT3(d);
        a += b; d = rotate(d ^ a, (vec)16); c += d; b = rotate(b ^ c, (vec)12);
        a += b; d = rotate(d ^ a, (vec)8);  c += d; b = rotate(b ^ c, (vec)7);
        b = ROW_LEFT3(b); c = ROW_LEFT2(c); d = ROW_LEFT1(d);
    }
    block[0] += a; block[1] += b; block[2] += c; block[3] += d;
}

/* BlockMix, r = 1, on x[0..3] = B0 and x[4..7] = B1: Y0 = H(B1 ^ B0), Y1 = H(Y0 ^ B1) */
static inline void block_mix(vec x[8]) {
    for (int i = 0; i < 4; i++)
        x[i] ^= x[i + 4];
    chacha8(x);
    for (int i = 0; i < 4; i++)
        x[i + 4] ^= x[i];
    chacha8(x + 4);
}

/* the sponge states after absorbing the HMAC key block xor ipad / xor opad */
static void hmac_keys(__constant const uint *commitment, ulong index, ulong inner[25], ulong outer[25]) {
    ulong key[9], block[9];
    for (int i = 0; i < 4; i++)
        key[i] = (ulong)commitment[2 * i] | ((ulong)commitment[2 * i + 1] << 32);
    key[4] = index;
    for (int i = 5; i < 9; i++)
        key[i] = 0;
    for (int i = 0; i < 25; i++)
        inner[i] = outer[i] = 0;
    for (int i = 0; i < 9; i++)
        block[i] = key[i] ^ 0x3636363636363636UL;
    absorb(inner, block);
    for (int i = 0; i < 9; i++)
        block[i] = key[i] ^ 0x5C5C5C5C5C5C5C5CUL;
    absorb(outer, block);
}

/* B = HMAC(pw, u32_be(1)) || HMAC(pw, u32_be(2)), as 8 rows of 4 words */
static void pbkdf2_first(const ulong inner[25], const ulong outer[25], uint4 b[8]) {
    for (uint j = 1; j <= 2; j++) {
        ulong state[25], digest[8];
        for (int i = 0; i < 25; i++)
            state[i] = inner[i];
        state[0] ^= ((ulong)j << 24) | (0x01UL << 32);
        state[8] ^= 0x80UL << 56;
        keccak_f(state);
        hmac_finish(outer, state, digest);
        for (int i = 0; i < 4; i++)
            b[4 * (j - 1) + i] = (uint4)((uint)digest[2 * i], (uint)(digest[2 * i] >> 32),
                                         (uint)digest[2 * i + 1], (uint)(digest[2 * i + 1] >> 32));
    }
}

/* out = HMAC(pw, X || u32_be(1))[0:32]: the message is 132 bytes, two blocks */
static void pbkdf2_last(const ulong inner[25], const ulong outer[25], const uint4 x[8], __global uint *out) {
    ulong state[25], lanes[16], block[9], digest[8];
    for (int i = 0; i < 25; i++)
        state[i] = inner[i];
    for (int i = 0; i < 8; i++) {
        lanes[2 * i] = (ulong)x[i].x | ((ulong)x[i].y << 32);
        lanes[2 * i + 1] = (ulong)x[i].z | ((ulong)x[i].w << 32);
    }
    for (int i = 0; i < 9; i++)
        block[i] = lanes[i];
    absorb(state, block);
    for (int i = 0; i < 7; i++)
        block[i] = lanes[9 + i];
    block[7] = (0x01UL << 24) | (0x01UL << 32);
    block[8] = 0x80UL << 56;
    absorb(state, block);
    hmac_finish(outer, state, digest);
    for (int i = 0; i < 4; i++) {
        out[2 * i] = (uint)digest[i];
        out[2 * i + 1] = (uint)(digest[i] >> 32);
    }
}

__kernel void scrypt_labels(__constant const uint *commitment, const ulong start, const uint count,
                            const uint n, const uint tables, __global uint4 *scratch, __global uint *out) {
    const uint gid = get_global_id(0);
    if (gid * LABELS_PER_ITEM >= count)
        return;

    rows x[8];
    for (int l = 0; l < LABELS_PER_ITEM; l++) {
        ulong inner[25], outer[25];
        uint4 b[8];
        hmac_keys(commitment, start + gid * LABELS_PER_ITEM + l, inner, outer);
        pbkdf2_first(inner, outer, b);
        for (int z = 0; z < 8; z++)
            x[z].row[l] = b[z];
    }

    /* ROMix: fill the tables, then mix in the entry each label's integerify picks */
    for (uint i = 0; i < n; i++) {
        for (int l = 0; l < LABELS_PER_ITEM; l++)
            for (int z = 0; z < 8; z++)
                scratch[SLOT(i, z, gid * LABELS_PER_ITEM + l, tables)] = x[z].row[l];
        block_mix((vec *)x);
    }
    for (uint i = 0; i < n; i++) {
        for (int l = 0; l < LABELS_PER_ITEM; l++) {
            const uint j = x[4].row[l].x & (n - 1);
            for (int z = 0; z < 8; z++)
                x[z].row[l] ^= scratch[SLOT(j, z, gid * LABELS_PER_ITEM + l, tables)];
        }
        block_mix((vec *)x);
    }

    for (int l = 0; l < LABELS_PER_ITEM; l++) {
        const uint label = gid * LABELS_PER_ITEM + l;
        if (label >= count)
            break;
        ulong inner[25], outer[25];
        uint4 b[8];
        hmac_keys(commitment, start + label, inner, outer);
        for (int z = 0; z < 8; z++)
            b[z] = x[z].row[l];
        pbkdf2_last(inner, outer, b, out + 8 * label);
    }
}

/* below[g] = 1 when the 32-byte output g is strictly below difficulty (big-endian compare);
 * work items past count (a padded global size) do nothing */
__kernel void vrf_scan(__global const uchar *outputs, const uint count, __constant const uchar *difficulty,
                       __global uchar *below) {
    const uint gid = get_global_id(0);
    if (gid >= count)
        return;
    uchar result = 0;
    for (int i = 0; i < 32; i++) {
        uchar a = outputs[32 * gid + i];
        uchar b = difficulty[i];
        if (a != b) {
            result = a < b;
            break;
        }
    }
    below[gid] = result;
}
