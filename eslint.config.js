// ESLint 9 flat config for the Lightning Web Components in force-app.
import { defineConfig } from 'eslint/config';
import eslintJs from '@eslint/js';
import globals from 'globals';
import lwcRecommended from '@salesforce/eslint-config-lwc/recommended.js';
import lockerPlugin from '@locker/eslint-plugin-locker';
import lockerBase from '@locker/eslint-config-locker/base.js';
import lockerRecommended from '@locker/eslint-config-locker/recommended.js';

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
    }
]);
