// Event ids double as cursors (API.md): a decimal string of a positive 64-bit id. Anything else is a
// malformed cursor, which the GraphQL layer answers with BAD_USER_INPUT.
import { BadUserInputError } from '../errors.js';

const MAX_BIGINT = 9_223_372_036_854_775_807n;

/** "0" is allowed: it is what eventCursor answers on an empty log, and means "from the beginning". */
export function parseEventId(value: string, what = 'cursor'): bigint {
  if (!/^(0|[1-9][0-9]{0,18})$/.test(value)) throw new BadUserInputError(`malformed ${what}: expected an event id`);
  const id = BigInt(value);
  if (id > MAX_BIGINT) throw new BadUserInputError(`malformed ${what}: event id out of range`);
  return id;
}
