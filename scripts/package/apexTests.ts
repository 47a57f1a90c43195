// A production deploy needs 75% coverage of every Apex class it deploys, so the documented test runs must name every
// test class: each command in docs/installing-the-package.md that lists tests (`--tests`, `--class-names`) is checked
// against the test classes derived from the package's Apex, and every class must be exercised by a listed test class.
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { SchemaProblem } from '../metadataSchema.ts';

export interface ApexClass {
    name: string;
    source: string;
    /** Annotated @IsTest at the class level. */
    isTest: boolean;
    /** Holds @IsTest methods: a test class a run can name. */
    hasTestMethods: boolean;
}

export interface TestList {
    /** The line of the command in the document. */
    line: number;
    flag: '--tests' | '--class-names';
    classes: string[];
}

/** The source without comments and string literals, so that names inside them count for nothing. */
function code(source: string): string {
    // One pass, left to right: a // inside a string ('https://…') starts no comment, a quote inside a comment no string.
    return source.replace(/\/\*[\s\S]*?\*\/|\/\/.*$|'(?:\\.|[^'\\\n])*'/gm, (match) => (match.startsWith("'") ? "''" : ' '));
}

export function parseApexClass(name: string, source: string): ApexClass {
    const body = code(source);
    const declaration = /\bclass\s+\w+/i.exec(body);
    const beforeClass = declaration ? body.slice(0, declaration.index) : '';
    return {
        name,
        source: body,
        isTest: /@IsTest\b/i.test(beforeClass),
        hasTestMethods: /@IsTest\b[^{};]*\b(?:static\s+)?void\s+\w+\s*\(/i.test(body.slice(declaration?.index ?? 0))
    };
}

export async function readApexClasses(dir: string): Promise<ApexClass[]> {
    const names = (await readdir(dir)).filter((file) => file.endsWith('.cls')).sort();
    return Promise.all(
        names.map(async (file) => parseApexClass(path.basename(file, '.cls'), await readFile(path.join(dir, file), 'utf8')))
    );
}

/** The test runs a Markdown document shows: every command in a code block that names tests. */
export function testListsIn(markdown: string): TestList[] {
    const lists: TestList[] = [];
    const lines = markdown.split('\n');
    let inBlock = false;
    for (let i = 0; i < lines.length; i++) {
        if (/^\s*```/.test(lines[i] ?? '')) {
            inBlock = !inBlock;
            continue;
        }
        if (!inBlock) continue;
        const start = i;
        let command = lines[i] ?? '';
        while (/\\\s*$/.test(command) && i + 1 < lines.length) command = command.replace(/\\\s*$/, ' ') + (lines[++i] ?? '');
        for (const flag of ['--tests', '--class-names'] as const) {
            const classes = [...command.matchAll(new RegExp(`${flag}[ =]+([A-Za-z_][A-Za-z0-9_]*)`, 'g'))].map((match) => match[1]!);
            if (classes.length > 0) lists.push({ line: start + 1, flag, classes });
        }
    }
    return lists;
}

/**
 * Problems of the documented test runs: a run that leaves out a test class or names a class that is none, a class no
 * listed test class exercises, and a document that shows no run at all.
 */
export function testListProblems(classes: ApexClass[], lists: TestList[], file: string): SchemaProblem[] {
    const problems: SchemaProblem[] = [];
    const testClasses = classes.filter((apex) => apex.isTest && apex.hasTestMethods).map((apex) => apex.name);
    if (lists.length === 0) {
        return [{ file, element: '(test runs)', message: 'shows no command that names the test classes (--tests or --class-names)' }];
    }
    for (const list of lists) {
        const element = `line ${list.line} (${list.flag})`;
        const missing = testClasses.filter((name) => !list.classes.includes(name));
        if (missing.length > 0) {
            problems.push({
                file,
                element,
                message: `leaves out ${missing.join(', ')}: a production deploy would count those classes' coverage as 0%`
            });
        }
        const unknown = list.classes.filter((name) => !testClasses.includes(name));
        if (unknown.length > 0)
            problems.push({ file, element, message: `names ${unknown.join(', ')}, which is no test class of the package` });
    }
    // Every run must cover every class: only the test classes that every run names count.
    const listed = classes.filter((apex) => testClasses.includes(apex.name) && lists.every((list) => list.classes.includes(apex.name)));
    for (const apex of classes.filter((candidate) => !candidate.isTest)) {
        const word = new RegExp(`\\b${apex.name}\\b`);
        if (!listed.some((test) => word.test(test.source))) {
            problems.push({ file, element: apex.name, message: `no test class in the documented runs exercises ${apex.name}` });
        }
    }
    return problems;
}

export async function checkApexTests(projectDir: string): Promise<SchemaProblem[]> {
    const doc = path.join('docs', 'installing-the-package.md');
    const classes = await readApexClasses(path.join(projectDir, 'force-app', 'main', 'default', 'classes'));
    return testListProblems(classes, testListsIn(await readFile(path.join(projectDir, doc), 'utf8')), doc);
}
