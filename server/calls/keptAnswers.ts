import { AppError } from '../errors.ts';
import type { KeptTaskReason, KeptTaskRecord } from '../store/types.ts';

// What the platform is told of a call whose Task is kept for later (rule 13), and which failures keep one.

/** The answer for a call whose Task is kept for later (202): nothing for the platform to retry. */
export interface QueuedResult {
    state: 'queued';
    reason: KeptTaskReason;
    message: string;
    /** When the platform first asked: the Task's date unless the request named one. */
    callAt: string;
    attempts: number;
    /** When the backend tries next; absent while it waits for a relink or for the admin's choice. */
    nextAttemptAt?: string;
    /** The account was linked to another org since: the Task waits for the admin's choice on the card. */
    awaitingChoice?: true;
}

/** What the platform can read of a call's Task (GET /calls/{id}/task). */
export type TaskState = QueuedResult | { state: 'created'; taskId: string } | { state: 'in_progress' };

/** A kept Task's org is not the one the account is linked to now: it waits for the admin's choice. */
export class KeptForAnotherOrg extends Error {
    override name = 'KeptForAnotherOrg';
    constructor(readonly linkedOrgId: string) {
        super(`The account is linked to org ${linkedOrgId} now, not the one the Task was kept for.`);
    }
}

/** How long a kept Task waits before its first try, by why it was kept (a relink, or the admin's choice, wakes it sooner). */
export const FIRST_TRY_MS: Record<KeptTaskReason, number> = {
    api_limit: 60_000,
    salesforce_unavailable: 15_000,
    needs_relink: 10 * 60_000,
    not_linked: 10 * 60_000
};

const KEPT_MESSAGES: Record<KeptTaskReason, string> = {
    api_limit:
        'The Salesforce org has used up its daily API requests, so the call’s Task is kept and made as soon as the org’s 24-hour allowance frees up. Nothing to retry.',
    salesforce_unavailable:
        'Salesforce could not be reached in time, so the call’s Task is kept and made as soon as Salesforce answers again, exactly once. Nothing to retry.',
    needs_relink:
        'The link to Salesforce needs a relink, so the call’s Task is kept and made right after an admin relinks to the same org from the Contact Center Link card. Nothing to retry.',
    not_linked:
        'The account is not linked to Salesforce now, so the call’s Task is kept and made once an admin links it again to the same org. Nothing to retry.'
};
const AWAITING_CHOICE_MESSAGE =
    'The account was linked to another Salesforce org since this call’s Task was kept: it waits for an admin’s choice on the Contact Center Link card (make it in the org linked now, or drop it).';

/** The 202 body of a kept Task, as it stands now. */
export function queuedResult(row: KeptTaskRecord): QueuedResult {
    const awaiting = row.state === 'awaiting_choice';
    const waitsForPerson = awaiting || row.reason === 'needs_relink' || row.reason === 'not_linked';
    return {
        state: 'queued',
        reason: row.reason,
        message: awaiting ? AWAITING_CHOICE_MESSAGE : KEPT_MESSAGES[row.reason],
        callAt: row.callAt,
        attempts: row.attempts,
        ...(waitsForPerson ? {} : { nextAttemptAt: row.nextAttemptAt }),
        ...(awaiting ? { awaitingChoice: true as const } : {})
    };
}

/** Why a Task that failed now can be kept and made later; undefined when the failure is the request's own (or unknown). */
export function keepReason(error: unknown): KeptTaskReason | undefined {
    if (!(error instanceof AppError)) return undefined;
    switch (error.code) {
        case 'SALESFORCE_LIMIT_EXCEEDED':
            return 'api_limit';
        case 'SALESFORCE_UNAVAILABLE':
        case 'DEADLINE_EXCEEDED':
            return 'salesforce_unavailable';
        case 'NEEDS_RELINK':
        // The org refused the backend's address: the link waits for the admin (allow it, then Verify), as for a relink.
        case 'IP_NOT_ALLOWED':
            return 'needs_relink';
        case 'NOT_LINKED':
            return 'not_linked';
        default:
            return undefined;
    }
}

export const keptTasksFull = (max: number): AppError =>
    new AppError(
        'KEPT_TASKS_FULL',
        `This account already keeps ${max} call Tasks that could not be made yet, its bound: this one was NOT kept. Retry it later; the Contact Center Link card shows why the others wait.`,
        503,
        { retryAfterSeconds: 60, maxKeptTasks: max }
    );
