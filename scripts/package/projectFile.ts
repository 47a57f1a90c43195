// sfdx-project.json checked offline the way `sf package version create` will read it: against the published
// sfdx-project JSON schema (@salesforce/schemas), then with the packaging library's own rules for versions and
// dependencies (@salesforce/packaging, in its own words), and the rules this project keeps about its three packages.
import { createRequire } from 'node:module';
import type { SchemaProblem } from '../metadataSchema.ts';

const require = createRequire(import.meta.url);
type AjvClass = typeof import('ajv').default;
const ajvModule = require('ajv') as AjvClass | { default: AjvClass };
const Ajv = 'default' in ajvModule ? ajvModule.default : ajvModule;
const PROJECT_SCHEMA = require('@salesforce/schemas/sfdx-project.schema.json') as object;
const { validateVersionNumber } =
    require('@salesforce/packaging/lib/package/packageVersionCreate.js') as typeof import('@salesforce/packaging/lib/package/packageVersionCreate.js');
const { BuildNumberToken } =
    require('@salesforce/packaging/lib/package/versionNumber.js') as typeof import('@salesforce/packaging/lib/package/versionNumber.js');
const { BY_LABEL, validateId, validateIdNoThrow } =
    require('@salesforce/packaging/lib/utils/packageUtils.js') as typeof import('@salesforce/packaging/lib/utils/packageUtils.js');
const { Messages } = require('@salesforce/core') as typeof import('@salesforce/core');

/** The id kinds of the packaging library's registry that a dependency names. */
function idKind(label: 'SUBSCRIBER_PACKAGE_VERSION_ID' | 'PACKAGE_ID'): NonNullable<(typeof BY_LABEL)[string]> {
    const kind = BY_LABEL[label];
    if (!kind) throw new Error(`@salesforce/packaging has no ${label} in its id registry`);
    return kind;
}

/** The packaging library's messages for package version creation (loaded when its module above is). */
const packagingMessages = Messages.loadMessages('@salesforce/packaging', 'package_version_create');

export interface Dependency {
    package?: string;
    packageId?: string;
    versionNumber?: string;
    subscriberPackageVersionId?: string;
    branch?: string;
}

export interface PackageDirectory {
    path: string;
    package?: string;
    versionNumber?: string;
    default?: boolean;
    dependencies?: Dependency[];
}

export interface ProjectFile {
    sourceApiVersion: string;
    namespace?: string;
    packageDirectories: PackageDirectory[];
    packageAliases?: Record<string, string>;
}

const FILE = 'sfdx-project.json';

function message(error: unknown): string {
    return error instanceof Error ? error.message : String(error);
}

/** Problems against the published sfdx-project JSON schema. */
export function schemaProblems(project: unknown): SchemaProblem[] {
    const ajv = new Ajv({ allErrors: true, strict: false });
    const validate = ajv.compile(PROJECT_SCHEMA);
    if (validate(project)) return [];
    return (validate.errors ?? []).map((error) => ({
        file: FILE,
        element: error.instancePath || '(root)',
        message: `${error.message ?? 'is not valid'}${error.params && 'additionalProperty' in error.params ? `: ${String(error.params.additionalProperty)}` : ''} (the published sfdx-project schema)`
    }));
}

/**
 * What the packaging library checks of one dependency before it asks the Dev Hub anything: an 04t id, or a package
 * (its alias or 0Ho id) with a versionNumber whose build is a number, LATEST or RELEASED. A package named but not yet
 * aliased must be one of this project's packages (`sf package create` adds its alias).
 */
