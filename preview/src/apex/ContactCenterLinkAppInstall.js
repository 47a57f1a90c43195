// The preview's stand-in for the Apex class ContactCenterLinkAppInstall: where the Apex asks the org whether it lists
// the contact center's OAuth app (ConnectedApplication, AppMenuItem), this module reads what the emulated org says
// (installed or not), as the demo server hands it over in the preview configuration.

import { previewContext } from 'preview/context';
import ERROR_NO_PERMISSION from '@salesforce/label/c.Ccl_ErrorNoPermission';

/** getAppInstallState(): { state: 'installed' | 'not_installed' | 'unknown', appName }. */
export async function getAppInstallState() {
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
    const state = typeof org.appInstalled === 'boolean' ? (org.appInstalled ? 'installed' : 'not_installed') : 'unknown';
    return { state, appName: 'Contact Center Link' };
}
