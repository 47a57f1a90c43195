// Builds the preview: the package's own LWC components (force-app/main/default/lwc) compiled with
// LWC OSS for a plain browser, with the platform's modules (@salesforce/apex, @salesforce/label,
// lightning/platformShowToastEvent) resolved to small local stand-ins. No component is copied.

import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import lwcModule from '@lwc/rollup-plugin';
import nodeResolveModule from '@rollup/plugin-node-resolve';
import replaceModule from '@rollup/plugin-replace';
import { rollup, type Plugin } from 'rollup';
import { readCustomLabels } from './labels.ts';

/** These plugins are typed as CommonJS (the default import is the module); at run time Node loads their ES builds. */
function defaultExport<T>(module: T): T extends { default: infer D } ? D : T {
    const candidate = module as { default?: unknown };
    return (typeof module === 'function' ? module : candidate.default) as T extends { default: infer D } ? D : T;
}
const lwc = defaultExport(lwcModule);
const nodeResolve = defaultExport(nodeResolveModule);
const replace = defaultExport(replaceModule);

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '..');
const LWC_DIR = path.join(ROOT, 'force-app/main/default/lwc');
const LABELS_FILE = path.join(ROOT, 'force-app/main/default/labels/CustomLabels.labels-meta.xml');
const SRC_DIR = path.join(HERE, 'src');
export const DIST_DIR = path.join(HERE, 'dist');
const GEN_DIR = path.join(DIST_DIR, 'gen');
const BUNDLE = path.join(DIST_DIR, 'app.js');
const SLDS_CSS_OUT = path.join(DIST_DIR, 'slds.css');
const SLDS_CSS_IN = path.join(ROOT, 'node_modules/@salesforce-ux/design-system/assets/styles/salesforce-lightning-design-system.min.css');
const STAMP = path.join(DIST_DIR, 'build.json');

/** What the build reads besides node_modules: a change to any of these rebuilds. */
const INPUTS = [
    LWC_DIR,
    LABELS_FILE,
    SRC_DIR,
    path.join(HERE, 'build.ts'),
    path.join(HERE, 'labels.ts'),
    path.join(ROOT, 'package-lock.json')
];

/** Icons the base components themselves draw (button menu chevron, close buttons, toast and check icons). */
const BASE_ICONS = [
    'utility:down',
    'utility:close',
    'utility:info',
    'utility:success',
    'utility:warning',
    'utility:error',
    'utility:check'
];

/** The `lightning/*` modules the platform provides but the lightning-base-components package does not. */
const LIGHTNING_STAND_INS = ['platformShowToastEvent'];

export interface BuildResult {
    built: boolean;
    ms: number;
    bundle: string;
}

async function listFiles(entry: string, skip: (name: string) => boolean = () => false): Promise<string[]> {
    const info = await stat(entry).catch(() => undefined);
    if (!info) return [];
    if (info.isFile()) return [entry];
    const out: string[] = [];
    for (const dirent of await readdir(entry, { withFileTypes: true })) {
        if (skip(dirent.name)) continue;
        const full = path.join(entry, dirent.name);
        if (dirent.isDirectory()) out.push(...(await listFiles(full, skip)));
        else if (dirent.isFile()) out.push(full);
    }
    return out;
}

const notTests = (name: string): boolean => name === '__tests__' || name.startsWith('.');

async function inputFiles(): Promise<string[]> {
    const lists = await Promise.all(INPUTS.map((input) => listFiles(input, notTests)));
    return lists.flat().sort();
}

/** Up to date when the bundle is newer than every input and the set of input files is the one it was built from. */
async function upToDate(files: string[]): Promise<boolean> {
    try {
        const [stamp, bundle] = await Promise.all([readFile(STAMP, 'utf8'), stat(BUNDLE)]);
        const recorded = (JSON.parse(stamp) as { inputs?: string[] }).inputs ?? [];
        const relative = files.map((file) => path.relative(ROOT, file));
        if (recorded.length !== relative.length || recorded.some((file, i) => file !== relative[i])) return false;
        const times = await Promise.all(files.map(async (file) => (await stat(file)).mtimeMs));
        return Math.max(...times) < bundle.mtimeMs;
    } catch {
        return false;
    }
}

