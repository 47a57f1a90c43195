import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { ConfigError, parseConfig, startMode } from './config.ts';
import { generateEncryptionKey } from './crypto.ts';

const COMPLETE = {
    SF_CLIENT_ID: 'id',
    SF_CLIENT_SECRET: 'secret',
    TOKEN_ENCRYPTION_KEY: generateEncryptionKey(),
    PUBLIC_URL: 'https://ccl.example.com'
};

describe('npm start', () => {
    test('runs the demo only when no production setting is present', () => {
        assert.equal(startMode({}), 'demo');
        assert.equal(startMode({ PORT: '3000', LOG_LEVEL: 'debug', PUBLIC_URL: 'http://localhost:3000' }), 'demo');
        assert.equal(startMode(COMPLETE), 'backend');
    });

    test('refuses a half-configured deployment and names what is missing', () => {
        const cases: Array<[Record<string, string>, RegExp[]]> = [
            [
                { PUBLIC_URL: 'https://ccl.example.com' },
                [/an https PUBLIC_URL is set/, /SF_CLIENT_ID: required/, /SF_CLIENT_SECRET: required/, /TOKEN_ENCRYPTION_KEY: required/]
            ],
            [{ TOKEN_ENCRYPTION_KEY: COMPLETE.TOKEN_ENCRYPTION_KEY }, [/SF_CLIENT_ID: required/, /PUBLIC_URL: required/]],
            [{ DATA_DIR: '/var/lib/ccl' }, [/DATA_DIR is set/, /SF_CLIENT_ID: required/]],
            [{ SF_CLIENT_ID: 'id' }, [/SF_CLIENT_SECRET: required/, /TOKEN_ENCRYPTION_KEY: required/, /PUBLIC_URL: required/]],
            [{ ...COMPLETE, TOKEN_ENCRYPTION_KEY: '' }, [/TOKEN_ENCRYPTION_KEY: required/]]
        ];
        for (const [env, messages] of cases) {
            assert.throws(
                () => startMode(env),
                (error: Error) => {
                    assert.ok(error instanceof ConfigError);
                    for (const message of messages) assert.match(error.message, message);
                    return true;
                }
            );
        }
    });

    test('DATABASE_POOL_SIZE: a whole number from 2 to 200, 10 by default, said plainly when wrong', () => {
        assert.equal(parseConfig(COMPLETE).DATABASE_POOL_SIZE, 10);
        assert.equal(parseConfig({ ...COMPLETE, DATABASE_POOL_SIZE: '40' }).DATABASE_POOL_SIZE, 40);
        for (const wrong of ['0', '1', '201', '2.5', 'many', '-3']) {
            assert.throws(
                () => parseConfig({ ...COMPLETE, DATABASE_POOL_SIZE: wrong }),
                /DATABASE_POOL_SIZE: must be a whole number from 2 to 200/,
                wrong
            );
        }
    });

    test('the process exits 2 with the message, before building or listening', () => {
        // npm start (demo/start.ts) and the backend's own entry (server/start.ts) refuse a half-configured deployment alike.
        for (const entry of ['demo/start.ts', 'server/start.ts']) {
            const result = spawnSync(process.execPath, ['--import', 'tsx', entry], {
                env: { PATH: process.env.PATH, PUBLIC_URL: 'https://ccl.example.com', TOKEN_ENCRYPTION_KEY: COMPLETE.TOKEN_ENCRYPTION_KEY },
                encoding: 'utf8',
                timeout: 30_000
            });
            assert.equal(result.status, 2, `${entry}: ${result.stderr}`);
            assert.match(result.stderr, /SF_CLIENT_ID: required/, entry);
            assert.doesNotMatch(result.stdout, /demo/i, entry);
        }
    });

    test('the backend itself never turns into the demo: with no production setting it names them all', () => {
        const result = spawnSync(process.execPath, ['--import', 'tsx', 'server/start.ts'], {
            env: { PATH: process.env.PATH },
            encoding: 'utf8',
            timeout: 30_000
        });
        assert.equal(result.status, 2, result.stderr);
        for (const name of ['SF_CLIENT_ID', 'SF_CLIENT_SECRET', 'TOKEN_ENCRYPTION_KEY', 'PUBLIC_URL'])
            assert.match(result.stderr, new RegExp(`${name}: required`));
        assert.equal(result.stdout, '');
    });
});
