// The preview's stand-in for the Apex class ContactCenterLinkSetup: the Apex asks the org two questions (does
// CustomPermission list the OAuth package's marker, and in which namespaces; how many active users hold
// Contact_Center_API_User); the demo server asks the emulated org the same questions, as the page's admin, and hands
// the answers over in the preview configuration (org.setup). This module decides from them as the Apex does. The
// preview's package stands in for a source deploy: it has no namespace, so a managed marker in any namespace counts.

import { previewContext } from 'preview/context';
import ERROR_NO_PERMISSION from '@salesforce/label/c.Ccl_ErrorNoPermission';

const APP_NAME = 'Contact Center Link';
/** ContactCenterLinkSetup.ownNamespace() of a class deployed from source. */
const OWN_NAMESPACE = null;

/** ContactCenterLinkSetup.markerInstalled: in this namespace, or for a source deploy in any managed one. */
function markerInstalled(namespaces, ownNamespace) {
    return namespaces.some((namespace) => Boolean(namespace) && (!ownNamespace || namespace === ownNamespace));
}

/** getSetupState(): { appName, oauthApp: 'installed' | 'not_installed' | 'unknown', apiUser: 'assigned' | 'unassigned' | 'unknown' }. */
export async function getSetupState() {
    const { org } = await previewContext();
    if (!org.user?.canManageLink) {
        throw {
            ok: false,
            status: 500,
            body: {
                message: ERROR_NO_PERMISSION,
                exceptionType: 'AuraHandledException'
            }
        };
    }
    const markers = org.setup?.oauthMarkerNamespaces;
    const assignments = org.setup?.apiUserAssignments;
    return {
        appName: APP_NAME,
        oauthApp: Array.isArray(markers) ? (markerInstalled(markers, OWN_NAMESPACE) ? 'installed' : 'not_installed') : 'unknown',
        apiUser: Number.isInteger(assignments) ? (assignments > 0 ? 'assigned' : 'unassigned') : 'unknown'
    };
}
