// The package, checked offline the way Salesforce will check it: sfdx-project.json against the published schema and
// the packaging library's rules (package/projectFile.ts), one API version everywhere, the documented test runs naming
// every test class (package/apexTests.ts), the External Client App as the Dev Hub retrieves it (package/oauthApp.ts),
// then every file `sf project convert source` produces validated against the Metadata API schema of the declared
// version (metadataSchema.ts).
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { SCHEMA_API_VERSION, loadMetadataSchema, validateMetadataXml, type MetadataSchema, type SchemaProblem } from './metadataSchema.ts';
import { checkApexTests } from './package/apexTests.ts';
import { oauthAppShapeProblems } from './package/oauthApp.ts';
import { checkProjectFile, type ProjectFile } from './package/projectFile.ts';
import { sfBinary, sfEnv } from './package/sfCli.ts';

const run = promisify(execFile);

// Converted files that are code or resources, not metadata XML.
const BODY_SUFFIXES = ['.cls', '.trigger', '.js', '.html', '.css', '.svg', '.json'];

async function filesUnder(dir: string): Promise<string[]> {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries.filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
}

/** Every -meta.xml <apiVersion> and sfdx-project.json's sourceApiVersion must be the schema's version. */
export async function checkApiVersions(
    projectDir: string,
    project: Pick<ProjectFile, 'sourceApiVersion' | 'packageDirectories'>
): Promise<SchemaProblem[]> {
    const problems: SchemaProblem[] = [];
    if (project.sourceApiVersion !== SCHEMA_API_VERSION) {
        problems.push({
            file: 'sfdx-project.json',
            element: 'sourceApiVersion',
            message: `is ${project.sourceApiVersion}; the schema check validates ${SCHEMA_API_VERSION}`
        });
    }
    for (const directory of project.packageDirectories) {
        for (const file of await filesUnder(path.join(projectDir, directory.path))) {
            if (!file.endsWith('-meta.xml')) continue;
            const match = /<apiVersion>\s*([^<\s]*)\s*<\/apiVersion>/.exec(await readFile(file, 'utf8'));
            if (match && match[1] !== project.sourceApiVersion) {
                problems.push({
                    file: path.relative(projectDir, file),
                    element: 'apiVersion',
                    message: `is ${match[1]}; sfdx-project.json declares ${project.sourceApiVersion}`
                });
            }
        }
    }
    return problems;
}

/** Validates every file of a Metadata API format directory. */
export async function validateMetadataDirectory(schema: MetadataSchema, dir: string): Promise<SchemaProblem[]> {
    const problems: SchemaProblem[] = [];
    for (const file of await filesUnder(dir)) {
        const relative = path.relative(dir, file);
        const content = await readFile(file, 'utf8');
        if (content.trimStart().startsWith('<?xml')) {
            problems.push(...validateMetadataXml(schema, relative, content));
        } else if (!BODY_SUFFIXES.some((suffix) => file.endsWith(suffix))) {
            problems.push({ file: relative, element: '(file)', message: 'neither metadata XML nor a known code file' });
        }
    }
    return problems;
}

/** Converts the given source directories to Metadata API format in a fresh temporary directory. */
export async function convertSource(projectDir: string, sourceDirs: string[]): Promise<{ dir: string; cleanUp: () => Promise<void> }> {
    const work = await mkdtemp(path.join(tmpdir(), 'ccl-convert-'));
    const output = path.join(work, 'mdapi');
    await run(
        sfBinary(projectDir),
        ['project', 'convert', 'source', ...sourceDirs.flatMap((dir) => ['--source-dir', dir]), '--output-dir', output],
        {
            cwd: projectDir,
            env: sfEnv()
        }
    );
    return { dir: output, cleanUp: () => rm(work, { recursive: true, force: true }) };
}

export async function checkPackage(projectDir: string): Promise<{ files: number; problems: SchemaProblem[] }> {
    const raw: unknown = JSON.parse(await readFile(path.join(projectDir, 'sfdx-project.json'), 'utf8'));
    const problems = checkProjectFile(raw);
    if (problems.length > 0) return { files: 0, problems };
    const project = raw as ProjectFile;
    const packageDirs = project.packageDirectories.map((directory) => directory.path);
    problems.push(...(await checkApiVersions(projectDir, project)));
    problems.push(...(await checkApexTests(projectDir)));
    problems.push(...(await oauthAppShapeProblems(projectDir, packageDirs)));
    const schema = loadMetadataSchema(project.sourceApiVersion);
    const converted = await convertSource(projectDir, packageDirs);
    try {
        problems.push(...(await validateMetadataDirectory(schema, converted.dir)));
        return { files: (await filesUnder(converted.dir)).length, problems };
    } finally {
        await converted.cleanUp();
    }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
    const started = Date.now();
    const { files, problems } = await checkPackage(process.cwd());
    for (const problem of problems) {
        console.error(`${problem.file}: ${problem.element}: ${problem.message}`);
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (problems.length > 0) {
        console.error(
            `Package check (API ${SCHEMA_API_VERSION}): ${problems.length} problem(s); ${files} converted files read (${seconds}s)`
        );
        process.exitCode = 1;
    } else {
        console.log(
            `Package check (API ${SCHEMA_API_VERSION}): sfdx-project.json, the documented test runs, the External Client App and ${files} converted files valid (${seconds}s)`
        );
    }
}
