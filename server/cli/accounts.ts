import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { Accounts, legacyFileSchema } from '../accounts.ts';
import { systemClock } from '../clock.ts';
import { ConfigError, parseConfig } from '../config.ts';
import { TokenCipher } from '../crypto.ts';
import { AppError } from '../errors.ts';
import { validationError } from '../http/errorMiddleware.ts';
import { activityQuery, deliveriesQuery } from '../http/schemas.ts';
import { loginHostPolicy } from '../services.ts';
import type { Config } from '../config.ts';
import { openStore } from '../store/openStore.ts';
import { resealSecrets } from '../resealSecrets.ts';
import { printable, printableLine } from '../text.ts';

const USAGE = `Usage: npm run accounts -- <command> [options]

  create --name "Acme EMEA"     create an account; prints its id and its two API keys (shown once): the org's key
                                (the link; for the org's External Credential) and the platform's key (calls, webhook)
  list                          list accounts and their link status
  rotate-key --id ACCOUNT_ID [--scope link|platform]
                                issue a new key of that scope (default link); the old one stops working at once
  activity --id ACCOUNT_ID [--limit N] [--cursor C]
                                the account's link history, newest first (10 by default, at most 100); --cursor goes on
                                from where the last page ended
  deliveries --id ACCOUNT_ID [--limit N]
                                the account's latest webhook events and how their delivery went, newest first
                                (20 by default, at most 50)
  import-legacy --file F.json   import links made the old way (username, password, security token)
  reseal                        seal every stored secret again with the current key (after a key rotation)

Uses DATABASE_URL or DATA_DIR (default ./data), and TOKEN_ENCRYPTION_KEY, like the server. To rotate the key, put the new key
first and the old one after it (TOKEN_ENCRYPTION_KEY=new,old), restart the server, run reseal, then drop the old key.`;

