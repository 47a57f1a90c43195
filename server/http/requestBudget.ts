import type { RequestHandler } from 'express';

/*
 * Each /api/v1 request may take API_REQUEST_BUDGET_MS (16 s) in all: Apex gives up on its callout after 20 s
 * (`ContactCenterLinkClient.TIMEOUT_MS`), so the backend stops 4 s earlier, with time to answer and for the answer
 * to travel back. server/http/requestBudget.test.ts checks the budget against the Apex class.
 */

/**
 * Starts the request's budget: an AbortSignal in `res.locals.deadline`. The routes that reach Salesforce (Verify, unlink,
 * the call actions) pass it down as the signal of their Salesforce requests, which it cancels.
 */
export function requestBudget(budgetMs: number): RequestHandler {
    return (_req, res, next) => {
        res.locals.deadline = AbortSignal.timeout(budgetMs);
        next();
    };
}

/** The request's budget, set by `requestBudget`. */
export const requestDeadline = (locals: Record<string, unknown>): AbortSignal | undefined =>
    locals.deadline instanceof AbortSignal ? locals.deadline : undefined;
