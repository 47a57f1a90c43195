// The card's Task mapping editor: the admin of an org whose Task has its own fields and record types sets how calls
// are logged, the contact center's next call is logged that way, and a field the API user cannot set is refused on
// the card with the fix.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { SEED } from '../emulator/index.ts';
import {
    PEOPLE,
    TEST_TIMEOUT_MS,
    docsImage,
    linkThroughApi,
    missingBrowser,
    toast,
    useBrowser,
    waitForBadge,
    waitForText,
    withPreview
} from './helpers.ts';

const skip = missingBrowser();

const part = (page: Page, id: string): Locator => page.locator(`[data-id="${id}"]`);
/** The input inside one of the editor's lightning-input (the last one of a table column). */
const input = (page: Page, id: string): Locator => part(page, id).last().locator('input');

describe('the Task mapping, on the card', { skip }, () => {
    const browser = useBrowser();

    it(
        'the admin edits and saves the mapping, the next call’s Task has the mapped fields, and a field the API user cannot set is refused inline',
        { timeout: TEST_TIMEOUT_MS },
        async (t) => {
            await withPreview(browser(), t.name, {}, async ({ page, problems }, stack) => {
                const { state } = stack.demo.emulator;
                state.addCustomField('acme', 'Task', {
                    name: 'Outcome__c',
                    label: 'Outcome',
                    type: 'picklist',
                    picklist: ['Solved', 'No answer']
                });
                state.addCustomField('acme', 'Task', {
                    name: 'Agent_Score__c',
                    label: 'Agent score',
                    type: 'int',
                    access: { [SEED.profiles.apiOnly]: { read: true, edit: false } }
                });
                const supportCall = state.addRecordType('acme', { sobjectType: 'Task', developerName: 'Support_Call' }).id;
                await linkThroughApi(stack, stack.demo.account.apiKey, PEOPLE.acmeApi);
                const platformKey = await stack.demo.backend.services.accounts.rotateKey(stack.demo.account.id, 'platform');
                await page.reload();
                await waitForBadge(page, 'Linked');
                await waitForText(part(page, 'task-mapping-default'), /default mapping is in use/);
                assert.equal(await input(page, 'task-subject').inputValue(), '{direction} call');

                await input(page, 'task-subject').fill('{direction} call: {disposition} ({durationMinutes} min)');
                await input(page, 'task-record-type').fill('Support_Call');
                await part(page, 'task-relate-contact').selectOption({ label: 'Name, and Related To its Account' });
                await part(page, 'task-add-line').click();
                await input(page, 'task-line-disposition').fill('Voicemail');
                await input(page, 'task-line-field').fill('Outcome__c');
                await input(page, 'task-line-value').fill('No answer');
                await part(page, 'task-add-line').click();
                await input(page, 'task-line-disposition').fill('Voicemail');
                await input(page, 'task-line-field').fill('Status');
                await input(page, 'task-line-value').fill('Not Started');
                await part(page, 'task-mapping-save').click();
                await waitForText(toast(page), /Task mapping saved/);
                await part(page, 'task-mapping-checked').waitFor();
                await toast(page).getByRole('button', { name: 'Close' }).click();
                await toast(page).waitFor({ state: 'detached' });

                const jane = state.records('acme', 'Contact').find((r) => r['LastName'] === 'Doe')!;
                const answer = await fetch(`${stack.url}/api/v1/calls/e2e-map-1/task`, {
                    method: 'PUT',
                    headers: { Authorization: `Bearer ${platformKey}`, 'Content-Type': 'application/json' },
                    body: JSON.stringify({
                        direction: 'inbound',
                        durationSeconds: 95,
                        disposition: 'Voicemail',
                        match: { sobjectType: 'Contact', id: jane['Id'], accountId: jane['AccountId'] }
                    })
                });
                assert.equal(answer.status, 201, await answer.text());
                const task = state.tasks('acme').find((x) => x['CallObject'] === 'e2e-map-1')!;
                assert.deepEqual(
                    [task['Subject'], task['Outcome__c'], task['Status'], task['RecordTypeId'], task['WhoId'], task['WhatId']],
                    ['Inbound call: Voicemail (2 min)', 'No answer', 'Not Started', supportCall, jane['Id'], jane['AccountId']]
                );

                await part(page, 'task-add-line').click();
                await input(page, 'task-line-field').fill('Agent_Score__c');
                await input(page, 'task-line-value').fill('3');
                await part(page, 'task-mapping-save').click();
                const refusal = await waitForText(part(page, 'task-mapping-error-message'), /Agent_Score__c/);
                assert.match(refusal, /give the API user edit access to Task\.Agent_Score__c in its permission set/);
                assert.equal(await input(page, 'task-line-field').inputValue(), 'Agent_Score__c', 'the draft stays to be fixed');
                assert.equal(
                    await input(page, 'task-line-field').getAttribute('aria-invalid'),
                    'true',
                    'the refused field is in an error state'
                );
                assert.notEqual(await input(page, 'task-line-value').getAttribute('aria-invalid'), 'true', 'its value is not');
                assert.equal(await toast(page).count(), 0, 'nothing said saved');
                await docsImage(part(page, 'task-mapping'), 'task-mapping-refused');
                const saved = (await (
                    await fetch(`${stack.url}/api/v1/calls/settings`, { headers: { Authorization: `Bearer ${platformKey}` } })
                ).json()) as { task: { defaultFields: Record<string, unknown> } };
                assert.equal(saved.task.defaultFields['Agent_Score__c'], undefined, 'nothing saved');
                assert.deepEqual(problems, []);
            });
        }
    );
});
