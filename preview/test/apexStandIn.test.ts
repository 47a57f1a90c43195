import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { MATCH_RULES } from '../../server/calls/matching.ts';
import { PHONE_OBJECTS } from '../../server/link/phoneFields.ts';
import { LINK_STATUSES } from '../../server/store/types.ts';

/** The quoted names of a list literal that follows `declaration` in a source file. */
async function listAfter(file: string, declaration: RegExp, name = /'([a-z_]+)'/g): Promise<string[]> {
    const source = await readFile(file, 'utf8');
    const match = declaration.exec(source);
    assert.ok(match, `${file}: ${declaration} not found`);
    const rest = source.slice(match.index + match[0].length);
    const list = rest.slice(0, rest.search(/[\])}]/));
    return [...list.matchAll(name)].map((m) => m[1]!);
}

test('the Apex stand-in and the Apex client accept exactly the link statuses the backend sends', async () => {
    const standIn = await listAfter('preview/src/apex/ContactCenterLinkController.js', /const LINK_STATUSES = new Set\(\[/);
    assert.deepEqual(standIn, [...LINK_STATUSES]);
    const apex = await listAfter('force-app/main/default/classes/ContactCenterLinkClient.cls', /LINK_STATUSES = new Set<String>\{/);
    assert.deepEqual(apex, [...LINK_STATUSES]);
});

test('the card, its Apex and the stand-in know the objects a lookup searches and the rules that order matches as the backend does', async () => {
    const word = /'([A-Za-z]+)'/g;
    const rules = 'force-app/main/default/lwc/callerMatchingRules/callerMatchingRules.js';
    assert.deepEqual(await listAfter(rules, /export const PHONE_OBJECTS = \[/, word), [...PHONE_OBJECTS]);
    assert.deepEqual(await listAfter(rules, /export const MATCH_RULES = \[/, word), [...MATCH_RULES]);
    const standIn = 'preview/src/apex/ContactCenterLinkController.js';
    assert.deepEqual(await listAfter(standIn, /const PHONE_OBJECTS = \[/, word), [...PHONE_OBJECTS]);
    const apex = 'force-app/main/default/classes/ContactCenterLinkClient.cls';
    assert.deepEqual(await listAfter(apex, /PHONE_OBJECTS = new List<String>\{/, word), [...PHONE_OBJECTS]);
});