export async function runAccountsCommand(
    argv: string[],
    env: Record<string, string | undefined>,
    write: (line: string) => void
): Promise<number> {
    // Nothing reaches the terminal raw: what the store holds came from outside (text.ts); fields are escaped whole.
    const out = (line: string) => write(printableLine(line));
    const { positionals, values } = parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
            name: { type: 'string' },
            id: { type: 'string' },
            limit: { type: 'string' },
            cursor: { type: 'string' },
            scope: { type: 'string' },
            file: { type: 'string' },
            json: { type: 'boolean' },
            help: { type: 'boolean', short: 'h' }
        }
    });
    const command = positionals[0];
    if (values.help || !command) {
        out(USAGE);
        return command ? 0 : 2;
    }
    const parsed = parseConfig(env);
    const store = await openStore(parsed);
    const accounts = new Accounts(store, systemClock);
    try {
        switch (command) {
            case 'create': {
                if (!values.name) throw new AppError('VALIDATION_FAILED', 'create needs --name "Account name".');
                const { account, apiKey, platformKey } = await accounts.create(values.name);
                if (values.json) out(JSON.stringify({ id: account.id, name: account.name, apiKey, platformKey }));
                else
                    out(
                        `Created account ${account.id} (${account.name}). Each key is shown once.\nOrg key (the link; put it in the org's External Credential): ${apiKey}\nPlatform key (call actions and the webhook; keep it in the contact-center platform): ${platformKey}`
                    );
                return 0;
            }
            case 'list': {
                const rows = await accounts.list();
                if (values.json) out(JSON.stringify(rows));
                else if (rows.length === 0) out('No accounts yet. Create one with: npm run accounts -- create --name "Acme EMEA"');
                else for (const row of rows) out([row.id, row.status, row.username ?? '-', row.name].map(printable).join('\t'));
                return 0;
            }
            case 'rotate-key': {
                if (!values.id) throw new AppError('VALIDATION_FAILED', 'rotate-key needs --id ACCOUNT_ID.');
                const scope = values.scope ?? 'link';
                if (scope !== 'link' && scope !== 'platform')
                    throw new AppError(
                        'VALIDATION_FAILED',
                        'rotate-key --scope must be link (the org’s key) or platform (the platform’s key).'
                    );
                const apiKey = await accounts.rotateKey(values.id, scope);
                out(
                    values.json
                        ? JSON.stringify({ id: values.id, scope, apiKey })
                        : `New ${scope === 'link' ? 'org' : 'platform'} key for ${values.id} (shown once; the old ${scope} key no longer works): ${apiKey}`
                );
                return 0;
            }
            case 'activity': {
                if (!values.id) throw new AppError('VALIDATION_FAILED', 'activity needs --id ACCOUNT_ID.');
                if (!(await store.accounts.get(values.id)))
                    throw new AppError(
                        'ACCOUNT_NOT_FOUND',
                        `No account has the id ${printable(values.id)}. Run "npm run accounts -- list" to see the ids.`
                    );
                const query = activityQuery.safeParse({
                    ...(values.limit !== undefined ? { limit: values.limit } : {}),
                    ...(values.cursor !== undefined ? { cursor: values.cursor } : {})
                });
                if (!query.success) throw validationError(query.error, 'activity');
                const page = await store.audit.page(values.id, query.data);
                const entries = page.entries.map(({ accountId: _own, ...entry }) => entry);
                if (values.json) out(JSON.stringify({ entries, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) }));
                else if (entries.length === 0) out('No activity recorded for this account.');
                else {
                    for (const e of entries)
                        out(
                            [
                                e.at,
                                e.action,
                                e.outcome,
                                e.username ?? '-',
                                e.actor ? `by ${e.actor.username}${e.actor.claimed ? ' (as said by the org)' : ''}` : '-',
                                e.detail ?? ''
                            ]
                                .map(printable)
                                .join('\t')
                                .trimEnd()
                        );
                    if (page.nextCursor) out(`Older entries: npm run accounts -- activity --id ${values.id} --cursor ${page.nextCursor}`);
                }
                return 0;
            }
            case 'deliveries': {
                if (!values.id) throw new AppError('VALIDATION_FAILED', 'deliveries needs --id ACCOUNT_ID.');
                const account = await store.accounts.get(values.id);
                if (!account)
                    throw new AppError(
                        'ACCOUNT_NOT_FOUND',
                        `No account has the id ${printable(values.id)}. Run "npm run accounts -- list" to see the ids.`
                    );
                const query = deliveriesQuery.safeParse(values.limit !== undefined ? { limit: values.limit } : {});
                if (!query.success) throw validationError(query.error, 'deliveries');
                const events = await store.outbox.recent(values.id, query.data.limit);
                if (values.json) out(JSON.stringify({ webhook: account.webhook ? { url: account.webhook.url } : null, events }));
                else {
                    out(
                        account.webhook
                            ? `Webhook: ${printable(account.webhook.url)}`
                            : 'No webhook is set (the platform sets one with PUT /api/v1/webhook).'
                    );
                    if (events.length === 0) out('No webhook events for this account.');
                    for (const e of events) {
                        const when =
                            e.state === 'delivered'
                                ? `delivered ${e.deliveredAt}`
                                : e.state === 'pending'
                                  ? `next attempt ${e.nextAttemptAt}`
                                  : 'given up';
                        const last = e.lastAttempt ? (e.lastAttempt.error ?? `HTTP ${e.lastAttempt.status}`) : '-';
                        out(
                            [
                                e.createdAt,
                                e.id,
                                `${e.data.from}->${e.data.to}`,
                                e.state,
                                `${e.attempts} attempt${e.attempts === 1 ? '' : 's'}`,
                                when,
                                last
                            ]
                                .map(printable)
                                .join('\t')
                        );
                    }
                }
                return 0;
            }
            case 'import-legacy': {
                if (!values.file) throw new AppError('VALIDATION_FAILED', 'import-legacy needs --file records.json.');
                let raw: unknown;
                try {
                    raw = JSON.parse(await readFile(values.file, 'utf8'));
                } catch (error) {
                    throw new AppError('VALIDATION_FAILED', `Could not read ${values.file} as JSON: ${(error as Error).message}`);
                }
                const records = legacyFileSchema.safeParse(raw);
                if (!records.success) throw validationError(records.error, 'legacy file');
                // Never a key of its own beside the data: the server could not open what it sealed, and the key would sit with the data.
                const key = parsed.TOKEN_ENCRYPTION_KEY;
                if (!key)
                    throw new AppError(
                        'VALIDATION_FAILED',
                        'import-legacy needs TOKEN_ENCRYPTION_KEY, the same key the server uses (from your secret store). Nothing was imported.'
                    );
                const count = await accounts.importLegacy(records.data, new TokenCipher(key), loginHostPolicy(parsed as Config));
                out(
                    `Imported ${count} legacy link${count === 1 ? '' : 's'}. Ask each customer's admin to relink from the card: it replaces the stored password with OAuth.`
                );
                return 0;
            }
            case 'reseal': {
                if (!parsed.TOKEN_ENCRYPTION_KEY)
                    throw new AppError(
                        'VALIDATION_FAILED',
                        'reseal needs TOKEN_ENCRYPTION_KEY: the new key first, then the older keys. Nothing was changed.'
                    );
                const cipher = new TokenCipher(parsed.TOKEN_ENCRYPTION_KEY);
                const { resealed, total } = await resealSecrets(store, cipher);
                out(
                    values.json
                        ? JSON.stringify({ resealed, total, keyId: cipher.currentKeyId })
                        : `Sealed ${resealed} of ${total} stored secrets again with key ${cipher.currentKeyId}; the others already used it.`
                );
                return 0;
            }
            default:
                out(`Unknown command "${printable(command)}".\n\n${USAGE}`);
                return 2;
        }
    } catch (error) {
        if (error instanceof AppError || error instanceof ConfigError) {
            out(`Error: ${error.message}`);
            return 1;
        }
        if (error instanceof z.ZodError) {
            out(`Error: ${validationError(error).message}`);
            return 1;
        }
        throw error;
    } finally {
        await store.close();
    }
}

if (/[/\\]cli[/\\]accounts\.[jt]s$/.test(process.argv[1] ?? '')) {
    runAccountsCommand(process.argv.slice(2), process.env, (line) => console.log(line)).then(
        (code) => process.exit(code),
        (error: unknown) => {
            console.error(error instanceof ConfigError ? error.message : error);
            process.exit(1);
        }
    );
}
