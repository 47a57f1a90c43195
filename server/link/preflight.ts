import { AppError } from '../errors.ts';
import { sameSalesforceId } from '../salesforceIds.ts';
import {
    SalesforceError,
    type CompositeResult,
    type CompositeSubrequest,
    type Identity,
    type SalesforceGateway,
    type TokenSet
} from '../salesforce/gateway.ts';
import type { PermissionCheck, TaskMappingRecord } from '../store/types.ts';
import { API_USER_PERMISSION_SET, apiNotEnabled } from './messages.ts';
import { taskMappingPreflight } from './taskMappingCheck.ts';

/** Task fields the call actions write; each must be createable by the API user. */
export const TASK_CALL_FIELDS = [
    'WhoId',
    'WhatId',
    'CallObject',
    'CallType',
    'CallDurationInSeconds',
    'CallDisposition',
    'Description',
    'Type',
    'Status',
    'Subject',
    'ActivityDate',
    'OwnerId',
    'TaskSubtype'
] as const;

const READ_OBJECTS = [
    { name: 'Contact', required: true },
    { name: 'Lead', required: true },
    { name: 'Account', required: true },
    { name: 'Case', required: false }
] as const;

/** Composite references (`@{ref.path}`) must stay literal inside the encoded query. */
const soql = (query: string) =>
    `query?q=${encodeURIComponent(query).replace(/%40%7B[A-Za-z0-9_.%]+?%7D/g, (ref) => decodeURIComponent(ref))}`;

/** Everything the link needs after the token, in one Composite request: the identity facts and the permission checks. */
export function preflightRequests(userId: string): CompositeSubrequest[] {
    const safeUserId = userId.replace(/[^A-Za-z0-9]/g, '');
    return [
        {
            referenceId: 'perms',
            path: soql(
                'SELECT PermissionsApiEnabled, PermissionsApiUserOnly, PermissionsEditTask, PermissionsViewAllUsers, PermissionsViewAllData FROM UserPermissionAccess'
            )
        },
        {
            referenceId: 'user',
            path: soql(
                `SELECT Id, Username, Name, Email, IsActive, UserType, Profile.Name, Profile.UserLicenseId FROM User WHERE Id = '${safeUserId}'`
            )
        },
        { referenceId: 'license', path: soql("SELECT Name FROM UserLicense WHERE Id = '@{user.records[0].Profile.UserLicenseId}'") },
        { referenceId: 'org', path: soql('SELECT Id, Name, IsSandbox, DefaultContactAccess FROM Organization') },
        { referenceId: 'Task', path: 'sobjects/Task/describe' },
        ...READ_OBJECTS.map((o) => ({ referenceId: o.name, path: `sobjects/${o.name}/describe` }))
    ];
}

/** The preflight's one Composite request as the user (`signal`: the caller's deadline); a user or org without API access is API_NOT_ENABLED. */
export async function runPreflight(
    gateway: Pick<SalesforceGateway, 'composite'>,
    tokens: Pick<TokenSet, 'instanceUrl' | 'accessToken' | 'userId'>,
    signal?: AbortSignal
): Promise<Map<string, CompositeResult>> {
    try {
        return await gateway.composite(tokens, preflightRequests(tokens.userId), signal);
    } catch (error) {
        if (error instanceof SalesforceError && API_NOT_ENABLED.has(error.code)) throw apiNotEnabled();
        throw error;
    }
}

const API_NOT_ENABLED = new Set(['API_DISABLED_FOR_ORG', 'API_CURRENTLY_DISABLED', 'FUNCTIONALITY_NOT_ENABLED']);

interface Describe {
    queryable?: boolean;
    searchable?: boolean;
    createable?: boolean;
    updateable?: boolean;
    fields?: Array<{ name: string; type?: string; createable?: boolean }>;
}

