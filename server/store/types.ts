import type { Sealed } from '../crypto.ts';

/*
 * Sealed values (`Sealed`, see crypto.ts), for a store that maps them to columns:
 *  - v2 `{ v: 2, kid, iv, tag, data }`: AES-256-GCM, `kid` = first 16 hex characters of SHA-256(key), a 16-byte tag,
 *    and additional data `ccl|<purpose>|<owner>` that is not stored but derived from where the value lives:
 *      refresh_token       LinkRecord.refreshToken              owner = accountId
 *      legacy_credentials  LinkRecord.legacyCredentials         owner = accountId
 *      webhook_secret      AccountRecord.webhook.secret         owner = account id
 *      pkce_verifier       LinkSessionRecord.attempt.codeVerifier  owner = session id
 *      link_replay         LinkSessionRecord.attempt.replay        owner = session id
 *    A copy keeps the owner ids exactly as they are, or the values no longer open.
 *  - v1 `{ v: 1, iv, tag, data }`: the first format (no key id, no additional data), read until `accounts reseal`.
 */

export type Environment = 'production' | 'sandbox';
/** The link statuses (DESIGN.md's table), named once: the API's schema, the webhook and the card's Apex use these. */
export const LINK_STATUSES = ['unlinked', 'linked', 'legacy', 'needs_relink'] as const;
export type LinkStatus = (typeof LINK_STATUSES)[number];
export type LinkSessionState = 'pending' | 'linked' | 'failed' | 'expired';

export interface Actor {
    userId: string;
    username: string;
    /** Named by the caller (the org's Apex sends the running admin); the backend records it as said, not as proven. */
    claimed?: true;
}

/**
 * What a key may do. `link`: the org's key, in its External Credential: the link, its sessions, verify, unlink.
 * `platform`: the contact-center platform's key: call actions and the webhook.
 */
export type KeyScope = 'link' | 'platform';

export interface ErrorInfo {
    code: string;
    message: string;
}

export interface AccountRecord {
    id: string;
    name: string;
    /** The org's key (scope `link`). While the account has no platform key, it is its one key, with every scope (as before scopes). */
    apiKeyHash: string;
    createdAt: string;
    keyRotatedAt?: string;
    /** The platform's key (scope `platform`); once it exists, the org's key can no longer make calls or set the webhook. */
    platformKeyHash?: string;
    platformKeyRotatedAt?: string;
    /** Where link status changes are posted, signed with the sealed secret. */
    webhook?: { url: string; secret: Sealed; createdAt: string };
    /** The call actions' settings; unset means the backend's defaults. */
    callSettings?: { lookupReservePercent?: number; matching?: MatchingSettings; task?: TaskMappingRecord };
}

/** The objects a screen-pop lookup searches. */
export type PhoneObject = 'Contact' | 'Lead' | 'Account';

/** How the account's screen-pop lookups match callers (server/calls/matching.ts); each key unset means its default. */
export interface MatchingSettings {
    /** Custom phone fields searched besides the standard ones, per object (checked against the org's describe when saved). */
    customPhoneFields?: Partial<Record<PhoneObject, string[]>>;
    /** The rules that order several matches, first decides first. */
    order?: string[];
    /** The objects' order for the `objectType` rule. */
    objectOrder?: PhoneObject[];
    /** The region of numbers written without a country code, when the request names none. */
    region?: string;
}

/** What the lookup may ask of the link's org: read from the API user's describes (server/link/phoneFields.ts). */
export interface PhoneFieldFacts {
    checkedAt: string;
    /** Account has IsPersonAccount and PersonContactId: the org has Person Accounts. */
    personAccounts: boolean;
    /** Per object the API user can search: its readable phone fields, and the other fields the lookup answers with. */
    objects: Partial<Record<PhoneObject, { phone: string[]; answer: string[] }>>;
}

/** A Task field's value in the account's Task mapping: text may hold placeholders such as {disposition}. */
export type TaskFieldValue = string | number | boolean;

/** The account's Task mapping as saved (checked against the org's describe then); see server/calls/taskMapping.ts. */
export interface TaskMappingRecord {
    subject: string;
    /** The default row: every Task gets these, unless its disposition's row says otherwise. */
    defaultFields: Record<string, TaskFieldValue>;
    /** Platform disposition → field values ('': not set for that disposition; a null would not survive every store). */
    dispositions: Array<{ disposition: string; fields: Record<string, TaskFieldValue> }>;
    /** The record type, by DeveloperName, and the id the org's describe gave it when the mapping was saved. */
    recordType?: { developerName: string; id: string };
    relate: { contact: 'who' | 'who_and_account' | 'none'; lead: 'who' | 'none'; account: 'what' | 'none' };
    /** The org whose describe the mapping was checked against, and when. */
    checkedOrgId: string;
    checkedAt: string;
}

