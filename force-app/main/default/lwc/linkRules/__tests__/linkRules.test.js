import {
    apiUsageState,
    checkOutcome,
    deliveryOutcome,
    egressState,
    errorHelpSection,
    helpUrl,
    HELP_SECTIONS,
    ipRefused,
    isQuietOutcome,
    keyExplainsStatusError,
    knowsErrorCode,
    mismatchIsProblem,
    orgKeyState,
    orgMismatch,
    sameSalesforceId,
    setupChecklist,
    SETUP_STEPS,
    statusActions,
    warnsAppNotInstalled
} from 'c/linkRules';

const ACME = '00D5g000004AcmeEAC';
const ACME_UAT_BEFORE = '00D7g000001UatOEAS';
const ACME_UAT_AFTER = '00D7g000009UatNEAS';

describe('c/linkRules', () => {
    describe('sameSalesforceId', () => {
        it('compares ids on their first 15 characters', () => {
            expect(sameSalesforceId(ACME, ACME)).toBe(true);
            expect(sameSalesforceId(ACME, ACME.slice(0, 15))).toBe(true);
            expect(sameSalesforceId(ACME.slice(0, 15), ACME)).toBe(true);
            expect(sameSalesforceId(ACME, `${ACME.slice(0, 15)}XYZ`)).toBe(
                true
            );
        });

        it('tells ids apart by case, as Salesforce does', () => {
            expect(
                sameSalesforceId(ACME, ACME.slice(0, 14) + 'c' + ACME.slice(15))
            ).toBe(false);
            expect(sameSalesforceId(ACME, ACME_UAT_BEFORE)).toBe(false);
        });

        it('takes nothing that is not an id for one', () => {
            expect(sameSalesforceId(undefined, undefined)).toBe(false);
            expect(sameSalesforceId('', '')).toBe(false);
            expect(sameSalesforceId('00D5g', '00D5g')).toBe(false);
            expect(sameSalesforceId(`${ACME}0`, `${ACME}0`)).toBe(false);
            expect(sameSalesforceId('00D5g000004Acm!', '00D5g000004Acm!')).toBe(
                false
            );
        });
    });

    describe('orgMismatch', () => {
        const link = {
            orgId: ACME_UAT_BEFORE,
            orgName: 'Acme UAT',
            loginUrl: 'https://acme--uat.sandbox.my.salesforce.com',
            instanceUrl: 'https://acme--uat.sandbox.my.salesforce.com'
        };
        const refreshedSandbox = {
            orgId: ACME_UAT_AFTER,
            name: 'Acme UAT',
            environment: 'sandbox',
            domainUrl: 'https://ACME--UAT.sandbox.my.salesforce.com',
            createdDate: '2024-05-20T08:00:00.000Z'
        };

        it('says nothing for the linked org, by a 15- or 18-character id, or without both orgs', () => {
            expect(
                orgMismatch({
                    link: { orgId: ACME },
                    thisOrg: { orgId: ACME.slice(0, 15) }
                })
            ).toBeUndefined();
            expect(orgMismatch({ link: { orgId: ACME } })).toBeUndefined();
            expect(orgMismatch({ thisOrg: { orgId: ACME } })).toBeUndefined();
            expect(orgMismatch(undefined)).toBeUndefined();
        });

        it('finds a refreshed sandbox: on the link’s host, with a new org id, and when', () => {
            expect(orgMismatch({ link, thisOrg: refreshedSandbox })).toEqual({
                kind: 'sandboxRefreshed',
                refreshedOn: new Date('2024-05-20T08:00:00.000Z'),
                linkedOrg: { name: 'Acme UAT', orgId: ACME_UAT_BEFORE }
            });
        });

        it('calls any other org simply another org', () => {
            const production = {
                ...refreshedSandbox,
                orgId: ACME,
                name: 'Acme',
                environment: 'production',
                domainUrl: 'https://acme.my.salesforce.com'
            };
            const otherHost = {
                ...refreshedSandbox,
                domainUrl: 'https://other--uat.sandbox.my.salesforce.com'
            };
            const noDate = { ...refreshedSandbox, createdDate: 'yesterday' };
            for (const thisOrg of [production, otherHost, noDate]) {
                expect(orgMismatch({ link, thisOrg })).toEqual({
                    kind: 'otherOrg',
                    thisOrg: { name: thisOrg.name, orgId: thisOrg.orgId },
                    linkedOrg: { name: 'Acme UAT', orgId: ACME_UAT_BEFORE }
                });
            }
        });

        it('makes a refreshed sandbox, or another org with a dead link, a problem; another org with a working link is not', () => {
            const refreshed = orgMismatch({ link, thisOrg: refreshedSandbox });
            const other = {
                kind: 'otherOrg',
                thisOrg: {},
                linkedOrg: {}
            };
            expect(mismatchIsProblem(refreshed, { status: 'linked' })).toBe(
                true
            );
            expect(mismatchIsProblem(other, { status: 'needs_relink' })).toBe(
                true
            );
            expect(mismatchIsProblem(other, { status: 'linked' })).toBe(false);
            expect(
                mismatchIsProblem(undefined, { status: 'needs_relink' })
            ).toBe(false);
        });
    });

    describe('apiUsageState', () => {
        it('is near the limit from 80% of the daily allowance', () => {
            expect(apiUsageState({ used: 11999, max: 15000 }).nearLimit).toBe(
                false
            );
            expect(apiUsageState({ used: 12000, max: 15000 }).nearLimit).toBe(
                true
            );
            expect(
                apiUsageState({ used: 20, max: 15000, at: '2024-05-02' })
            ).toEqual({
                used: 20,
                max: 15000,
                at: '2024-05-02',
                nearLimit: false
            });
        });

        it('is undefined when Salesforce has not reported whole numbers', () => {
            for (const usage of [
                undefined,
                {},
                { used: 1 },
                { used: '1', max: 10 },
                { used: 1.5, max: 10 },
                { used: 1, max: 0 }
            ]) {
                expect(apiUsageState(usage)).toBeUndefined();
            }
        });
    });

    it('checkOutcome: passed, a warning only when the backend says so, else failed', () => {
        expect(checkOutcome({ ok: true, severity: 'warning' })).toBe('passed');
        expect(checkOutcome({ ok: false, severity: 'warning' })).toBe(
            'warning'
        );
        expect(checkOutcome({ ok: false, severity: 'error' })).toBe('failed');
        expect(checkOutcome({ ok: false })).toBe('failed');
    });

    it('isQuietOutcome: ok, linked, unlinked and a healthy Verify; anything else is a failure', () => {
        expect(
            ['ok', 'linked', 'unlinked', 'healthy', 'not_due'].map(
                isQuietOutcome
            )
        ).toEqual([true, true, true, true, true]);
        expect(
            ['needs_relink', 'ACCESS_DENIED', 'not_revoked', undefined].map(
                isQuietOutcome
            )
        ).toEqual([false, false, false, false]);
    });

    it('deliveryOutcome: the error over the HTTP status, and the next attempt only while pending', () => {
        expect(
            deliveryOutcome({
                state: 'pending',
                nextAttemptAt: '2024-05-03T10:00:05.000Z',
                lastAttempt: { status: 500, error: 'The webhook answered 500.' }
            })
        ).toEqual({
            error: 'The webhook answered 500.',
            nextAttemptAt: '2024-05-03T10:00:05.000Z'
        });
        expect(
            deliveryOutcome({
                state: 'delivered',
                nextAttemptAt: '2024-05-03T10:00:05.000Z',
                lastAttempt: { status: 200 }
            })
        ).toEqual({ httpStatus: 200 });
        expect(deliveryOutcome({ state: 'queued' })).toEqual({});
    });

    it('statusActions: Verify for a link in force, Unlink for any link, Relink once there is one', () => {
        expect(statusActions({ status: 'unlinked' })).toEqual({
            verify: false,
            unlink: false,
            relink: false
        });
        expect(statusActions({ status: 'linked' })).toEqual({
            verify: true,
            unlink: true,
            relink: true
        });
        expect(statusActions({ status: 'legacy' })).toEqual({
            verify: true,
            unlink: true,
            relink: true
        });
        expect(statusActions({ status: 'needs_relink' })).toEqual({
            verify: false,
            unlink: true,
            relink: true
        });
        expect(statusActions({ status: 'paused' })).toEqual({
            verify: false,
            unlink: false,
            relink: false
        });
        expect(statusActions(undefined).relink).toBe(false);
    });

    it('errorHelpSection: the code’s own section, else the troubleshooting table; nothing inherited', () => {
        expect(errorHelpSection('NEEDS_RELINK')).toBe(
            HELP_SECTIONS.needsRelink
        );
        expect(errorHelpSection('APP_NOT_INSTALLED')).toBe(
            HELP_SECTIONS.oauthApp
        );
        expect(errorHelpSection('API_USER_LIMIT_REACHED')).toBe(
            HELP_SECTIONS.setup
        );
        expect(errorHelpSection('ORG_MISMATCH')).toBe(HELP_SECTIONS.errors);
        expect(errorHelpSection('toString')).toBe(HELP_SECTIONS.errors);
        expect(knowsErrorCode('toString')).toBe(false);
        expect(knowsErrorCode(undefined)).toBe(false);
        expect(knowsErrorCode('NEEDS_RELINK')).toBe(true);
    });

    it('helpUrl: an http(s) label with the section as its anchor, else nothing', () => {
        expect(
            helpUrl('https://docs.example.com/install', 'needs-relink')
        ).toBe('https://docs.example.com/install#needs-relink');
        expect(helpUrl('https://docs.example.com/install#old', undefined)).toBe(
            'https://docs.example.com/install#old'
        );
        expect(helpUrl('ftp://docs.example.com/install', 'x')).toBeUndefined();
        expect(helpUrl('not a url', 'x')).toBeUndefined();
    });

    it('warnsAppNotInstalled: only when the marker is missing and the link is not in force', () => {
        const missing = {
            oauthApp: 'not_installed',
            appName: 'Contact Center Link'
        };
        expect(warnsAppNotInstalled(missing, { status: 'unlinked' })).toBe(
            true
        );
        expect(warnsAppNotInstalled(missing, { status: 'needs_relink' })).toBe(
            true
        );
        expect(warnsAppNotInstalled(missing, { status: 'linked' })).toBe(false);
        expect(
            warnsAppNotInstalled(
                { oauthApp: 'unknown' },
                { status: 'unlinked' }
            )
        ).toBe(false);
        expect(
            warnsAppNotInstalled(
                { oauthApp: 'installed' },
                { status: 'unlinked' }
            )
        ).toBe(false);
        expect(warnsAppNotInstalled(undefined, undefined)).toBe(false);
    });

    describe('setupChecklist', () => {
        const states = (facts) =>
            Object.fromEntries(
                setupChecklist(facts).map(({ id, state }) => [id, state])
            );

        it('lists every step in order, the policies always to check in Setup', () => {
            expect(setupChecklist().map(({ id }) => id)).toEqual(SETUP_STEPS);
            expect(states()).toEqual({
                oauthPackage: 'check',
                endpoint: 'check',
                apiUser: 'check',
                permittedUsers: 'check',
                refreshToken: 'check',
                ipRelaxation: 'check'
            });
        });

        it('takes the OAuth package and the API user from what the org answered', () => {
            expect(
                states({
                    setup: { oauthApp: 'installed', apiUser: 'assigned' }
                })
            ).toMatchObject({ oauthPackage: 'done', apiUser: 'done' });
            expect(
                states({
                    setup: { oauthApp: 'not_installed', apiUser: 'unassigned' }
                })
            ).toMatchObject({ oauthPackage: 'todo', apiUser: 'todo' });
            expect(
                states({ setup: { oauthApp: 'unknown', apiUser: 'unknown' } })
            ).toMatchObject({ oauthPackage: 'check', apiUser: 'check' });
        });

        it('has the endpoint done once the backend answered, to do when it could not be read', () => {
            expect(states({ status: { status: 'unlinked' } }).endpoint).toBe(
                'done'
            );
            expect(
                states({
                    status: { status: 'needs_relink' },
                    statusError: true
                }).endpoint
            ).toBe('done');
            expect(states({ statusError: true }).endpoint).toBe('todo');
            expect(states({ status: { status: 'paused' } }).endpoint).toBe(
                'check'
            );
        });
    });

    describe('the IP allowlist for tokens', () => {
        const refused = {
            status: 'needs_relink',
            link: {
                lastError: {
                    code: 'IP_NOT_ALLOWED',
                    message: 'Allow 203.0.113.10.'
                }
            },
            egressAddresses: ['203.0.113.10', '2001:db8::/64']
        };

        it('offers Verify for a link refused for the backend’s address, not for another dead link', () => {
            expect(ipRefused(refused)).toBe(true);
            expect(statusActions(refused)).toEqual({
                verify: true,
                unlink: true,
                relink: true
            });
            const dead = {
                status: 'needs_relink',
                link: { lastError: { code: 'NEEDS_RELINK' } }
            };
            expect(ipRefused(dead)).toBe(false);
            expect(statusActions(dead).verify).toBe(false);
            expect(
                ipRefused({
                    status: 'linked',
                    link: { lastError: { code: 'IP_NOT_ALLOWED' } }
                })
            ).toBe(false);
        });

        it('shows the backend’s addresses when the operator named them, and whether they were refused', () => {
            expect(egressState(refused)).toEqual({
                addresses: ['203.0.113.10', '2001:db8::/64'],
                refused: true
            });
            expect(
                egressState({
                    status: 'linked',
                    egressAddresses: ['203.0.113.10', '']
                })
            ).toEqual({
                addresses: ['203.0.113.10'],
                refused: false
            });
            expect(
                egressState({ status: 'linked', egressAddresses: [] })
            ).toBeUndefined();
            expect(egressState({ status: 'linked' })).toBeUndefined();
        });

        it('sends an IP refusal to its own help section', () => {
            expect(errorHelpSection('IP_NOT_ALLOWED')).toBe(
                HELP_SECTIONS.ipAllowlist
            );
            expect(knowsErrorCode('IP_NOT_ALLOWED')).toBe(true);
        });
    });

    describe('the org key', () => {
        it('takes what the org answered about the ApiKey parameter', () => {
            expect(orgKeyState({ keyState: 'set' })).toBe('set');
            expect(orgKeyState({ keyState: 'missing' })).toBe('missing');
            expect(orgKeyState({ keyState: 'unknown' })).toBe('unknown');
            expect(orgKeyState({ keyState: 'Configured' })).toBe('unknown');
            expect(orgKeyState(undefined)).toBe('unknown');
        });

        it('when the org could not tell, the callout’s own failure does: UNAUTHORIZED means no key went with it', () => {
            expect(orgKeyState({ keyState: 'unknown' }, 'UNAUTHORIZED')).toBe(
                'missing'
            );
            expect(orgKeyState(undefined, 'UNAUTHORIZED')).toBe('missing');
            expect(
                orgKeyState({ keyState: 'unknown' }, 'SERVICE_UNREACHABLE')
            ).toBe('unknown');
            // The org's own answer wins: a key that is set but refused is a wrong key, not a missing one.
            expect(orgKeyState({ keyState: 'set' }, 'UNAUTHORIZED')).toBe(
                'set'
            );
        });

        it('lets the key section explain an UNAUTHORIZED status read only when the key is missing', () => {
            expect(
                keyExplainsStatusError({ keyState: 'missing' }, 'UNAUTHORIZED')
            ).toBe(true);
            expect(keyExplainsStatusError(undefined, 'UNAUTHORIZED')).toBe(
                true
            );
            expect(
                keyExplainsStatusError({ keyState: 'set' }, 'UNAUTHORIZED')
            ).toBe(false);
            expect(
                keyExplainsStatusError(
                    { keyState: 'missing' },
                    'SERVICE_UNREACHABLE'
                )
            ).toBe(false);
        });
    });
});
