import { deadlineExceeded } from './messages.ts';

/*
 * A request's budget (http/requestBudget.ts) reaches the services as an AbortSignal: Salesforce requests take it as
 * their signal and are cancelled; work that others share (a token refresh, which must save what it gets) is only
 * no longer waited for.
 */

/** Past the deadline the caller has its answer already: stop before writing anything. */
export function stopIfPast(deadline: AbortSignal | undefined): void {
    if (deadline?.aborted) throw deadlineExceeded();
}

/** Waits for `work` until the deadline; the work itself goes on (and finishes what it must). */
export function untilDeadline<T>(work: Promise<T>, deadline: AbortSignal | undefined): Promise<T> {
    if (!deadline) return work;
    if (deadline.aborted) return Promise.reject(deadlineExceeded());
    return new Promise<T>((resolve, reject) => {
        const stop = () => reject(deadlineExceeded());
        deadline.addEventListener('abort', stop, { once: true });
        work.then(resolve, reject).finally(() => deadline.removeEventListener('abort', stop));
    });
}
