#!/usr/bin/env node
// An example client adapter in JavaScript (Node.js 18+), written the way a client team writes one:
// an independent implementation of SCALE as go-spacemesh runs go-scale v1.2.1, from the format page
// (conformance/formats/handlers/scale-codec.md) and spec/scale.md, speaking the adapter protocol
// (conformance/formats/adapter.md). It answers every scale/codec/* case and every
// crypto/signature/* case, and "unsupported" for the rest.
//
// It follows the live network: like go-scale, it accepts any bytes in a string field, so it fails
// the one spec-strict SCALE case (scale/codec/string/decode_not_utf8) and passes every live one:
//
//   python3 run.py --client "node examples/adapter.mjs" --only scale --only crypto/signature
//
// Signatures: RFC 8032 signing is deterministic, so Node's own Ed25519 (OpenSSL) signs. Verifying is
// another matter: go-spacemesh verifies with curve25519-voi's rules (crypto-signature-ed25519_verify.md:
// canonical A not of small order, S < L, canonical R of any order, the cofactored equation), which
// OpenSSL does not follow on crafted signatures. So verification is done here with BigInt curve
// arithmetic (RFC 8032 section 5.1); run with SMSPEC_NODE_VERIFY=openssl to see which vectors the
// platform's verifier gets wrong.
//
// Integers are BigInt throughout; JSON integers arrive as numbers (up to 2^53 - 1) or decimal strings.

import { createHash, createPrivateKey, createPublicKey, sign as platformSign, verify as platformVerify } from "node:crypto";
import { createInterface } from "node:readline";

const MAX_NESTED = 6;
const SIMPLE = {
  compact8: { kind: "compact", bits: 8 }, compact16: { kind: "compact", bits: 16 },
  compact32: { kind: "compact", bits: 32 }, compact64: { kind: "compact", bits: 64 },
  uint16: { kind: "uint", bits: 16 }, uint32: { kind: "uint", bits: 32 }, uint64: { kind: "uint", bits: 64 },
  bool: { kind: "bool" },
};

class Rejected extends Error {
  constructor(error, reason) {
    super(`${error}: ${reason}`);
    this.error = error;
    this.reason = reason;
  }
}
const invalidValue = (reason) => new Rejected("InvalidValue", reason);
const invalidEncoding = (reason) => new Rejected("InvalidEncoding", reason);

// ---------------------------------------------------------------------------------------------
// Type descriptions (the format page's TypeDescription)

function typeOf(description) {
  if (typeof description === "string") {
    const simple = SIMPLE[description];
    if (!simple) throw new Error(`unknown type ${description}`);
    return simple;
  }
  if ("bytes" in description) return { kind: "bytes", size: Number(description.bytes) };
  if ("byte_slice" in description) return { kind: "byte_slice", max: Number(description.byte_slice) };
  if ("string" in description) return { kind: "string", max: Number(description.string) };
  if ("slice" in description) return { kind: "slice", element: typeOf(description.slice), max: Number(description.max) };
  if ("array" in description) return { kind: "array", element: typeOf(description.array), length: Number(description.length) };
  if ("option" in description) return { kind: "option", element: typeOf(description.option) };
  if ("struct" in description) {
    return { kind: "struct", fields: description.struct.map(([name, field]) => [name, typeOf(field)]) };
  }
  throw new Error(`unknown type description ${JSON.stringify(description)}`);
}

// go-scale handles byte arrays, arrays and structs as "objects": slices, arrays and options of
// them open one nesting level. Compact integers in slices and options do not.
const isObject = (t) => t.kind === "bytes" || t.kind === "array" || t.kind === "struct";

function enterNested(depth, reject) {
  if (depth >= MAX_NESTED) throw reject("nested_too_deep");
  return depth + 1;
}

// ---------------------------------------------------------------------------------------------
// Encoding

function compactBytes(value, bits) {
  if (value < 0n || value >= 1n << BigInt(bits)) throw invalidValue("out_of_range");
  if (value < 1n << 6n) return [Number(value << 2n)];
  if (value < 1n << 14n) return littleEndian((value << 2n) | 1n, 2);
  if (value < 1n << 30n) return littleEndian((value << 2n) | 2n, 4);
  let length = 0;
  for (let v = value; v > 0n; v >>= 8n) length += 1;
  return [((length - 4) << 2) | 3, ...littleEndian(value, length)];
}

