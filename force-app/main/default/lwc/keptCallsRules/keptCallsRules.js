/**
 * The card's decisions about the call Tasks the backend keeps for later (they could not be made in Salesforce when
 * the call ended) and about the org's API allowance guard, apart from how c-kept-calls words them.
 */

/** Why a call's Task was kept, as the backend names it, and the field of the status's keptTasks that counts it. */
export const KEPT_REASON_FIELDS = {
    api_limit: 'apiLimit',
    salesforce_unavailable: 'salesforceUnavailable',
    needs_relink: 'needsRelink',
    not_linked: 'notLinked'
};

const countOf = (value) => (Number.isInteger(value) && value > 0 ? value : 0);

/**
 * The kept calls as the card shows them, or undefined while none wait: how many, the oldest call, the reasons (most
 * calls first), how many wait for the admin's choice (kept for another org than the one linked now), whether the
 * admin can choose now (only with a working link to this org), and the bound when the backend said it.
 */
export function keptCallsState(status) {
    const kept = status?.keptTasks;
    const count = countOf(kept?.count);
    if (!count) {
        return undefined;
    }
    const reasons = Object.keys(KEPT_REASON_FIELDS)
        .map((reason) => ({
            reason,
            count: countOf(kept[KEPT_REASON_FIELDS[reason]])
        }))
        .filter((entry) => entry.count > 0)
        .sort((a, b) => b.count - a.count)
        .map((entry) => entry.reason);
    const awaitingChoice = Math.min(countOf(kept.awaitingChoice), count);
    const working = status.status === 'linked' || status.status === 'legacy';
    return {
        count,
        oldestCallAt: kept.oldestCallAt,
        reasons,
        awaitingChoice,
        awaitingOrgId: kept.awaitingOrgId,
        canChoose: awaitingChoice > 0 && working,
        mustLinkFirst: awaitingChoice > 0 && !working,
        bound:
            countOf(kept.maxPerAccount) && countOf(kept.maxAgeDays)
                ? {
                      maxPerAccount: kept.maxPerAccount,
                      maxAgeDays: kept.maxAgeDays
                  }
                : undefined
    };
}

/** The API allowance guard while it holds screen-pop lookups back: { remaining, max, reserve, since }, else undefined. */
export function allowanceGuardState(status) {
    const guard = status?.apiGuard;
    if (
        !guard ||
        !Number.isInteger(guard.remaining) ||
        !Number.isInteger(guard.reserve)
    ) {
        return undefined;
    }
    return {
        remaining: guard.remaining,
        max: guard.max,
        reserve: guard.reserve,
        since: guard.since
    };
}
