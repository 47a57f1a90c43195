// ESLint 9 flat config: the Lightning Web Components in force-app and preview/src, and all the TypeScript.
import { defineConfig } from 'eslint/config';
import eslintJs from '@eslint/js';
import globals from 'globals';
import lwcRecommended from '@salesforce/eslint-config-lwc/recommended.js';
import lockerPlugin from '@locker/eslint-plugin-locker';
import lockerBase from '@locker/eslint-config-locker/base.js';
import lockerRecommended from '@locker/eslint-config-locker/recommended.js';
import tseslint from 'typescript-eslint';

// Lightning Web Security: the Locker configs are eslintrc-style, so their rules are
// lifted into flat config here, every distortion an error (a real one is fixed, a
// false one is justified where it occurs).
const lightningWebSecurityRules = Object.fromEntries(
    Object.keys({ ...lockerBase.rules, ...lockerRecommended.rules }).map(
        (rule) => [rule, 'error']
    )
);

export default defineConfig([
    // Components
    {
        files: ['force-app/**/lwc/**/*.js'],
        extends: [lwcRecommended]
    },

    // Lightning Web Security on the components (not on their Jest tests, which run in Node)
    {
        files: ['force-app/**/lwc/**/*.js'],
        ignores: ['force-app/**/lwc/**/__tests__/**'],
        plugins: { '@locker/locker': lockerPlugin },
        rules: lightningWebSecurityRules
    },

    // Component tests (Jest runs them in Node)
    {
        files: ['force-app/**/lwc/**/__tests__/**/*.js'],
        languageOptions: {
            globals: {
                ...globals.node
            }
        },
        rules: {
            '@lwc/lwc/no-unexpected-wire-adapter-usages': 'off'
        }
    },

    // The preview page's own components and its stand-ins for Apex (built with LWC OSS, run in a plain browser)
    {
        files: ['preview/src/modules/**/*.js'],
        extends: [lwcRecommended]
    },
    {
        files: ['preview/src/apex/**/*.js'],
        extends: [eslintJs.configs.recommended],
        languageOptions: {
            sourceType: 'module',
            ecmaVersion: 'latest',
            globals: { ...globals.browser }
        }
    },

    // Shared Jest stubs and setup
    {
        files: ['force-app/test/**/*.js'],
        extends: [eslintJs.configs.recommended],
        languageOptions: {
            sourceType: 'module',
            ecmaVersion: 'latest',
            globals: {
                ...globals.node,
                ...globals.jest
            }
        }
    },

    // The TypeScript (backend, demo, emulator, preview build and server, browser tests, benchmarks, scripts):
    // typescript-eslint's type-checked recommended rules, typed by tsconfig.json through the project service
    {
        files: [
            '{server,demo,emulator,e2e,bench,scripts}/**/*.ts',
            'preview/*.ts',
            'preview/test/**/*.ts'
        ],
        extends: [tseslint.configs.recommendedTypeChecked],
        languageOptions: {
            parserOptions: {
                projectService: true,
                tsconfigRootDir: import.meta.dirname
            }
        },
        rules: {
            // A closure may read a let before its one later assignment (demo.ts); as a const it would throw
            'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
            // _ names a parameter a signature needs (Express's next); a key a rest pattern drops is unused on purpose
            '@typescript-eslint/no-unused-vars': [
                'error',
                { argsIgnorePattern: '^_', ignoreRestSiblings: true }
            ]
        }
    },

    // The TypeScript tests and their harnesses
    {
        files: [
            '**/*.test.ts',
            'server/test/**/*.ts',
            'emulator/test/**/*.ts',
            'e2e/**/*.ts'
        ],
        rules: {
            // node:test's describe/test return promises that the runner itself awaits
            '@typescript-eslint/no-floating-promises': [
                'error',
                {
                    allowForKnownSafeCalls: [
                        {
                            from: 'package',
                            package: 'node:test',
                            name: ['describe', 'it', 'suite', 'test']
                        }
                    ]
                }
            ],
            // Tests read untyped JSON (supertest's res.body, json(), jsforce records): their assertions check its shape
            '@typescript-eslint/no-explicit-any': 'off',
            '@typescript-eslint/no-unsafe-argument': 'off',
            '@typescript-eslint/no-unsafe-assignment': 'off',
            '@typescript-eslint/no-unsafe-call': 'off',
            '@typescript-eslint/no-unsafe-member-access': 'off',
            '@typescript-eslint/no-unsafe-return': 'off'
        }
    }
]);
