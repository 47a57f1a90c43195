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

    test('SF_REFRESH_KEEPALIVE_SECONDS: whole seconds from an hour to 28 days, 7 days by default, said plainly when wrong', () => {
        assert.equal(parseConfig(COMPLETE).SF_REFRESH_KEEPALIVE_SECONDS, 604_800);
        assert.equal(parseConfig({ ...COMPLETE, SF_REFRESH_KEEPALIVE_SECONDS: '86400' }).SF_REFRESH_KEEPALIVE_SECONDS, 86_400);
        for (const wrong of ['0', '3599', '2419201', '2592000', '3600.5', 'weekly', '-1', '']) {
            assert.throws(
                () => parseConfig({ ...COMPLETE, SF_REFRESH_KEEPALIVE_SECONDS: wrong }),
                /SF_REFRESH_KEEPALIVE_SECONDS: must be a whole number of seconds from 3600 \(an hour\) to 2419200/,
                wrong
            );
        }
    });

    test('SF_EGRESS_ADDRESSES: IP addresses and CIDR blocks, IPv4 or IPv6, at most 128, each once', () => {
        assert.deepEqual(parseConfig(COMPLETE).SF_EGRESS_ADDRESSES, []);
        assert.deepEqual(
            parseConfig({ ...COMPLETE, SF_EGRESS_ADDRESSES: ' 203.0.113.10, 198.51.100.0/28 ,2001:db8::/64' }).SF_EGRESS_ADDRESSES,
            ['203.0.113.10', '198.51.100.0/28', '2001:db8::/64']
        );
        const cases: Array<[string, RegExp]> = [
            ['backend.example.com', /"backend\.example\.com" is not an IP address or a CIDR range/],
            ['203.0.113.0/33', /"203\.0\.113\.0\/33" is not an IP address or a CIDR range/],
            ['2001:db8::/129', /is not an IP address or a CIDR range/],
            ['203.0.113.1-203.0.113.9', /is not an IP address or a CIDR range/],
            ['203.0.113.10,203.0.113.10', /lists an address twice/],
            [Array.from({ length: 129 }, (_, i) => `10.0.${Math.floor(i / 200)}.${i % 200}`).join(','), /at most 128/]
        ];
        for (const [wrong, message] of cases)
            assert.throws(() => parseConfig({ ...COMPLETE, SF_EGRESS_ADDRESSES: wrong }), message, wrong.slice(0, 40));
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
