import { AppError } from '../errors.ts';
import type { Clock } from '../clock.ts';
import { deadlineExceeded } from '../link/messages.ts';
import type { OrgClient } from '../link/orgClient.ts';
import type { TaskDescribe } from '../link/taskMappingCheck.ts';
import type { Store } from '../store/store.ts';
import type { MatchingInput, MatchingView } from './matching.ts';
import { checkMatchingSave, matchingView, saveMatching } from './matchingSettings.ts';
import { readError } from './refusals.ts';
import { checkedTaskMapping, taskMappingView, type TaskMappingInput, type TaskMappingView } from './taskMapping.ts';

/** The call actions' settings as the API answers them. */
export interface CallSettings {
    lookupReservePercent: number;
    isDefault: boolean;
    matching: MatchingView;
    task: TaskMappingView;
}

/** A change of the settings: each key left out stays, null resets it to the default. */
export interface CallSettingsPatch {
    lookupReservePercent?: number | null;
    matching?: MatchingInput | null;
    task?: TaskMappingInput | null;
}

/**
 * The account's call settings (GET/PUT /calls/settings): the lookup reserve of the API allowance guard, how callers are
 * matched, and the Task mapping. What names the org's fields is checked against the org's describes when saved.
 */
export class CallSettingsService {
    constructor(
        private readonly deps: {
            org: OrgClient;
            store: Store;
            clock: Clock;
            /** The lookup reserve of accounts that set none (API_GUARD_RESERVE_PERCENT). */
            defaultReservePercent?: number;
        }
    ) {}

    async get(accountId: string): Promise<CallSettings> {
        const [account, link] = await Promise.all([this.deps.store.accounts.get(accountId), this.deps.store.links.get(accountId)]);
        const own = account?.callSettings?.lookupReservePercent;
        return {
            lookupReservePercent: own ?? this.deps.defaultReservePercent ?? 0,
            isDefault: own === undefined,
            matching: matchingView(account?.callSettings?.matching, link),
            task: taskMappingView(account?.callSettings?.task)
        };
    }

    /**
     * Sets (or, with null, clears) the account's lookup reserve, matching settings and Task mapping; what the body leaves
     * out stays. The guard follows the reserve from the next API usage reading; custom phone fields are checked against
     * the org's describes, and a Task mapping against its describe of Task as the API user, before anything is saved.
     */
    async update(accountId: string, patch: CallSettingsPatch, deadline?: AbortSignal): Promise<CallSettings> {
        const { store, org, clock } = this.deps;
        const check =
            patch.matching === undefined
                ? undefined
                : await checkMatchingSave(org, store, accountId, patch.matching, clock.now().toISOString(), deadline);
        const task = patch.task ? await this.#checkTaskMapping(accountId, patch.task, deadline) : patch.task;
        await store.transaction(async (tx) => {
            const account = await tx.accounts.get(accountId);
            if (!account) throw new AppError('UNAUTHORIZED', 'The account for this API key no longer exists.', 401);
            const next = { ...account.callSettings };
            if (patch.lookupReservePercent === null) delete next.lookupReservePercent;
            else if (patch.lookupReservePercent !== undefined) next.lookupReservePercent = patch.lookupReservePercent;
            if (patch.matching !== undefined) await saveMatching(tx, accountId, next, patch.matching, check);
            if (task === null) delete next.task;
            else if (task !== undefined) next.task = task;
            await tx.accounts.patch(accountId, { callSettings: Object.keys(next).length ? next : null });
        });
        return this.get(accountId);
    }

    async #checkTaskMapping(accountId: string, input: TaskMappingInput, deadline?: AbortSignal) {
        const { org, clock } = this.deps;
        const link = await org.activeLink(accountId);
        const orgId = await org.orgIdOf(accountId, link, deadline);
        let describe: TaskDescribe;
        try {
            describe = await org.request(accountId, link, { method: 'GET', path: '/sobjects/Task/describe', idempotent: true }, deadline);
        } catch (error) {
            throw deadline?.aborted ? deadlineExceeded() : readError(error, 'describe Task to check the Task mapping');
        }
        return checkedTaskMapping(input, describe, orgId, clock.now().toISOString());
    }
}
