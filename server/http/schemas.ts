import { z } from 'zod';
import { CONTROL_MESSAGE, isPlainText } from '../text.ts';

/** Text the API takes: no control or bidirectional control characters (see text.ts). */
export const plainText = (schema: z.ZodString) => schema.refine((value) => isPlainText(value), CONTROL_MESSAGE);

const orgId = z
    .string()
    .regex(/^00D[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?$/, 'must be a Salesforce org id (15 or 18 characters starting with 00D)');

export const actorSchema = z.strictObject({
    userId: z
        .string()
        .regex(/^005[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?$/, 'must be a Salesforce user id (15 or 18 characters starting with 005)'),
    username: plainText(z.string().trim().min(1).max(80))
});

export const linkSessionBody = z.strictObject({
    environment: z.enum(['production', 'sandbox'], { error: 'must be "production" or "sandbox"' }),
    loginUrl: plainText(z.string().trim().min(1).max(300)).optional(),
    expectedOrgId: orgId.optional(),
    initiatedBy: actorSchema.optional()
});

export const sessionIdParam = z.string().regex(/^[A-Za-z0-9_-]{32}$/, 'is not a link session id');

export const callbackQuery = z.object({
    state: z.string().max(200).optional(),
    code: z.string().max(2000).optional(),
    error: z.string().max(200).optional(),
    error_description: z.string().max(2000).optional()
});

/** POST /calls/kept/decision: the admin's choice for the call Tasks kept for another org, and who chose (the audit trail). */
export const keptDecisionBody = z
    .strictObject({
        choice: z.enum(['make', 'drop'], { error: 'must be "make" or "drop"' }),
        actor: actorSchema.optional()
    })
    .meta({ id: 'KeptTasksDecision' });

/** Optional body of verify and unlink: who in the org asked, for the audit trail. */
export const actorBody = z.strictObject({ actor: actorSchema.optional() }).optional();

/** GET /link/activity: how many entries (1–100, 10 by default) and where the last page ended (its nextCursor). */
export const activityQuery = z.strictObject({
    limit: z.coerce
        .number({ error: 'must be a whole number from 1 to 100' })
        .int('must be a whole number from 1 to 100')
        .min(1, 'must be a whole number from 1 to 100')
        .max(100, 'must be a whole number from 1 to 100')
        .default(10),
    cursor: z
        .string()
        .regex(/^[1-9][0-9]{0,17}$/, 'must be the nextCursor of the previous page')
        .optional()
});

/** GET /webhook/deliveries: how many of the latest events (1–50, 20 by default). */
export const deliveriesQuery = z.strictObject({
    limit: z.coerce
        .number({ error: 'must be a whole number from 1 to 50' })
        .int('must be a whole number from 1 to 50')
        .min(1, 'must be a whole number from 1 to 50')
        .max(50, 'must be a whole number from 1 to 50')
        .default(20)
});
