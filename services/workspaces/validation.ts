// Input rules of createWorkspace / updateWorkspace (API.md "Validation"). `null` for a field whose
// column cannot be null is refused rather than read as "unchanged": only absence means unchanged.
import { z } from 'zod';
import { secretListSchema } from '../secrets/validation.js';
import {
  hibernationIdleMinutesSchema,
  imageSchema,
  maxConcurrentTasksSchema,
  nameSchema,
  parseOrThrow,
  roleSchema,
  runtimeSchema,
  tierSchema,
  urlSchema,
} from '../validation/rules.js';

export const DEFAULT_RUNTIME = 'langgraph';
export const DEFAULT_TIER = 2;
export const DEFAULT_MAX_CONCURRENT_TASKS = 1;

const createSchema = z.object({
  name: nameSchema,
  role: roleSchema.nullish(),
  // Optional nullable GraphQL inputs: null means "use the default", like absence.
  tier: tierSchema.nullish(),
  runtime: runtimeSchema.nullish(),
  image: imageSchema.nullish(),
  parentId: z.string().nullish(),
  maxConcurrentTasks: maxConcurrentTasksSchema.nullish(),
  hibernationIdleMinutes: hibernationIdleMinutesSchema.optional(),
  secrets: secretListSchema.nullish(),
  url: urlSchema.nullish(),
});

export interface CreateWorkspaceInput {
  name: string;
  role?: string | null;
  tier?: number | null;
  runtime?: string | null;
  image?: string | null;
  parentId?: string | null;
  maxConcurrentTasks?: number | null;
  hibernationIdleMinutes?: number | null;
  secrets?: Array<{ key: string; value: string }> | null;
  url?: string | null;
}

export interface ValidCreateInput {
  name: string;
  role: string | null;
  tier: number;
  runtime: string;
  image: string | null;
  parentId: string | null;
  maxConcurrentTasks: number;
  hibernationIdleMinutes: number | null;
  secrets: Array<{ key: string; value: string }>;
  url: string | null;
}

export function validateCreateInput(input: CreateWorkspaceInput): ValidCreateInput {
  const v = parseOrThrow(createSchema, input);
  return {
    name: v.name,
    role: v.role ?? null,
    tier: v.tier ?? DEFAULT_TIER,
    runtime: v.runtime ?? DEFAULT_RUNTIME,
    image: v.image ?? null,
    parentId: v.parentId ?? null,
    maxConcurrentTasks: v.maxConcurrentTasks ?? DEFAULT_MAX_CONCURRENT_TASKS,
    hibernationIdleMinutes: v.hibernationIdleMinutes ?? null,
    secrets: v.secrets ?? [],
    url: v.url ?? null,
  };
}

const notNull = 'must not be null (omit the field to leave it unchanged)';
const updateSchema = z
  .object({
    name: nameSchema.nullish(),
    role: roleSchema.nullish(),
    tier: tierSchema.nullish(),
    parentId: z.string().nullish(),
    maxConcurrentTasks: maxConcurrentTasksSchema.nullish(),
    hibernationIdleMinutes: hibernationIdleMinutesSchema.optional(),
  })
  .superRefine((v, ctx) => {
    for (const key of ['name', 'tier', 'maxConcurrentTasks'] as const) {
      if (v[key] === null) ctx.addIssue({ code: 'custom', path: [key], message: notNull });
    }
  });

export interface UpdateWorkspaceInput {
  name?: string | null;
  role?: string | null;
  tier?: number | null;
  parentId?: string | null;
  maxConcurrentTasks?: number | null;
  hibernationIdleMinutes?: number | null;
}

/** Only the keys present in the input (undefined = absent = unchanged). */
export type ValidUpdateInput = {
  name?: string;
  role?: string | null;
  tier?: number;
  parentId?: string | null;
  maxConcurrentTasks?: number;
  hibernationIdleMinutes?: number | null;
};

export function validateUpdateInput(input: UpdateWorkspaceInput): ValidUpdateInput {
  const v = parseOrThrow(updateSchema, input);
  const out: ValidUpdateInput = {};
  for (const key of ['name', 'role', 'tier', 'parentId', 'maxConcurrentTasks', 'hibernationIdleMinutes'] as const) {
    if (input[key] !== undefined) (out as Record<string, unknown>)[key] = v[key];
  }
  return out;
}

/** input.image > WORKSPACE_IMAGE_<RUNTIME> > WORKSPACE_IMAGE; null for external workspaces. */
export function resolveImage(
  runtime: string,
  image: string | null,
  config: { workspaceImage: string; runtimeImages: Record<string, string> },
): string | null {
  if (runtime === 'external') return null;
  return image ?? config.runtimeImages[runtime.toUpperCase().replace(/-/g, '_')] ?? config.workspaceImage;
}
