import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { TSchema } from '@sinclair/typebox';
import {
  BINARY_HEADER_SCHEMAS,
  REQUEST_SCHEMAS,
  type BinaryHeader,
  type ClientRequest,
  type RequestOp,
} from './schemas.js';
import { seedOpHint, typeInsteadOfOp } from './seed-vocabulary.js';

// Compiled once at import: the hot path runs generated code, not a schema interpreter.
// Server-side only (code generation); the SDK imports types, not this module.

function compileAll<T extends Record<string, TSchema>>(schemas: T): Map<string, TypeCheck<TSchema>> {
  return new Map(Object.entries(schemas).map(([k, s]) => [k, TypeCompiler.Compile(s)]));
}

const requestChecks = compileAll(REQUEST_SCHEMAS);
const binaryChecks = compileAll(BINARY_HEADER_SCHEMAS);

export type Validated<T> = { ok: true; value: T } | { ok: false; message: string };

function firstError(op: string, check: TypeCheck<TSchema>, value: unknown): string {
  const err = check.Errors(value).First();
  if (!err) return `"${op}" request is invalid`;
  const field = err.path.replace(/^\//, '').replace(/\//g, '.');
  // Lower-case only the first letter: the rest may quote a pattern, whose case matters.
  const what = err.message.charAt(0).toLowerCase() + err.message.slice(1);
  return field ? `field "${field}" of "${op}": ${what}` : `"${op}" request: ${what}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validates a parsed text frame as a client request. */
export function validateRequest(value: unknown): Validated<ClientRequest> {
  if (!isObject(value)) return { ok: false, message: 'a frame must be a JSON object with an "op" field' };
  const op = value.op;
  // Tutorial code names the operation in "type": say where roomcast wants it.
  if (op === undefined && 'type' in value) return { ok: false, message: typeInsteadOfOp(value.type) };
  if (typeof op !== 'string') return { ok: false, message: 'a frame must have a string "op" field' };
  const check = requestChecks.get(op);
  if (!check) {
    const name = op.slice(0, 32);
    return { ok: false, message: `unknown op "${name}"${seedOpHint(name)}; the ops are: ${Object.keys(REQUEST_SCHEMAS).join(', ')}` };
  }
  if (!check.Check(value)) return { ok: false, message: firstError(op, check, value) };
  return { ok: true, value: value as ClientRequest };
}

/** Validates the JSON header of a binary frame (`send` or `dm` plus `mime`). */
export function validateBinaryHeader(value: unknown): Validated<BinaryHeader> {
  if (!isObject(value)) return { ok: false, message: 'a binary frame header must be a JSON object with an "op" field' };
  const op = value.op;
  if (op === undefined && 'type' in value) return { ok: false, message: 'unknown field "type": a binary frame header names its operation in "op": "send" or "dm"' };
  const check = typeof op === 'string' ? binaryChecks.get(op) : undefined;
  if (!check) return { ok: false, message: 'a binary frame header must have "op": "send" or "dm"' };
  if (!check.Check(value)) return { ok: false, message: firstError(String(op), check, value) };
  return { ok: true, value: value as BinaryHeader };
}

export const REQUEST_OPS = Object.keys(REQUEST_SCHEMAS) as RequestOp[];

/** The `ref` of a frame that failed validation, when it has a usable one. */
export function refOf(value: unknown): string | number | undefined {
  if (!isObject(value)) return undefined;
  const ref = value.ref;
  if (typeof ref === 'string' && ref.length <= 64) return ref;
  if (typeof ref === 'number' && Number.isInteger(ref)) return ref;
  return undefined;
}