/** `import x from '<specifier prefix>…'` specifiers found in the given sources. */
function importsWithPrefix(sources: string[], prefix: string): Set<string> {
    const found = new Set<string>();
    const escaped = prefix.replace(/[/.]/g, '\\$&');
    const pattern = new RegExp(`from\\s+['"]${escaped}([^'"]+)['"]`, 'g');
    for (const source of sources) for (const match of source.matchAll(pattern)) found.add(match[1]!);
    return found;
}

function relativeImport(fromDir: string, target: string): string {
    const rel = path.relative(fromDir, target).split(path.sep).join('/');
    return rel.startsWith('.') ? rel : `./${rel}`;
}

type ModuleRecord = { name: string; path: string } | { dir: string } | { npm: string };

/** Module records for the package's components: force-app keeps them flat (lwc/<name>/<name>.js), the org calls them c/<name>. */
async function componentRecords(): Promise<ModuleRecord[]> {
    const records: ModuleRecord[] = [];
    for (const dirent of await readdir(LWC_DIR, { withFileTypes: true })) {
        if (!dirent.isDirectory() || notTests(dirent.name)) continue;
        const entry = path.join(LWC_DIR, dirent.name, `${dirent.name}.js`);
        if (await stat(entry).catch(() => undefined)) records.push({ name: `c/${dirent.name}`, path: entry });
    }
    return records;
}

/**
 * `@salesforce/label/c.NAME` → a generated module whose default export is the label's value, read from the
 * package's CustomLabels file at build time.
 */
async function labelRecords(sources: string[]): Promise<ModuleRecord[]> {
    const labels = await readCustomLabels(LABELS_FILE);
    const used = importsWithPrefix(sources, '@salesforce/label/');
    const missing = [...used].filter((name) => !name.startsWith('c.') || !labels.has(name.slice(2)));
    if (missing.length)
        throw new Error(`These labels are imported but not defined in ${path.relative(ROOT, LABELS_FILE)}: ${missing.join(', ')}`);
    const dir = path.join(GEN_DIR, 'labels');
    await mkdir(dir, { recursive: true });
    const records: ModuleRecord[] = [];
    for (const [name, value] of labels) {
        const file = path.join(dir, `c.${name}.js`);
        await writeFile(file, `export default ${JSON.stringify(value)};\n`);
        records.push({ name: `@salesforce/label/c.${name}`, path: file });
    }
    return records;
}

/**
 * `@salesforce/apex/CLASS.METHOD` → a generated one-line module that re-exports METHOD from preview/src/apex/CLASS.js,
 * the preview's stand-in for the Apex class. A method the components import but the stand-in lacks fails the build.
 */
async function apexRecords(sources: string[]): Promise<ModuleRecord[]> {
    const dir = path.join(GEN_DIR, 'apex');
    await mkdir(dir, { recursive: true });
    const records: ModuleRecord[] = [];
    for (const specifier of [...importsWithPrefix(sources, '@salesforce/apex/')].sort()) {
        const [className, method, ...rest] = specifier.split('.');
        if (!className || !method || rest.length) throw new Error(`Unexpected Apex import @salesforce/apex/${specifier}`);
        const standIn = path.join(SRC_DIR, 'apex', `${className}.js`);
        const source = await readFile(standIn, 'utf8').catch(() => '');
        if (!new RegExp(`export\\s+(?:async\\s+)?function\\s+${method}\\b`).test(source)) {
            throw new Error(`The components call ${className}.${method}, but ${path.relative(ROOT, standIn)} does not export it`);
        }
        const file = path.join(dir, `${className}.${method}.js`);
        await writeFile(file, `export { ${method} as default } from '${relativeImport(dir, standIn)}';\n`);
        records.push({ name: `@salesforce/apex/${className}.${method}`, path: file });
    }
    return records;
}

/**
 * lightning-base-components loads every icon of a category (hundreds of templates) on first use. The preview keeps
 * only the icons its sources name, so the build stays small and quick.
 */
