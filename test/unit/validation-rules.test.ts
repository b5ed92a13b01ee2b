import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../services/errors.js';
import { secretKeySchema } from '../../services/secrets/validation.js';
import { charCount, nameSchema, roleSchema, runtimeSchema } from '../../services/validation/rules.js';
import { resolveImage, validateCreateInput, validateUpdateInput } from '../../services/workspaces/validation.js';

describe('workspace input rules', () => {
  it('counts Unicode characters, not UTF-16 units, for the 255-character name limit', () => {
    const astral = '😀'.repeat(255);
    expect(astral.length).toBe(510);
    expect(charCount(astral)).toBe(255);
    expect(nameSchema.safeParse(astral).success).toBe(true);
    expect(nameSchema.safeParse(`${astral}😀`).success).toBe(false);
  });

  it('refuses every Cc control character (C0, DEL, C1) in names and roles, and nothing else by that rule', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0x10ffff }), (cp) => {
        if (cp >= 0xd800 && cp <= 0xdfff) return;
        const ch = String.fromCodePoint(cp);
        const control = cp <= 0x1f || (cp >= 0x7f && cp <= 0x9f);
        const forbidden = '{}[]|>*&!'.includes(ch);
        expect(nameSchema.safeParse(`a${ch}b`).success).toBe(!control && !forbidden);
        expect(roleSchema.safeParse(`a${ch}b`).success).toBe(!control);
      }),
      { numRuns: 300 },
    );
    for (const cp of [0x00, 0x0a, 0x0d, 0x1f, 0x7f, 0x80, 0x85, 0x9f]) expect(nameSchema.safeParse(String.fromCodePoint(cp)).success).toBe(false);
  });

  it('checks runtime names against ^[a-z0-9][a-z0-9-]{0,63}$', () => {
    for (const ok of ['langgraph', 'claude-code', 'external', '0', 'a'.repeat(64)]) expect(runtimeSchema.safeParse(ok).success).toBe(true);
    for (const bad of ['', '-a', 'A', 'a_b', 'a'.repeat(65), 'a b']) expect(runtimeSchema.safeParse(bad).success).toBe(false);
  });

  it('checks secret keys: syntax, reserved container variables, MOLECULE_ prefix', () => {
    for (const ok of ['A', '_', 'a9', 'OPENAI_API_KEY', 'X'.repeat(128), 'TIER2', 'MOLECULE']) expect(secretKeySchema.safeParse(ok).success).toBe(true);
    for (const bad of ['', '9A', 'A-B', 'X'.repeat(129), 'WORKSPACE_ID', 'PLATFORM_URL', 'TIER', 'MOLECULE_X', 'molecule_x']) {
      expect(secretKeySchema.safeParse(bad).success).toBe(false);
    }
  });

  it('applies create defaults and names every invalid field', () => {
    expect(validateCreateInput({ name: 'x', tier: null, runtime: null })).toMatchObject({ tier: 2, runtime: 'langgraph', maxConcurrentTasks: 1, secrets: [] });
    try {
      validateCreateInput({ name: '', tier: 0, secrets: [{ key: 'ok', value: 'v' }, { key: 'bad-key', value: 'v' }] });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidInputError);
      expect((e as InvalidInputError).fieldErrors.map((f) => f.field).sort()).toEqual(['name', 'secrets[1].key', 'tier']);
    }
  });

  it('keeps only present update fields, allows null where it means something, and refuses null elsewhere', () => {
    expect(validateUpdateInput({ name: 'n' })).toEqual({ name: 'n' });
    expect(validateUpdateInput({ parentId: null, hibernationIdleMinutes: null, role: null })).toEqual({ parentId: null, hibernationIdleMinutes: null, role: null });
    for (const field of ['name', 'tier', 'maxConcurrentTasks'] as const) {
      expect(() => validateUpdateInput({ [field]: null })).toThrow(InvalidInputError);
    }
  });

  it('resolves the image: input, then WORKSPACE_IMAGE_<RUNTIME> (upper-cased, - to _), then WORKSPACE_IMAGE; none for external', () => {
    const config = { workspaceImage: 'base', runtimeImages: { CLAUDE_CODE: 'claude' } };
    expect(resolveImage('claude-code', 'mine', config)).toBe('mine');
    expect(resolveImage('claude-code', null, config)).toBe('claude');
    expect(resolveImage('langgraph', null, config)).toBe('base');
    expect(resolveImage('external', 'mine', config)).toBeNull();
  });
});
