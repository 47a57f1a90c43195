// What the preview's stand-in for ContactCenterLinkSetup needs from the org: the answers to the two questions the
// Apex class asks (its SOQL, with this package's binds: deployed from source, so no namespace), put to the emulated
// org as the page's admin through the emulator's own SOQL engine. The demo hands them over in the preview
// configuration; preview/src/apex/ContactCenterLinkSetup.js decides from them as the Apex does.

import type { EmulatorState, OrgKey } from '../emulator/index.ts';
import { Access } from '../emulator/permissions.ts';
import { runQuery } from '../emulator/soql.ts';

/** The marker the OAuth package carries and the API user's permission set (ContactCenterLinkSetup's constants). */
export const OAUTH_MARKER = 'Contact_Center_Link_OAuth_App';
export const API_USER_PERMISSION_SET = 'Contact_Center_API_User';

/** ContactCenterLinkSetup's two queries, as a source-deployed package binds them. */
export const SETUP_QUERIES = {
    marker: `SELECT NamespacePrefix FROM CustomPermission WHERE DeveloperName = '${OAUTH_MARKER}'`,
    apiUserAssignments: `SELECT COUNT() FROM PermissionSetAssignment WHERE PermissionSet.Name = '${API_USER_PERMISSION_SET}' AND PermissionSet.NamespacePrefix = null AND Assignee.IsActive = TRUE`
};

export interface SetupFacts {
    /** The NamespacePrefix of each CustomPermission named like the marker. */
    oauthMarkerNamespaces: Array<string | null>;
    /** How many active users hold the API user's permission set. */
    apiUserAssignments: number;
}

/** The org's answers to ContactCenterLinkSetup's queries, asked as `username`. */
export function setupFacts(state: EmulatorState, orgKey: OrgKey, username: string): SetupFacts {
    const found = state.findUserByUsername(username);
    const org = state.orgModel(orgKey);
    if (!found || found.org !== org) throw new Error(`${username} is no user of ${orgKey}`);
    const access = new Access(org, found.user);
    const markers = runQuery(SETUP_QUERIES.marker, org, access, state.apiVersion).records;
    return {
        oauthMarkerNamespaces: markers.map((record) => (record['NamespacePrefix'] as string | null | undefined) ?? null),
        apiUserAssignments: runQuery(SETUP_QUERIES.apiUserAssignments, org, access, state.apiVersion).totalSize
    };
}

/** ContactCenterLinkOrgKey's query for the admins to ask, as a source-deployed package binds it. */
export const LINK_ADMINS_QUERY = `SELECT Assignee.Name FROM PermissionSetAssignment WHERE PermissionSet.Name = 'Contact_Center_Link_Admin' AND PermissionSet.NamespacePrefix = null AND Assignee.IsActive = TRUE ORDER BY Assignee.Name LIMIT 5`;

/** The org's answer to that query, asked as `username`: the admins' names, or null when the org refuses the user. */
export function linkAdminNames(state: EmulatorState, orgKey: OrgKey, username: string): string[] | null {
    const found = state.findUserByUsername(username);
    const org = state.orgModel(orgKey);
    if (!found || found.org !== org) throw new Error(`${username} is no user of ${orgKey}`);
    try {
        return runQuery(LINK_ADMINS_QUERY, org, new Access(org, found.user), state.apiVersion).records.map(
            (record) => (record['Assignee'] as { Name?: string } | null)?.Name ?? ''
        );
    } catch {
        return null;
    }
}