export interface PermissionCheck {
    id: string;
    label: string;
    ok: boolean;
    severity?: 'error' | 'warning';
    detail?: string;
}

/** What every link has, however it was made. */
interface LinkFields {
    accountId: string;
    status: Exclude<LinkStatus, 'unlinked'>;
    environment: Environment;
    orgId: string;
    /** The org's name (Organization.Name) when the link was made; links from before it was read have none. */
    orgName?: string;
    userId: string;
    username: string;
    displayName: string;
    userType?: string;
    instanceUrl: string;
    loginUrl: string;
    linkedAt: string;
    linkedBy?: Actor;
    lastVerifiedAt?: string;
    lastError?: ErrorInfo & { at: string };
    permissions?: { checkedAt: string; checks: PermissionCheck[] };
    /** The phone fields a screen-pop lookup may ask for, as the preflight or the matching settings' save last read them. */
    phoneFields?: PhoneFieldFacts;
    apiUsage?: { used: number; max: number; at: string };
    /** The org's remaining daily API requests fell under the account's reserve: screen-pop lookups pause until it lifts. */
    apiGuard?: { since: string; remaining: number; max: number; reserve: number };
    /** The health sweep could not reach Salesforce for this link: it tries again after `until` (kept here, so every instance sees it). */
    checkCooldown?: { failures: number; until: string };
}

/** A link made with the OAuth web server flow: it acts with its refresh token, sealed. */
export interface OAuthLinkRecord extends LinkFields {
    method: 'oauth';
    refreshToken: Sealed;
    /**
     * When the refresh token was last used for a refresh (Salesforce's idle refresh-token TTL counts from it; the
     * keepalive uses every link's token at least every SF_REFRESH_KEEPALIVE_SECONDS). None yet: counted from linkedAt.
     */
    lastRefreshedAt?: string;
    /**
     * When Salesforce issued the approval this link holds (the token response's `issued_at`). Of two sign-ins of one
     * account that finish together, the newer approval is kept: Salesforce may already have revoked the older one.
     */
    approvedAt?: string;
    /**
     * The latest access token with the instance and identity URLs it came with (a LiveSession as JSON), sealed: every
     * backend instance acts with it until Salesforce refuses it, so one refresh serves them all.
     */
    session?: Sealed;
    legacyCredentials?: never;
}

/** A link imported from the old method: username, password and security token, sealed until a relink replaces the link. */
export interface LegacyLinkRecord extends LinkFields {
    method: 'legacy';
    legacyCredentials: Sealed;
    refreshToken?: never;
}

export type LinkRecord = OAuthLinkRecord | LegacyLinkRecord;

export interface LinkSessionRecord {
    id: string;
    accountId: string;
    environment: Environment;
    loginUrl: string;
    expectedOrgId?: string;
    initiatedBy?: Actor;
    state: LinkSessionState;
    createdAt: string;
    expiresAt: string;
    /** Set by /oauth/start: hashes of the state parameter and of the popup's cookie nonce. */
    /**
     * `replay`: the attempt's state, nonce and PKCE pair, sealed, so a repeated /oauth/start answers the same attempt;
     * `replayFor`: the SHA-256 of the consent cookie of the browser it is replayed to, and to no other.
     */
    attempt?: { stateHash: string; cookieHash: string; codeVerifier: Sealed; startedAt: string; replay?: Sealed; replayFor?: string };
    completedAt?: string;
    error?: ErrorInfo;
}

export interface AuditEntry {
    at: string;
    accountId: string;
    action:
        | 'link'
        | 'relink'
        | 'link_failed'
        | 'unlink'
        | 'verify'
        | 'status_changed'
        | 'legacy_import'
        | 'key_rotated'
        | 'platform_key_issued'
        | 'account_created'
        | 'webhook_set'
        | 'webhook_removed'
        | 'tasks_kept'
        | 'tasks_replayed'
        | 'tasks_dropped';
    outcome: string;
    orgId?: string;
    username?: string;
    actor?: Actor;
    detail?: string;
}

