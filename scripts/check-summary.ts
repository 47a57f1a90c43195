// The last lines of npm test: whether the Apex semantic check ran in this run's lint step.
import { readFile } from 'node:fs/promises';
import { STATUS_FILE } from './check-apex.ts';

let status: string;
try {
    status = (await readFile(STATUS_FILE, 'utf8')).trim();
} catch {
    status = 'NOT RUN: the lint step did not record it';
}
if (status.startsWith('PASSED')) {
    console.log(
        `Package checks: metadata schema, Apex semantic check (${status.toLowerCase()}), PMD, Lightning Web Security lint: all ran.`
    );
} else {
    console.warn(`\n!!! APEX SEMANTIC CHECK: ${status} !!!\nThe other package checks ran; this one did not pass in this run.\n`);
}
