import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { LINK_STATUSES } from '../../server/store/types.ts';

/** The quoted names of a list literal that follows `declaration` in a source file. */
async function listAfter(file: string, declaration: RegExp): Promise<string[]> {
    const source = await readFile(file, 'utf8');
    const match = declaration.exec(source);
    assert.ok(match, `${file}: ${declaration} not found`);
    const rest = source.slice(match.index + match[0].length);
    const list = rest.slice(0, rest.search(/[\])}]/));
    return [...list.matchAll(/'([a-z_]+)'/g)].map((m) => m[1]!);
}

test('the Apex stand-in and the Apex client accept exactly the link statuses the backend sends', async () => {
    const standIn = await listAfter('preview/src/apex/ContactCenterLinkController.js', /const LINK_STATUSES = new Set\(\[/);
    assert.deepEqual(standIn, [...LINK_STATUSES]);
    const apex = await listAfter('force-app/main/default/classes/ContactCenterLinkClient.cls', /LINK_STATUSES = new Set<String>\{/);
    assert.deepEqual(apex, [...LINK_STATUSES]);
});