const ok = (r: CompositeResult | undefined): boolean => !!r && r.status >= 200 && r.status < 300;
const firstRecord = (r: CompositeResult | undefined): Record<string, unknown> | undefined =>
    ok(r) ? ((r!.body as { records?: Array<Record<string, unknown>> }).records?.[0] ?? undefined) : undefined;

const check = (id: string, label: string, passed: boolean, severity: 'error' | 'warning', detail?: string): PermissionCheck => ({
    id,
    label,
    ok: passed,
    severity,
    ...(detail ? { detail } : {})
});

/** Turns the composite answers into the checks the card shows; each failure says what to grant. `taskMapping`: the account's saved one. */
export function evaluatePreflight(results: Map<string, CompositeResult>, taskMapping?: TaskMappingRecord): PermissionCheck[] {
    const checks: PermissionCheck[] = [];
    const perms = firstRecord(results.get('perms'));
    const user = firstRecord(results.get('user'));
    const profile = user?.Profile as { Name?: string } | null | undefined;
    const license = firstRecord(results.get('license'))?.Name as string | undefined;
    const org = firstRecord(results.get('org'));
    const flag = (name: string): boolean | undefined => (perms ? perms[name] === true : undefined);
    const unknown = 'Salesforce did not let the API user read its own permissions, so this could not be checked.';

    checks.push(
        check(
            'api_enabled',
            'API Enabled',
            flag('PermissionsApiEnabled') !== false,
            'error',
            flag('PermissionsApiEnabled') === false
                ? `Grant "API Enabled" (the ${API_USER_PERMISSION_SET} permission set does).`
                : undefined
        )
    );
    checks.push(
        check(
            'user_active',
            'User is active',
            user?.IsActive !== false,
            'error',
            user?.IsActive === false ? 'Activate the API user in Setup → Users.' : undefined
        )
    );
    checks.push(
        check(
            'api_only',
            'API Only user (recommended)',
            flag('PermissionsApiUserOnly') === true,
            'warning',
            flag('PermissionsApiUserOnly') === true
                ? undefined
                : perms
                  ? 'An API-only user cannot log in to the Salesforce UI, which keeps the integration’s credentials out of people’s hands.'
                  : unknown
        )
    );
    const isAdmin = /system administrator/i.test(profile?.Name ?? '');
    const integrationLicense = license === 'Salesforce Integration';
    checks.push(
        check(
            'user_license',
            'Integration user license (recommended)',
            integrationLicense && !isAdmin,
            'warning',
            isAdmin
                ? 'The API user has the System Administrator profile and can do anything in the org. Use a Salesforce Integration user with the "Minimum Access – API Only Integrations" profile.'
                : integrationLicense
                  ? undefined
                  : `The API user has ${license ? `a ${license} license` : 'another license'}${profile?.Name ? ` and the "${profile.Name}" profile` : ''}. A Salesforce Integration user license is recommended.`
        )
    );

    const task = ok(results.get('Task')) ? (results.get('Task')!.body as Describe) : undefined;
    const editTask = flag('PermissionsEditTask');
    checks.push(
        check(
            'task_create',
            'Create Tasks',
            task?.createable === true,
            'error',
            task?.createable === true
                ? undefined
                : `Grant "Edit Tasks" and create access on Task (the ${API_USER_PERMISSION_SET} permission set does).`
        )
    );
    checks.push(
        check(
            'task_update',
            'Edit Tasks',
            task?.updateable === true && editTask !== false,
            'error',
            task?.updateable === true && editTask !== false
                ? undefined
                : `Grant "Edit Tasks" (the ${API_USER_PERMISSION_SET} permission set does).`
        )
    );
    if (task) {
        const createable = new Set((task.fields ?? []).filter((f) => f.createable).map((f) => f.name));
        const missing = TASK_CALL_FIELDS.filter((name) => !createable.has(name));
        checks.push(
            check(
                'task_fields',
                'Task call fields writable',
                missing.length === 0,
                'error',
                missing.length
                    ? `Grant edit access to Task.${missing.join(', Task.')} (field-level security, in the ${API_USER_PERMISSION_SET} permission set).`
                    : undefined
            )
        );
        const mappingCheck = taskMappingPreflight(taskMapping, task);
        if (mappingCheck) checks.push(mappingCheck);
    }

    const unsearchable: string[] = [];
    for (const object of READ_OBJECTS) {
        const describe = ok(results.get(object.name)) ? (results.get(object.name)!.body as Describe) : undefined;
        const readable = describe?.queryable === true;
        checks.push(
            check(
                `read_${object.name.toLowerCase()}`,
                `Read ${object.name}`,
                readable,
                object.required ? 'error' : 'warning',
                readable ? undefined : `Grant read access on ${object.name} (the ${API_USER_PERMISSION_SET} permission set does).`
            )
        );
        if (object.name !== 'Case' && readable && describe?.searchable !== true) unsearchable.push(object.name);
    }
    checks.push(
        check(
            'phone_search',
            'Phone fields searchable',
            unsearchable.length === 0,
            'error',
            unsearchable.length
                ? `${unsearchable.join(', ')} cannot be searched by this user, so screen pops would find nothing. Make the objects searchable for the API user.`
                : undefined
        )
    );

    checks.push(
        check(
            'view_all_users',
            'View All Users',
            flag('PermissionsViewAllUsers') === true,
            'warning',
            flag('PermissionsViewAllUsers') === true
                ? undefined
                : `Needed to look up agents by their Salesforce user. Grant "View All Users" (the ${API_USER_PERMISSION_SET} permission set does).`
        )
    );
    const contactAccess = org?.DefaultContactAccess as string | undefined;
    const privateContacts = contactAccess === 'None' || contactAccess === 'Private';
    if (privateContacts) {
        const viewAll = flag('PermissionsViewAllData') === true;
        checks.push(
            check(
                'private_sharing',
                'Sees every Contact',
                viewAll,
                'warning',
                viewAll
                    ? undefined
                    : 'The org-wide default for Contacts is Private and the API user lacks "View All Data": screen pops will miss Contacts the API user does not own.'
            )
        );
    }
    return checks;
}

