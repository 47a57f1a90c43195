import { readFile } from 'node:fs/promises';

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeXml(text: string): string {
    return text.replace(
        /&(?:#x([0-9a-fA-F]+)|#([0-9]+)|([a-z]+));/g,
        (whole, hex: string | undefined, dec: string | undefined, name: string | undefined) => {
            if (hex) return String.fromCodePoint(parseInt(hex, 16));
            if (dec) return String.fromCodePoint(parseInt(dec, 10));
            return (name && ENTITIES[name]) ?? whole;
        }
    );
}

/**
 * Reads the Custom Labels of the package (CustomLabels.labels-meta.xml): fullName → value.
 * The file is the one the org gets, so the preview shows the same words as the org.
 */
export function parseCustomLabels(xml: string): Map<string, string> {
    const labels = new Map<string, string>();
    for (const block of xml.matchAll(/<labels\s*>([\s\S]*?)<\/labels\s*>/g)) {
        const body = block[1]!;
        const name = /<fullName\s*>([\s\S]*?)<\/fullName\s*>/.exec(body)?.[1]?.trim();
        const value = /<value\s*>([\s\S]*?)<\/value\s*>/.exec(body)?.[1];
        if (!name || value === undefined) continue;
        labels.set(decodeXml(name), decodeXml(value));
    }
    return labels;
}

export async function readCustomLabels(file: string): Promise<Map<string, string>> {
    return parseCustomLabels(await readFile(file, 'utf8'));
}
