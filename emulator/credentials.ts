// The package's Named Credential and its External Credential in each org, as ConnectApi.NamedCredentials sees them.
// The External Credential (Custom protocol) has one named principal, ApiKey, whose authentication parameter ApiKey
// holds the contact-center account's org key; the Named Credential holds the backend's URL. A sandbox copy keeps
// the definitions and the URL but none of the principal's parameters.

export const PACKAGE_CREDENTIAL = {
    externalCredential: 'ContactCenterLink',
    principal: 'ApiKey',
    parameter: 'ApiKey',
    namedCredential: 'ContactCenterLink',
    /** the URL the package's metadata ships with */
    placeholderUrl: 'https://contact-center-link.example.com'
} as const;

export interface CredentialValue {
    value: string;
    encrypted: boolean;
}

export interface PrincipalModel {
    principalName: string;
    principalType: 'NamedPrincipal';
    sequenceNumber: number;
    /** authentication parameters: name → value */
    credentials: Map<string, CredentialValue>;
}

export interface ExternalCredentialModel {
    developerName: string;
    masterLabel: string;
    authenticationProtocol: 'Custom';
    principals: PrincipalModel[];
}

export interface NamedCredentialModel {
    developerName: string;
    masterLabel: string;
    url: string;
    externalCredential: string;
}

/** The credentials of the package as installed: the principal exists, its parameter is still empty. */
export function packageCredentials(): { externalCredentials: ExternalCredentialModel[]; namedCredentials: NamedCredentialModel[] } {
    return {
        externalCredentials: [
            {
                developerName: PACKAGE_CREDENTIAL.externalCredential,
                masterLabel: 'Contact Center Link',
                authenticationProtocol: 'Custom',
                principals: [
                    {
                        principalName: PACKAGE_CREDENTIAL.principal,
                        principalType: 'NamedPrincipal',
                        sequenceNumber: 1,
                        credentials: new Map()
                    }
                ]
            }
        ],
        namedCredentials: [
            {
                developerName: PACKAGE_CREDENTIAL.namedCredential,
                masterLabel: 'Contact Center Link',
                url: PACKAGE_CREDENTIAL.placeholderUrl,
                externalCredential: PACKAGE_CREDENTIAL.externalCredential
            }
        ]
    };
}

/** A sandbox copy of production's credentials: same definitions and URLs, no principal parameters. */
export function copyWithoutSecrets(from: { externalCredentials: ExternalCredentialModel[]; namedCredentials: NamedCredentialModel[] }): {
    externalCredentials: ExternalCredentialModel[];
    namedCredentials: NamedCredentialModel[];
} {
    return {
        externalCredentials: from.externalCredentials.map((ec) => ({
            ...ec,
            principals: ec.principals.map((p) => ({ ...p, credentials: new Map() }))
        })),
        namedCredentials: from.namedCredentials.map((nc) => ({ ...nc }))
    };
}

/**
 * ConnectApi.Credential for a principal, as getCredential answers it: the Custom protocol's status is "Unknown"
 * (Salesforce cannot tell whether a custom credential is complete), `credentials` has one entry per parameter set,
 * and an encrypted value is never read back (value null).
 */
export function credentialView(ec: ExternalCredentialModel, principal: PrincipalModel): Record<string, unknown> {
    const credentials: Record<string, { encrypted: boolean; value: string | null }> = {};
    for (const [name, v] of principal.credentials) credentials[name] = { encrypted: v.encrypted, value: v.encrypted ? null : v.value };
    return {
        authenticationProtocol: ec.authenticationProtocol,
        authenticationProtocolVariant: null,
        authenticationStatus: 'Unknown',
        credentials,
        externalCredential: ec.developerName,
        principalName: principal.principalName,
        principalType: principal.principalType
    };
}

/**
 * ConnectApi.ExternalCredential, as getExternalCredential answers it: the definition, its custom header and its
 * principals, whose status is "Unknown" for the Custom protocol. Nothing in it tells whether a principal's secret is
 * set: getCredential's `credentials` does.
 */
export function externalCredentialView(ec: ExternalCredentialModel, named: NamedCredentialModel[]): Record<string, unknown> {
    return {
        authenticationProtocol: ec.authenticationProtocol,
        authenticationProtocolVariant: null,
        authenticationStatus: 'Unknown',
        customHeaders: [
            {
                headerName: 'Authorization',
                headerValue: `Bearer {!$Credential.${ec.developerName}.${PACKAGE_CREDENTIAL.parameter}}`,
                sequenceNumber: 1
            }
        ],
        developerName: ec.developerName,
        masterLabel: ec.masterLabel,
        parameters: [],
        principals: ec.principals.map((p) => ({
            authenticationStatus: 'Unknown',
            parameters: [],
            principalName: p.principalName,
            principalType: p.principalType,
            sequenceNumber: p.sequenceNumber
        })),
        relatedNamedCredentials: named
            .filter((nc) => nc.externalCredential === ec.developerName)
            .map((nc) => ({ developerName: nc.developerName, masterLabel: nc.masterLabel }))
    };
}

/** ConnectApi.NamedCredential (the setup view of a named credential). */
export function namedCredentialView(nc: NamedCredentialModel): Record<string, unknown> {
    return {
        developerName: nc.developerName,
        masterLabel: nc.masterLabel,
        type: 'SecuredEndpoint',
        calloutUrl: nc.url,
        externalCredentials: [{ developerName: nc.externalCredential }]
    };
}

/** Validates a `credentials` map of a create or update: parameter name → { value, encrypted }. */
export function parseCredentialInput(raw: unknown): Map<string, CredentialValue> {
    if (!raw || typeof raw !== 'object' || Array.isArray(raw))
        throw new Error('credentials must be an object of parameter name → { value, encrypted }');
    const out = new Map<string, CredentialValue>();
    for (const [name, v] of Object.entries(raw as Record<string, unknown>)) {
        if (!/^[A-Za-z][A-Za-z0-9_]{0,79}$/.test(name)) throw new Error(`not a parameter name: ${name}`);
        const item = v as { value?: unknown; encrypted?: unknown } | null;
        if (!item || typeof item !== 'object' || typeof item.value !== 'string' || !item.value)
            throw new Error(`credentials.${name}.value must be a non-empty string`);
        if (typeof item.encrypted !== 'boolean') throw new Error(`credentials.${name}.encrypted must be a boolean (it is required)`);
        out.set(name, { value: item.value, encrypted: item.encrypted });
    }
    if (!out.size) throw new Error('credentials must name at least one parameter');
    return out;
}
