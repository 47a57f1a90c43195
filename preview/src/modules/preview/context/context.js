// What the preview stands in for: the emulated org the page runs in, the admin using it, and the
// contact-center account's key that the org's Named Credential would hold. Read once per page load,
// from the demo server's /preview/config.json.

const CONFIG_URL = '/preview/config.json';

let loading;

/** The page's requests to the demo's stand-ins for Salesforce's platform (the callout, ConnectApi) carry this header. */
export const PREVIEW_HEADERS = { 'X-Ccl-Preview': '1' };

function chooseOrg(config) {
    const params = new URL(window.location.href).searchParams;
    const requested = params.get('org');
    const key = requested && Object.hasOwn(config.orgs, requested) ? requested : config.defaultOrg;
    const org = config.orgs[key];
    // ?as=USERNAME: the page as another user of the org sees it (UserInfo in the Apex).
    const as = params.get('as');
    const user = (as && org.users?.find((candidate) => candidate.username === as)) || org.user;
    return { ...org, user, key, requested };
}

/** The preview's configuration plus `org`, the emulated org this page stands in (`?org=` chooses it). */
export function previewContext() {
    loading ??= fetch(CONFIG_URL, {
        headers: { Accept: 'application/json' },
        cache: 'no-store'
    })
        .then((response) => {
            if (!response.ok) {
                throw new Error(
                    `The preview configuration could not be read (HTTP ${response.status}). Is the server running in demo mode?`
                );
            }
            return response.json();
        })
        .then((config) => ({ ...config, org: chooseOrg(config) }))
        .catch((error) => {
            loading = undefined;
            throw error;
        });
    return loading;
}
