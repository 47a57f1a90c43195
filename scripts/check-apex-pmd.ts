// Salesforce Code Analyzer's PMD rules on the package: on the Apex, the Security and
// BestPractices categories and the AppExchange security-review rules; on the metadata
// XML, the AppExchange rules (insecure remote sites, connected app scope, secrets in
// unprotected settings...). A finding is either fixed or suppressed in the code with a
// one-line reason.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PmdEngine } from '@salesforce/code-analyzer-pmd-engine';
import { Workspace } from '@salesforce/code-analyzer-engine-api';

export const RULE_TAGS = ['Security', 'BestPractices', 'AppExchange'];

export interface PmdFinding {
    rule: string;
    file: string;
    line: number;
    message: string;
}

/** Runs the selected rules on the Apex under the given directories; also returns the rule names. */
export async function runPmd(
    directories: string[],
    java = process.env.PMD_JAVA ?? 'java'
): Promise<{ rules: string[]; findings: PmdFinding[] }> {
    const engine = new PmdEngine({
        java_command: java,
        rule_languages: ['apex', 'xml'] as never,
        file_extensions: { apex: ['.cls', '.trigger'], xml: ['.xml'] } as never,
        java_classpath_entries: [],
        custom_rulesets: []
    });
    const workspace = new Workspace(
        'contact-center-link',
        directories.map((dir) => path.resolve(dir))
    );
    const work = await mkdtemp(path.join(tmpdir(), 'ccl-pmd-'));
    try {
        const options = { logFolder: work, workingFolder: work, workspace };
        const described = await engine.describeRules(options);
        const rules = described
            .filter((rule) =>
                rule.tags.includes('Apex') ? RULE_TAGS.some((tag) => rule.tags.includes(tag)) : rule.tags.includes('AppExchange')
            )
            .map((rule) => rule.name);
        const results = await engine.runRules(rules, options);
        const findings = results.violations.map((violation) => {
            const location = violation.codeLocations[violation.primaryLocationIndex] ?? violation.codeLocations[0];
            return {
                rule: violation.ruleName,
                file: path.relative(process.cwd(), location?.file ?? ''),
                line: location?.startLine ?? 0,
                message: violation.message.trim()
            };
        });
        return { rules, findings };
    } finally {
        await rm(work, { recursive: true, force: true });
    }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
    const started = Date.now();
    const { rules, findings } = await runPmd(['force-app', 'force-app-endpoint', 'force-app-oauth']);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    for (const finding of findings) {
        console.error(`${finding.file}:${finding.line}: ${finding.rule}: ${finding.message}`);
    }
    const summary = `PMD (Code Analyzer: ${rules.length} rules, ${RULE_TAGS.join('/')} on Apex, AppExchange on metadata XML)`;
    if (findings.length > 0) {
        console.error(`${summary}: ${findings.length} violation(s) (${seconds}s)`);
        process.exitCode = 1;
    } else {
        console.log(`${summary}: 0 violations (${seconds}s)`);
    }
}
