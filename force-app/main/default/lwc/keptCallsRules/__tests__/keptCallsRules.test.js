import { allowanceGuardState, keptCallsState } from 'c/keptCallsRules';

const KEPT = {
    count: 5,
    awaitingChoice: 0,
    oldestCallAt: '2026-03-01T09:00:00.000Z',
    apiLimit: 1,
    needsRelink: 4,
    maxPerAccount: 10000,
    maxAgeDays: 14
};

describe('c/keptCallsRules', () => {
    describe('keptCallsState', () => {
        it('is undefined while no call waits, or the count is not a count', () => {
            expect(keptCallsState(undefined)).toBeUndefined();
            expect(keptCallsState({ status: 'linked' })).toBeUndefined();
            expect(
                keptCallsState({ status: 'linked', keptTasks: { count: 0 } })
            ).toBeUndefined();
            expect(
                keptCallsState({ status: 'linked', keptTasks: { count: '3' } })
            ).toBeUndefined();
        });

        it('says how many, the oldest, the reasons with the most calls first, and the bound', () => {
            expect(
                keptCallsState({ status: 'linked', keptTasks: KEPT })
            ).toEqual({
                count: 5,
                oldestCallAt: '2026-03-01T09:00:00.000Z',
                reasons: ['needs_relink', 'api_limit'],
                awaitingChoice: 0,
                awaitingOrgId: undefined,
                canChoose: false,
                mustLinkFirst: false,
                bound: { maxPerAccount: 10000, maxAgeDays: 14 }
            });
        });

        it('offers the choice only with a working link; otherwise asks to link first', () => {
            const kept = {
                ...KEPT,
                awaitingChoice: 2,
                awaitingOrgId: '00D000000000002AAA'
            };
            for (const status of ['linked', 'legacy']) {
                expect(
                    keptCallsState({ status, keptTasks: kept })
                ).toMatchObject({
                    awaitingChoice: 2,
                    awaitingOrgId: '00D000000000002AAA',
                    canChoose: true,
                    mustLinkFirst: false
                });
            }
            for (const status of ['needs_relink', 'unlinked']) {
                expect(
                    keptCallsState({ status, keptTasks: kept })
                ).toMatchObject({ canChoose: false, mustLinkFirst: true });
            }
        });

        it('never counts more awaiting a choice than wait, and leaves out a bound it was not told', () => {
            const state = keptCallsState({
                status: 'linked',
                keptTasks: { count: 1, awaitingChoice: 7 }
            });
            expect(state.awaitingChoice).toBe(1);
            expect(state.bound).toBeUndefined();
            expect(state.reasons).toEqual([]);
        });
    });

    describe('allowanceGuardState', () => {
        it('is the guard while it holds lookups back, else undefined', () => {
            expect(allowanceGuardState({ status: 'linked' })).toBeUndefined();
            expect(
                allowanceGuardState({ apiGuard: { remaining: 'few' } })
            ).toBeUndefined();
            expect(
                allowanceGuardState({
                    apiGuard: {
                        remaining: 40,
                        max: 15000,
                        reserve: 1500,
                        since: '2026-03-01T09:00:00.000Z'
                    }
                })
            ).toEqual({
                remaining: 40,
                max: 15000,
                reserve: 1500,
                since: '2026-03-01T09:00:00.000Z'
            });
        });
    });
});