function littleEndian(value, length) {
  const out = [];
  for (let i = 0; i < length; i += 1) out.push(Number((value >> BigInt(8 * i)) & 0xffn));
  return out;
}

function lengthPrefix(length, max) {
  if (length > max) throw invalidValue("length_over_max");
  return compactBytes(BigInt(length), 32);
}

// JSON of the wrong kind for a type (a boolean for an integer, a number for bytes ...) is refused
// with InvalidValue wrong_type, as the spec's encoder does.
function integer(value) {
  if (typeof value === "number" && Number.isInteger(value)) return BigInt(value);
  if (typeof value === "string" && /^-?(0|[1-9][0-9]*)$/.test(value)) return BigInt(value);
  throw invalidValue("wrong_type");
}

function expect(ok) {
  if (!ok) throw invalidValue("wrong_type");
}

function encode(value, t, depth) {
  switch (t.kind) {
    case "compact": return compactBytes(integer(value), t.bits);
    case "uint": {
      const v = integer(value);
      if (v < 0n || v >= 1n << BigInt(t.bits)) throw invalidValue("out_of_range");
      return littleEndian(v, t.bits / 8);
    }
    case "bool": expect(typeof value === "boolean"); return [value ? 1 : 0];
    case "bytes": {
      expect(typeof value === "string");
      const data = fromHex(value);
      if (data.length !== t.size) throw invalidValue("wrong_length");
      return [...data];
    }
    case "byte_slice": {
      expect(typeof value === "string");
      const data = fromHex(value);
      return [...lengthPrefix(data.length, t.max), ...data];
    }
    case "string": {
      expect(typeof value === "string");
      if (!value.isWellFormed()) throw invalidValue("invalid_utf8"); // a lone surrogate has no UTF-8 form
      const data = new TextEncoder().encode(value);
      return [...lengthPrefix(data.length, t.max), ...data];
    }
    case "slice": {
      const inner = isObject(t.element) ? enterNested(depth, invalidValue) : depth;
      expect(Array.isArray(value));
      const out = lengthPrefix(value.length, t.max);
      for (const element of value) out.push(...encode(element, t.element, inner));
      return out;
    }
    case "array": {
      const inner = enterNested(depth, invalidValue);
      expect(Array.isArray(value));
      if (value.length !== t.length) throw invalidValue("wrong_length");
      return value.flatMap((element) => encode(element, t.element, inner));
    }
    case "option": {
      const inner = isObject(t.element) ? enterNested(depth, invalidValue) : depth;
      return value === null ? [0] : [1, ...encode(value, t.element, inner)];
    }
    case "struct":
      expect(value !== null && typeof value === "object" && !Array.isArray(value));
      return t.fields.flatMap(([name, field]) => encode(value[name], field, depth));
    default: throw new Error(`cannot encode ${t.kind}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding (go-scale's order of checks)

class Reader {
  constructor(data) { this.data = data; this.offset = 0; }
  take(count) {
    if (this.offset + count > this.data.length) throw invalidEncoding("short_input");
    const out = this.data.subarray(this.offset, this.offset + count);
    this.offset += count;
    return out;
  }
}

function readLittleEndian(bytes) {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i -= 1) value = (value << 8n) | BigInt(bytes[i]);
  return value;
}

function decodeCompact(reader, bits) {
  const first = reader.take(1)[0];
  const mode = first & 3;
  const limit = 1n << BigInt(bits);
  if (mode === 0) return BigInt(first >> 2);
  if (mode === 1) {
    const value = readLittleEndian([first, reader.take(1)[0]]) >> 2n;
    if (value < 1n << 6n) throw invalidEncoding("non_canonical_compact");
    if (value >= limit) throw invalidEncoding("compact_overflow");
    return value;
  }
  if (mode === 2) {
    if (bits === 8) throw invalidEncoding("compact_overflow"); // checked before reading further
    const value = readLittleEndian([first, ...reader.take(3)]) >> 2n;
    if (value < 1n << 14n) throw invalidEncoding("non_canonical_compact");
    if (value >= limit) throw invalidEncoding("compact_overflow");
    return value;
  }
  if (bits <= 16) throw invalidEncoding("compact_overflow");
  const count = (first >> 2) + 4;
  if (count > bits / 8) throw invalidEncoding("compact_overflow"); // before any value byte is read
  const value = readLittleEndian(reader.take(count)); // go-scale: extra zero high bytes are accepted
  if (value < 1n << 30n) throw invalidEncoding("non_canonical_compact");
  return value;
}

function decodeLength(reader, max) {
  const length = decodeCompact(reader, 32);
  if (length > BigInt(max)) throw invalidEncoding("length_over_max");
  return Number(length);
}

function decode(reader, t, depth) {
  switch (t.kind) {
    case "compact": return decodeCompact(reader, t.bits);
    case "uint": return readLittleEndian(reader.take(t.bits / 8));
    case "bool": return reader.take(1)[0] === 1; // go-scale: any other byte is false
    case "bytes": return reader.take(t.size);
    case "byte_slice": return reader.take(decodeLength(reader, t.max));
    case "string": {
      const bytes = reader.take(decodeLength(reader, t.max));
      return new TextDecoder("utf-8", { fatal: false }).decode(bytes); // go-scale accepts any bytes
    }
    case "slice": {
      const inner = isObject(t.element) ? enterNested(depth, invalidEncoding) : depth;
      const length = decodeLength(reader, t.max);
      const out = [];
      for (let i = 0; i < length; i += 1) out.push(decode(reader, t.element, inner));
      return out;
    }
    case "array": {
      const inner = enterNested(depth, invalidEncoding);
      const out = [];
      for (let i = 0; i < t.length; i += 1) out.push(decode(reader, t.element, inner));
      return out;
    }
    case "option": {
      const inner = isObject(t.element) ? enterNested(depth, invalidEncoding) : depth;
      if (reader.take(1)[0] !== 1) return null; // go-scale: any tag but 01 is "absent"
      return decode(reader, t.element, inner);
    }
    case "struct": {
      const out = {};
      for (const [name, field] of t.fields) out[name] = decode(reader, field, depth);
      return out;
    }
    default: throw new Error(`cannot decode ${t.kind}`);
  }
}

// ---------------------------------------------------------------------------------------------
// JSON forms

function fromHex(text) {
  if (typeof text !== "string" || !text.startsWith("0x")) throw new Error(`not hex: ${text}`);
  return Uint8Array.from(Buffer.from(text.slice(2), "hex"));
}
const toHex = (bytes) => "0x" + Buffer.from(bytes).toString("hex");

function toJson(value) {
  if (typeof value === "bigint") return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
  if (value instanceof Uint8Array) return toHex(value);
  if (Array.isArray(value)) return value.map(toJson);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJson(v)]));
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Ed25519 (crypto/signature/*)

const P = (1n << 255n) - 19n;
const L = (1n << 252n) + 27742317777372353535851937790883648493n;
const mod = (a) => ((a % P) + P) % P;
function power(base, exponent) {
  let result = 1n;
  base = mod(base);
  for (; exponent > 0n; exponent >>= 1n) {
    if (exponent & 1n) result = (result * base) % P;
    base = (base * base) % P;
  }
  return result;
}
const inverse = (a) => power(a, P - 2n);
const D = mod(-121665n * inverse(121666n));
const SQRT_MINUS_ONE = power(2n, (P - 1n) / 4n);
const IDENTITY = [0n, 1n, 1n, 0n]; // extended coordinates X, Y, Z, T

function add(p, q) { // RFC 8032 section 5.1.4, complete on edwards25519 (it also doubles)
  const a = mod((p[1] - p[0]) * (q[1] - q[0]));
  const b = mod((p[1] + p[0]) * (q[1] + q[0]));
  const c = mod(2n * p[3] * q[3] * D);
  const d = mod(2n * p[2] * q[2]);
  const [e, f, g, h] = [b - a, d - c, d + c, b + a];
  return [mod(e * f), mod(g * h), mod(f * g), mod(e * h)];
}
function multiply(scalar, point) {
  let result = IDENTITY;
  for (let addend = point; scalar > 0n; scalar >>= 1n, addend = add(addend, addend)) {
    if (scalar & 1n) result = add(result, addend);
  }
  return result;
}
const negate = ([x, y, z, t]) => [mod(-x), y, z, mod(-t)];
const isIdentity = ([x, y, z]) => mod(x) === 0n && mod(y - z) === 0n;
const isSmallOrder = (point) => isIdentity(multiply(8n, point));

function decodePoint(bytes) { // RFC 8032 section 5.1.3: canonical encodings only, else null
  const encoded = readLittleEndian(bytes);
  const sign = encoded >> 255n;
  const y = encoded & ((1n << 255n) - 1n);
  if (y >= P) return null;
  const ratio = mod((y * y - 1n) * inverse(D * y * y + 1n));
  let x = power(ratio, (P + 3n) / 8n);
  if (mod(x * x - ratio) !== 0n) x = mod(x * SQRT_MINUS_ONE);
  if (mod(x * x - ratio) !== 0n) return null;
  if (x === 0n && sign === 1n) return null;
  if ((x & 1n) !== sign) x = P - x;
  return [x, y, 1n, mod(x * y)];
}
const BASE = decodePoint(littleEndian(mod(4n * inverse(5n)), 32));
const sha512 = (...parts) => readLittleEndian(createHash("sha512").update(Buffer.concat(parts)).digest());

function voiVerify(publicKey, message, signature) { // curve25519-voi's VerifyOptionsDefault
  const a = decodePoint(publicKey);
  if (a === null || isSmallOrder(a)) return false;
  const s = readLittleEndian(signature.subarray(32));
  if (s >= L) return false;
  const r = decodePoint(signature.subarray(0, 32));
  if (r === null) return false;
  const k = sha512(signature.subarray(0, 32), publicKey, message) % L;
  return isSmallOrder(add(multiply(s, BASE), negate(add(multiply(k, a), r)))); // cofactored
}

function opensslVerify(publicKey, message, signature) { // what Node offers out of the box
  const key = createPublicKey({ key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), publicKey]),
    format: "der", type: "spki" });
  try {
    return platformVerify(null, message, key, signature);
  } catch {
    return false;
  }
}

function ed25519Sign(seed, message) {
  const key = createPrivateKey({ key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]),
    format: "der", type: "pkcs8" });
  const publicKey = createPublicKey(key).export({ format: "der", type: "spki" }).subarray(-32);
  return { public_key: toHex(publicKey), signature: toHex(platformSign(null, message, key)) };
}

const VERIFY = process.env.SMSPEC_NODE_VERIFY === "openssl" ? opensslVerify : voiVerify;
const DOMAINS = new Set([0, 1, 2, 3, 4, 5, 10, 11]); // ATX ... BEACON_FOLLOWUP_MSG (go-spacemesh signing)

function sized(hex, size) {
  const data = fromHex(hex);
  if (data.length !== size) throw invalidValue("bad_length");
  return data;
}

function signedBytes(inputs) { // genesis ID, domain byte, message
  if (!Number.isInteger(inputs.domain) || !DOMAINS.has(inputs.domain)) throw invalidValue("unknown_domain");
  return Buffer.concat([fromHex(inputs.genesis_id), Buffer.from([inputs.domain]), fromHex(inputs.message)]);
}

function signature(handler, inputs) {
  switch (handler) {
    case "ed25519_sign": return ed25519Sign(sized(inputs.seed, 32), fromHex(inputs.message));
    case "sign": {
      const message = signedBytes(inputs); // an unknown domain is refused before any length
      return ed25519Sign(sized(inputs.seed, 32), message);
    }
    case "ed25519_verify":
    case "verify": {
      const message = handler === "verify" ? signedBytes(inputs) : fromHex(inputs.message);
      const publicKey = sized(inputs.public_key, 32);
      return { valid: VERIFY(publicKey, message, sized(inputs.signature, 64)) };
    }
    default: return null;
  }
}

// ---------------------------------------------------------------------------------------------
// The adapter loop

function answer(request) {
  const { inputs } = request;
  try {
    if (request.domain === "crypto" && request.runner === "signature") {
      const output = signature(request.handler, inputs);
      return output === null ? { unsupported: true } : { output };
    }
    if (request.domain !== "scale" || request.runner !== "codec") return { unsupported: true };
    const t = typeOf(inputs.type);
    if ("value" in inputs) return { output: { encoded: toHex(Uint8Array.from(encode(inputs.value, t, 0))) } };
    const reader = new Reader(fromHex(inputs.encoded));
    const value = decode(reader, t, 0);
    if (reader.offset !== reader.data.length) throw invalidEncoding("trailing_bytes");
    return { output: { value: toJson(value) } };
  } catch (e) {
    if (e instanceof Rejected) return { error: e.error, reason: e.reason };
    throw e;
  }
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (!line.trim()) continue;
  const request = JSON.parse(line);
  let reply;
  try {
    reply = answer(request);
  } catch (e) {
    process.stderr.write(`adapter: case ${request.case}: ${e.message}\n`);
    reply = { unsupported: true };
  }
  process.stdout.write(JSON.stringify({ id: request.id, ...reply }) + "\n");
}