function onlyUsedIcons(sources: string[]): Plugin {
    const wanted = new Set<string>();
    for (const name of BASE_ICONS) wanted.add(name.replace(':', '_'));
    for (const source of sources) {
        for (const match of source.matchAll(/\b(utility|standard|action|doctype|custom):([a-z][a-z0-9_]*)\b/g))
            wanted.add(`${match[1]}_${match[2]}`);
    }
    return {
        name: 'preview-only-used-icons',
        async load(id) {
            if (!/[\\/]iconSvgTemplates[A-Za-z]*[\\/]buildTemplates[\\/]templates\.js$/.test(id)) return null;
            const source = await readFile(id, 'utf8');
            const kept: string[] = [];
            const lines: string[] = [];
            for (const match of source.matchAll(/^import \{ default as (\w+) \} from '([^']+)';$/gm)) {
                if (!wanted.has(match[1]!)) continue;
                kept.push(match[1]!);
                lines.push(match[0]);
            }
            return `${lines.join('\n')}\nexport default { ${kept.join(', ')} };\n`;
        }
    };
}

/**
 * SLDS's stylesheet as the page uses it. This SLDS release ships some declarations only as styling-hook custom
 * properties marked `@css-var-fallback PROPERTY` (its own build normally adds the property that reads the hook), so the
 * card body, for one, would lose its padding. Each marked hook gets its property back; image URLs point at /assets.
 */
async function buildSldsCss(): Promise<void> {
    const css = await readFile(SLDS_CSS_IN, 'utf8');
    const fixed = css
        .replace(
            /\/\*! @css-var-fallback ([a-z-]+) \*\/\s*(--[A-Za-z0-9_-]+)\s*:([^;{}]*)(;|(?=\}))/g,
            (_whole, property: string, hook: string, value: string) => `${hook}:${value};${property}:var(${hook});`
        )
        .replace(/url\((['"]?)\.\.\//g, 'url($1/assets/');
    await writeFile(SLDS_CSS_OUT, fixed);
}

async function sourcesOf(files: string[]): Promise<string[]> {
    const code = files.filter((file) => /\.(js|html)$/.test(file));
    return Promise.all(code.map((file) => readFile(file, 'utf8')));
}

/** Builds preview/dist/app.js unless it is newer than every input (`force` builds anyway). */
export async function buildPreview(options: { force?: boolean } = {}): Promise<BuildResult> {
    const started = performance.now();
    const files = await inputFiles();
    if (!options.force && (await upToDate(files))) return { built: false, ms: Math.round(performance.now() - started), bundle: BUNDLE };

    await rm(GEN_DIR, { recursive: true, force: true });
    const componentSources = await sourcesOf(
        files.filter((file) => file.startsWith(LWC_DIR + path.sep) || file.startsWith(SRC_DIR + path.sep))
    );
    const modules: ModuleRecord[] = [
        ...(await componentRecords()),
        ...(await apexRecords(componentSources)),
        ...(await labelRecords(componentSources)),
        ...LIGHTNING_STAND_INS.map((name) => ({ name: `lightning/${name}`, path: path.join(SRC_DIR, 'lightning', `${name}.js`) })),
        { dir: path.join(SRC_DIR, 'modules') },
        { npm: 'lightning-base-components' }
    ];

    const warnings: string[] = [];
    const bundle = await rollup({
        input: path.join(SRC_DIR, 'main.js'),
        plugins: [
            replace({
                preventAssignment: true,
                values: { 'process.env.NODE_ENV': JSON.stringify('production'), 'import.meta.env.SSR': 'false' }
            }),
            onlyUsedIcons(componentSources),
            lwc({ rootDir: path.join(SRC_DIR, 'modules'), modules, enableDynamicComponents: false }),
            nodeResolve({ browser: true })
        ],
        onwarn(warning) {
            if (warning.code === 'CIRCULAR_DEPENDENCY' || warning.code === 'THIS_IS_UNDEFINED') return;
            warnings.push(warning.message);
        }
    });
    try {
        await bundle.write({ file: BUNDLE, format: 'es', inlineDynamicImports: true, sourcemap: false });
    } finally {
        await bundle.close();
    }
    await buildSldsCss();
    await writeFile(
        STAMP,
        JSON.stringify({ builtAt: new Date().toISOString(), inputs: files.map((file) => path.relative(ROOT, file)), warnings }, null, 2)
    );
    return { built: true, ms: Math.round(performance.now() - started), bundle: BUNDLE };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
    const force = process.argv.includes('--force');
    buildPreview({ force }).then(
        (result) =>
            console.log(
                result.built
                    ? `preview built in ${result.ms} ms: ${path.relative(ROOT, result.bundle)}`
                    : `preview up to date (${result.ms} ms)`
            ),
        (error: unknown) => {
            console.error(error);
            process.exit(1);
        }
    );
}
