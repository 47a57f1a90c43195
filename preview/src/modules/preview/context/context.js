// What the preview stands in for: the emulated org the page runs in, the admin using it, and the
// contact-center account's key that the org's Named Credential would hold. Read once per page load,
// from the demo server's /preview/config.json.

const CONFIG_URL = '/preview/config.json';

let loading;

function chooseOrg(config) {
    const requested = new URL(window.location.href).searchParams.get('org');
    const key = requested && Object.hasOwn(config.orgs, requested) ? requested : config.defaultOrg;
    return { ...config.orgs[key], key, requested };
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
