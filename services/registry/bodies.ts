// The agent endpoints' request bodies (API.md "Field bounds"). Agents are fixed clients, so the
// parsing is lenient where the old service was (unknown fields ignored, optional numbers default to
// zero, null strings read as absent) and strict where a value would corrupt state or fail in
// PostgreSQL: such values are a 400, never a 500.
import { z } from 'zod';
import { urlProblem } from '../validation/url.js';

export const MAX_UPTIME_SECONDS = 2 ** 31 - 1;
export const MAX_TEXT_CHARS = 4096;
export const MAX_AGENT_CARD_BYTES = 256 * 1024;
export const MAX_URL_CHARS = 2048;
/** jsonb's recursive parser fails (a server error) on very deep documents; no agent card nests this deep. */
export const MAX_AGENT_CARD_DEPTH = 64;

/** Truncates at 4,096 characters (code points, so a surrogate pair is never split). NUL, which a
 * PostgreSQL text column cannot hold, becomes U+FFFD: these fields are free text and already lossy. */
export function truncateText(s: string): string {
  let out = s;
  if (s.length > MAX_TEXT_CHARS) {
    let chars = 0;
    let end = 0;
    while (end < s.length && chars < MAX_TEXT_CHARS) {
      const cp = s.codePointAt(end)!;
      end += cp > 0xffff ? 2 : 1;
      chars += 1;
    }
    out = s.slice(0, end);
  }
  return out.includes('\u0000') ? out.replaceAll('\u0000', '\uFFFD') : out;
}

const LONE_SURROGATE = /\p{Cs}/u;

/** Why a parsed JSON value cannot be stored as jsonb (NUL and lone surrogates are refused by
 * PostgreSQL; depth is bounded), or null when it can. Iterative, so hostile nesting cannot overflow. */
function jsonbProblem(value: unknown): string | null {
  const stack: Array<{ v: unknown; depth: number }> = [{ v: value, depth: 1 }];
  const badString = (s: string) => s.includes('\u0000') || LONE_SURROGATE.test(s);
  while (stack.length > 0) {
    const { v, depth } = stack.pop()!;
    if (typeof v === 'string') {
      if (badString(v)) return 'must not contain NUL characters or unpaired surrogates';
    } else if (v !== null && typeof v === 'object') {
      if (depth > MAX_AGENT_CARD_DEPTH) return `must not nest deeper than ${MAX_AGENT_CARD_DEPTH} levels`;
      for (const [k, child] of Object.entries(v)) {
        if (badString(k)) return 'must not contain NUL characters or unpaired surrogates';
        stack.push({ v: child, depth: depth + 1 });
      }
    }
  }
  return null;
}

const agentCard = z
  .custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), 'must be a JSON object')
  .superRefine((card, ctx) => {
    const problem = jsonbProblem(card);
    if (problem) return void ctx.addIssue({ code: 'custom', message: problem });
    if (Buffer.byteLength(JSON.stringify(card), 'utf8') > MAX_AGENT_CARD_BYTES)
      ctx.addIssue({ code: 'custom', message: `must be at most ${MAX_AGENT_CARD_BYTES} bytes of JSON` });
  });

const agentUrl = z
  .string('must be a string')
  .max(MAX_URL_CHARS, `must be at most ${MAX_URL_CHARS} characters`)
  .superRefine((url, ctx) => {
    const problem = url.includes('\u0000') ? 'must not contain NUL characters' : urlProblem(url);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

const workspaceId = z.string('must be a string');
/** Absent and null read as absent; anything else must be a string. */
const freeText = z
  .string('must be a string')
  .nullish()
  .transform((s) => (s ? truncateText(s) : null));

export const RegisterBody = z.object({ id: workspaceId, url: agentUrl, agent_card: agentCard });

export const HeartbeatBody = z.object({
  workspace_id: workspaceId,
  error_rate: z.number('must be a number').min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1').default(0),
  sample_error: freeText,
  active_tasks: z
    .number('must be a number')
    .int('must be an integer')
    .min(0, 'must be between 0 and 1000000')
    .max(1_000_000, 'must be between 0 and 1000000')
    .default(0),
  // Past 2^31-1 is clamped (API.md), Infinity (JSON 1e400) included; fractions are floored.
  uptime_seconds: z
    .custom<number>((v) => typeof v === 'number' && !Number.isNaN(v) && v >= 0, 'must be a number of at least 0')
    .transform((n) => Math.min(MAX_UPTIME_SECONDS, Math.floor(n)))
    .default(0),
  current_task: freeText,
  runtime_state: z
    .enum(['', 'wedged'], 'must be "" or "wedged"')
    .nullish()
    .transform((s) => s ?? ''),
});

export const UpdateCardBody = z.object({ workspace_id: workspaceId, agent_card: agentCard });

export type RegisterInput = z.output<typeof RegisterBody>;
export type HeartbeatInput = z.output<typeof HeartbeatBody>;
export type UpdateCardInput = z.output<typeof UpdateCardBody>;

export type BodyParse<T> = { ok: true; value: T } | { ok: false; message: string };

/** Validates a parsed JSON value; the message names the first offending field. */
export function parseBody<S extends z.ZodType>(schema: S, json: unknown): BodyParse<z.output<S>> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { ok: false, message: 'request body must be a JSON object' };
  }
  const r = schema.safeParse(json);
  if (r.success) return { ok: true, value: r.data };
  const issue = r.error.issues[0]!;
  const field = issue.path.length > 0 ? issue.path.map(String).join('.') : 'body';
  const missing = issue.path.length === 1 && (json as Record<PropertyKey, unknown>)[issue.path[0]!] === undefined;
  const message = missing ? 'is required' : issue.message;
  return { ok: false, message: `${field}: ${message}` };
}
