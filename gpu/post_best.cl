/* Scores of best-labels PoST (spec/post_best.md, label_score): AES-128 of each 16-byte label
 * under one per-identity key, the first 8 ciphertext bytes read as a big-endian u64.
 *
 * One work item per label. The host expands the key once per chunk (44 big-endian round-key
 * words) and uploads the encryption table Te0 (FIPS-197 SubBytes and MixColumns of one column
 * combined: Te0[x] = 2S(x) . S(x) . S(x) . 3S(x), bytes from the most significant). The other
 * three tables are byte rotations of Te0, and S(x) is byte 1 of Te0[x], so 1 KiB of constant
 * memory serves the whole cipher. State words are the block's columns read big-endian.
 */

#define B0(x) ((x) >> 24)
#define B1(x) (((x) >> 16) & 0xffu)
#define B2(x) (((x) >> 8) & 0xffu)
#define B3(x) ((x) & 0xffu)
#define ROTR(x, n) rotate((uint)(x), (uint)(32 - (n)))
#define SBOX(te, x) (((te)[x] >> 8) & 0xffu)

inline uint load_be32(__global const uchar *p) {
    return ((uint)p[0] << 24) | ((uint)p[1] << 16) | ((uint)p[2] << 8) | (uint)p[3];
}

__kernel void score_labels(__global const uchar *labels,
                           __constant const uint *round_keys,
                           __constant const uint *te0,
                           __global ulong *scores,
                           const ulong count) {
    size_t gid = get_global_id(0);
    if (gid >= count) return;
    __global const uchar *in = labels + 16 * gid;
    uint s0 = load_be32(in) ^ round_keys[0];
    uint s1 = load_be32(in + 4) ^ round_keys[1];
    uint s2 = load_be32(in + 8) ^ round_keys[2];
    uint s3 = load_be32(in + 12) ^ round_keys[3];
    for (int round = 1; round < 10; round++) {
        __constant const uint *rk = round_keys + 4 * round;
        uint t0 = te0[B0(s0)] ^ ROTR(te0[B1(s1)], 8) ^ ROTR(te0[B2(s2)], 16) ^ ROTR(te0[B3(s3)], 24) ^ rk[0];
        uint t1 = te0[B0(s1)] ^ ROTR(te0[B1(s2)], 8) ^ ROTR(te0[B2(s3)], 16) ^ ROTR(te0[B3(s0)], 24) ^ rk[1];
        uint t2 = te0[B0(s2)] ^ ROTR(te0[B1(s3)], 8) ^ ROTR(te0[B2(s0)], 16) ^ ROTR(te0[B3(s1)], 24) ^ rk[2];
        uint t3 = te0[B0(s3)] ^ ROTR(te0[B1(s0)], 8) ^ ROTR(te0[B2(s1)], 16) ^ ROTR(te0[B3(s2)], 24) ^ rk[3];
        s0 = t0; s1 = t1; s2 = t2; s3 = t3;
    }
    /* Last round: SubBytes and ShiftRows only; the score needs the first two columns. */
    uint out0 = (SBOX(te0, B0(s0)) << 24) ^ (SBOX(te0, B1(s1)) << 16) ^ (SBOX(te0, B2(s2)) << 8) ^ SBOX(te0, B3(s3)) ^ round_keys[40];
    uint out1 = (SBOX(te0, B0(s1)) << 24) ^ (SBOX(te0, B1(s2)) << 16) ^ (SBOX(te0, B2(s3)) << 8) ^ SBOX(te0, B3(s0)) ^ round_keys[41];
    scores[gid] = ((ulong)out0 << 32) | (ulong)out1;
}