export const failedRequiredChecks = (checks: PermissionCheck[]): PermissionCheck[] => checks.filter((c) => !c.ok && c.severity === 'error');

/** Who signed in, and the name of their org (the card shows it beside the org id). */
export type LinkIdentity = Identity & { orgName?: string };

/**
 * The identity facts the link keeps, from the same Composite answers (no identity URL call): the user and org records
 * must be the ones the signed token names, or nothing from them is trusted.
 */
export function identityFromPreflight(results: Map<string, CompositeResult>, tokens: Pick<TokenSet, 'orgId' | 'userId'>): LinkIdentity {
    const user = firstRecord(results.get('user'));
    const org = firstRecord(results.get('org'));
    if (!user || !org || typeof user.Id !== 'string' || typeof org.Id !== 'string' || typeof user.Username !== 'string') {
        throw new AppError(
            'TOKEN_EXCHANGE_FAILED',
            'Salesforce did not describe the user who signed in. Start the link again from the card.',
            502
        );
    }
    if (!sameSalesforceId(org.Id, tokens.orgId) || !sameSalesforceId(user.Id, tokens.userId)) {
        throw new AppError(
            'TOKEN_EXCHANGE_FAILED',
            'Salesforce described a different user than the token names. Start the link again from the card.',
            502
        );
    }
    return {
        orgId: tokens.orgId,
        userId: tokens.userId,
        username: user.Username,
        displayName: typeof user.Name === 'string' && user.Name ? user.Name : user.Username,
        email: typeof user.Email === 'string' ? user.Email : undefined,
        userType: typeof user.UserType === 'string' ? user.UserType : undefined,
        active: user.IsActive !== false,
        orgName: typeof org.Name === 'string' && org.Name ? org.Name : undefined
    };
}
