// npm run lint:deps: every package the lockfile installs, checked against the advisories the project keeps in
// scripts/dependency-advisories.json. It needs no network: the registry this project installs from does not serve
// npm's audit endpoint (npm audit answers 405). docs/security.md says how the list is kept current.
import { readFileSync } from 'node:fs';
import semver from 'semver';

export interface Advisory {
    id: string;
    package: string;
    /** A semver range (`||` between the affected lines). */
    vulnerable: string;
    severity: 'low' | 'moderate' | 'high' | 'critical';
    summary: string;
    url: string;
}

/** A finding looked at and accepted for one installed copy: it must say why. */
export interface Accepted {
    id: string;
    path: string;
    reason: string;
}

export interface AdvisoryList {
    /** When the list was last compared with the sources named in docs/security.md. */
    reviewed: string;
    advisories: Advisory[];
    accepted: Accepted[];
}

export interface Lockfile {
    lockfileVersion: number;
    packages: Record<string, { version?: string; link?: boolean }>;
}

export interface Finding {
    path: string;
    advisory: Advisory;
    line: string;
}

/** `node_modules/a/node_modules/@scope/b` → `@scope/b`. */
const packageName = (path: string): string => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);

export function auditLockfile(lock: Lockfile, list: AdvisoryList): { findings: Finding[]; checked: number } {
    for (const advisory of list.advisories)
        if (semver.validRange(advisory.vulnerable) === null)
            throw new Error(`Advisory ${advisory.id}: "${advisory.vulnerable}" is not a version range.`);
    for (const accepted of list.accepted)
        if (!accepted.reason?.trim()) throw new Error(`The accepted finding ${accepted.id} at ${accepted.path} gives no reason.`);
    const byPackage = new Map<string, Advisory[]>();
    for (const advisory of list.advisories) byPackage.set(advisory.package, [...(byPackage.get(advisory.package) ?? []), advisory]);
    const findings: Finding[] = [];
    let checked = 0;
    for (const [path, entry] of Object.entries(lock.packages)) {
        if (!path.includes('node_modules/') || !entry.version || entry.link) continue;
        checked++;
        for (const advisory of byPackage.get(packageName(path)) ?? []) {
            if (!semver.satisfies(entry.version, advisory.vulnerable, { includePrerelease: true })) continue;
            if (list.accepted.some((a) => a.id === advisory.id && a.path === path)) continue;
            findings.push({
                path,
                advisory,
                line: `${advisory.package} ${entry.version} at ${path}: ${advisory.id} (${advisory.severity}) ${advisory.summary}; affected ${advisory.vulnerable}. ${advisory.url}`
            });
        }
    }
    return { findings, checked };
}

if (process.argv[1]?.endsWith('auditDependencies.ts')) {
    const read = <T>(file: string): T => JSON.parse(readFileSync(new URL(file, import.meta.url), 'utf8')) as T;
    const list = read<AdvisoryList>('./dependency-advisories.json');
    const { findings, checked } = auditLockfile(read<Lockfile>('../package-lock.json'), list);
    for (const finding of findings) console.error(finding.line);
    const ageDays = Math.floor((Date.now() - Date.parse(list.reviewed)) / 86_400_000);
    if (ageDays > 90)
        console.warn(
            `The advisory list was last reviewed ${ageDays} days ago (${list.reviewed}): review it (docs/security.md, "Dependencies").`
        );
    console.log(
        findings.length === 0
            ? `Dependencies: ${checked} installed packages checked against ${list.advisories.length} advisories (reviewed ${list.reviewed}): none affected.`
            : `Dependencies: ${findings.length} installed package${findings.length === 1 ? '' : 's'} affected (above). Update them, or accept each with its reason in scripts/dependency-advisories.json.`
    );
    process.exit(findings.length === 0 ? 0 : 1);
}