/** Every row of a store, in the shape the lowdb files had: what `seed` takes and `dump` gives (tests, the move command). */
export interface Snapshot {
    accounts: AccountRecord[];
    links: LinkRecord[];
    linkSessions: LinkSessionRecord[];
    /** Oldest first. */
    audit: AuditEntry[];
    taskLedger: TaskLedger;
    /** Webhook events, oldest first (older snapshots have none). */
    outbox?: OutboxEvent[];
    /** Call Tasks kept for later, oldest call first (older snapshots have none). */
    keptTasks?: KeptTaskRecord[];
}

/**
 * A webhook event in the outbox: written in the transaction that changed the link's status, then
 * delivered by whichever backend instance claims it first, with its retries kept here.
 */
export interface OutboxEvent {
    /** Also the `id` of the body the receiver gets: the same on every attempt. */
    id: string;
    accountId: string;
    type: OutboxEventType;
    createdAt: string;
    /** `from` and `to` are the link's statuses (`link.status_changed`); the call events leave them out and say `calls` or `apiGuard`. */
    data: {
        accountId: string;
        from?: LinkStatus;
        to?: LinkStatus;
        orgId?: string;
        username?: string;
        reason?: string;
        calls?: { count: number; waiting: number; reason?: KeptTaskReason; choice?: 'make' | 'drop' };
        apiGuard?: { engaged: boolean; remaining: number; max: number; reserve: number };
    };
    state: 'pending' | 'delivered' | 'failed';
    attempts: number;
    /** Pending events: not tried again before this. */
    nextAttemptAt: string;
    /** The instance delivering it now, and until when its claim holds (a claim that lapsed is taken over). */
    claim?: { by: string; until: string };
    lastAttempt?: { at: string; status?: number; error?: string };
    deliveredAt?: string;
}

/**
 * The webhook events: a link's status change; call Tasks kept for later, made later, or dropped (by the admin's choice,
 * or past the bound); the org's API allowance guard engaged or lifted.
 */
export const OUTBOX_EVENT_TYPES = [
    'link.status_changed',
    'calls.kept',
    'calls.replayed',
    'calls.dropped',
    'api_guard.engaged',
    'api_guard.lifted'
] as const;
export type OutboxEventType = (typeof OUTBOX_EVENT_TYPES)[number];

/** Why a call's Task was kept for later instead of made at once. */
export const KEPT_TASK_REASONS = ['api_limit', 'salesforce_unavailable', 'needs_relink', 'not_linked'] as const;
export type KeptTaskReason = (typeof KEPT_TASK_REASONS)[number];

/**
 * A call's Task that could not be made when the platform asked (rule 13), kept until it can be: keyed by account and
 * call id. `waiting` rows are made by the replay as soon as the org answers (`nextAttemptAt`, with backoff);
 * `awaiting_choice` rows were kept for an org the account is no longer linked to, and wait for the admin's choice.
 */
export interface KeptTaskRecord {
    accountId: string;
    callId: string;
    /** The org the call was logged for (the account's link when it was kept). */
    orgId: string;
    /** The request body, as validated (the call Task's fields). */
    input: Record<string, unknown>;
    /** When the platform first asked: the call's own time, the Task's ActivityDate unless the request named one. */
    callAt: string;
    reason: KeptTaskReason;
    detail?: string;
    state: 'waiting' | 'awaiting_choice';
    attempts: number;
    nextAttemptAt: string;
    lastAttempt?: { at: string; error: string };
    /** The instance making it now, and until when its claim holds (a claim that lapsed is taken over). */
    claim?: { by: string; until: string };
}

/** What the status shows of an account's kept Tasks. */
export interface KeptTasksSummary {
    count: number;
    awaitingChoice: number;
    oldestCallAt?: string;
    /** Count per reason. */
    reasons: Partial<Record<KeptTaskReason, number>>;
    /** The org the ones awaiting a choice were kept for (the oldest's). */
    awaitingOrgId?: string;
}

/** The call Task of one call: `pending` from just before the create until Salesforce answers with its id. */
export interface TaskLedgerEntry {
    state: 'pending' | 'created';
    taskId?: string;
    at: string;
    /** Pending entries: which backend process claimed the call. */
    by?: string;
}

/** What the backend knows of the call Tasks it made, so a retried call never makes a second Task. */
export interface TaskLedger {
    /** When this ledger began recording: links made before it may have Tasks it does not know. */
    startedAt: string;
    /** Keyed `accountId|orgId (15 characters)|callId`. */
    calls: Record<string, TaskLedgerEntry>;
}

export const emptyTaskLedger = (at = new Date()): TaskLedger => ({ startedAt: at.toISOString(), calls: {} });

export const emptySnapshot = (): Snapshot => ({ accounts: [], links: [], linkSessions: [], audit: [], taskLedger: emptyTaskLedger() });