export function dependencyProblems(project: ProjectFile, directory: PackageDirectory, dependency: Dependency, index: number): string[] {
    const problems: string[] = [];
    const where = `${directory.path} dependency ${index + 1}`;
    const fail = (text: string): void => {
        problems.push(`${where}: ${text}`);
    };
    try {
        if (dependency.subscriberPackageVersionId) {
            validateId(idKind('SUBSCRIBER_PACKAGE_VERSION_ID'), dependency.subscriberPackageVersionId);
            return problems;
        }
        if (dependency.packageId && dependency.package) {
            fail(packagingMessages.getMessage('errorPackageAndPackageIdCollision'));
            return problems;
        }
        const idOrPackage = dependency.packageId ?? dependency.package;
        if (!idOrPackage) {
            fail(packagingMessages.getMessage('errorPackageOrPackageIdMissing'));
            return problems;
        }
        const resolved = project.packageAliases?.[idOrPackage] ?? idOrPackage;
        if (validateIdNoThrow(idKind('SUBSCRIBER_PACKAGE_VERSION_ID'), resolved)) return problems;
        if (!dependency.versionNumber) {
            fail(packagingMessages.getMessage('errorDependencyPair', [JSON.stringify(dependency)]));
            return problems;
        }
        validateVersionNumber(
            dependency.versionNumber,
            BuildNumberToken.LATEST_BUILD_NUMBER_TOKEN,
            BuildNumberToken.RELEASED_BUILD_NUMBER_TOKEN
        );
        if (project.packageAliases?.[idOrPackage] || /^0Ho/.test(idOrPackage)) {
            validateId(idKind('PACKAGE_ID'), resolved);
        } else if (!project.packageDirectories.some((other) => other.package === idOrPackage)) {
            fail(`"${idOrPackage}" is neither an alias in packageAliases nor a package of this project`);
        }
    } catch (error) {
        fail(message(error));
    }
    return problems;
}

/** The packaging library's rules, offline, for every package directory and dependency. */
export function packagingProblems(project: ProjectFile): SchemaProblem[] {
    const problems: SchemaProblem[] = [];
    for (const directory of project.packageDirectories) {
        if (!directory.package) continue;
        try {
            validateVersionNumber(directory.versionNumber ?? '', BuildNumberToken.NEXT_BUILD_NUMBER_TOKEN);
        } catch (error) {
            problems.push({ file: FILE, element: `${directory.path}.versionNumber`, message: message(error) });
        }
        (directory.dependencies ?? []).forEach((dependency, index) => {
            for (const text of dependencyProblems(project, directory, dependency, index)) {
                problems.push({ file: FILE, element: `${directory.path}.dependencies`, message: text });
            }
        });
    }
    return problems;
}

/**
 * This project's own rules: three packages in one namespace, the main one the default; the OAuth package stands alone
 * (a sandbox whose main package was deployed from source installs it too); the endpoint package depends on the main one.
 */
export function layoutProblems(project: ProjectFile): SchemaProblem[] {
    const problems: SchemaProblem[] = [];
    const byPath = new Map(project.packageDirectories.map((directory) => [directory.path, directory]));
    const main = byPath.get('force-app');
    const fail = (element: string, text: string): void => {
        problems.push({ file: FILE, element, message: text });
    };
    if (!main?.default) fail('force-app', 'must be the default package directory');
    const oauth = byPath.get('force-app-oauth');
    if (!oauth?.package) fail('force-app-oauth', 'must be a package (the OAuth app travels only in a managed package)');
    else if ((oauth.dependencies ?? []).length > 0) {
        fail('force-app-oauth.dependencies', 'the OAuth package stands alone: it may depend on no package');
    }
    const endpoint = byPath.get('force-app-endpoint');
    if (!endpoint?.dependencies?.some((dependency) => dependency.package === main?.package)) {
        fail(
            'force-app-endpoint.dependencies',
            `must depend on ${main?.package ?? 'the main package'} (its Named Credential uses the External Credential)`
        );
    }
    return problems;
}

/** Every problem of sfdx-project.json, schema first. */
export function checkProjectFile(project: unknown): SchemaProblem[] {
    const problems = schemaProblems(project);
    if (problems.length > 0) return problems;
    const typed = project as ProjectFile;
    return [...packagingProblems(typed), ...layoutProblems(typed)];
}
