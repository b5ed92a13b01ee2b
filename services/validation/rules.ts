// The string rules of API.md "Validation", as zod schemas, and the mapping of zod issues to
// InvalidInputError field errors (`name`, `secrets[0].key`, ...).
import { z } from 'zod';
import { InvalidInputError } from '../errors.js';
import { urlProblem } from './url.js';

/** Unicode category Cc: C0 controls, DEL and C1 controls. */
export const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;

/** Length in Unicode characters (code points), not UTF-16 units. */
export const charCount = (s: string): number => [...s].length;

export const nameSchema = z
  .string()
  .refine((s) => charCount(s) >= 1, 'must not be empty')
  .refine((s) => charCount(s) <= 255, 'must be at most 255 characters')
  .refine((s) => !CONTROL_CHARS.test(s), 'must not contain control characters')
  .refine((s) => !/[{}[\]|>*&!]/.test(s), 'must not contain any of { } [ ] | > * & !');

export const roleSchema = z
  .string()
  .refine((s) => charCount(s) <= 1000, 'must be at most 1000 characters')
  .refine((s) => !CONTROL_CHARS.test(s), 'must not contain control characters');

export const runtimeSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'must match ^[a-z0-9][a-z0-9-]{0,63}$');

export const imageSchema = z
  .string()
  .refine((s) => s.length >= 1, 'must not be empty')
  .refine((s) => charCount(s) <= 512, 'must be at most 512 characters')
  .refine((s) => !CONTROL_CHARS.test(s), 'must not contain control characters');

const intIn = (min: number, max: number) =>
  z.number().int('must be an integer').min(min, `must be between ${min} and ${max}`).max(max, `must be between ${min} and ${max}`);

export const tierSchema = intIn(1, 4);
export const maxConcurrentTasksSchema = intIn(1, 1000);
export const hibernationIdleMinutesSchema = intIn(1, 525_600).nullable();

export const urlSchema = z.string().superRefine((s, ctx) => {
  const problem = urlProblem(s);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

// API.md bounds only the length; NUL is refused because PostgreSQL text cannot hold it.
export const orgTokenNameSchema = z
  .string()
  .refine((s) => charCount(s) <= 100, 'must be at most 100 characters')
  .refine((s) => !s.includes('\u0000'), 'must not contain NUL characters');

/** `['secrets', 0, 'key']` → `secrets[0].key`. */
export function fieldPath(path: readonly PropertyKey[], prefix: readonly PropertyKey[] = []): string {
  let out = '';
  for (const p of [...prefix, ...path]) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out || 'input';
}

/** Parses or throws InvalidInputError listing every problem (one entry per field and rule). */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, prefix: readonly PropertyKey[] = []): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new InvalidInputError(result.error.issues.map((i) => ({ field: fieldPath(i.path, prefix), message: i.message })));
}
