import type { SalesforceError } from '../salesforce/gateway.ts';

/** Salesforce's terse invalid_grant descriptions, said in words an admin can act on. */
export function describeDeadGrant(error: SalesforceError): string {
    const text = error.message.toLowerCase();
    if (text.includes('inactive')) return 'The API user is inactive or frozen in Salesforce. Reactivate the user, then relink.';
    if (text.includes('ip restricted') || text.includes('restricted ip'))
        return 'Salesforce refused the API user from this server’s IP address. Remove the IP restriction on the user’s profile, then relink.';
    if (text.includes('restricted time') || text.includes('login hours'))
        return 'The API user’s login hours do not allow access now. Remove the login-hour restriction, then relink.';
    if (text.includes('not approved'))
        return 'The External Client App admits only pre-authorized users and this API user is not one. Add its profile or permission set to the app’s policies, then relink.';
    return 'Salesforce no longer accepts this link: it was revoked (by an admin, a sixth approval or the app’s refresh token policy), or the sandbox was refreshed. Relink to restore it.';
}
