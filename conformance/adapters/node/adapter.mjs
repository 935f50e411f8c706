#!/usr/bin/env node
// An example client adapter in JavaScript (Node.js 18+), written the way a client team writes one:
// an independent implementation of SCALE as go-spacemesh runs go-scale v1.2.1, from the format page
// (conformance/formats/handlers/scale-codec.md) and spec/scale.md, speaking the adapter protocol
// (conformance/formats/adapter.md). It answers every scale/codec/* case and "unsupported" for the rest.
//
// It follows the live network: like go-scale, it accepts any bytes in a string field, so it fails
// the one spec-strict SCALE case (scale/codec/string/decode_not_utf8) and passes every live one:
//
//   python3 run.py --client "node examples/adapter.mjs" --only scale
//
// Integers are BigInt throughout; JSON integers arrive as numbers (up to 2^53 - 1) or decimal strings.

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
// The adapter loop

function answer(request) {
  if (request.domain !== "scale" || request.runner !== "codec") return { unsupported: true };
  const { inputs } = request;
  const t = typeOf(inputs.type);
  try {
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
