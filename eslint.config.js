// ESLint 9 flat config for the Lightning Web Components in force-app.
import { defineConfig } from 'eslint/config';
import eslintJs from '@eslint/js';
import globals from 'globals';
import lwcRecommended from '@salesforce/eslint-config-lwc/recommended.js';

export default defineConfig([
    // Components
    {
        files: ['force-app/**/lwc/**/*.js'],
        extends: [lwcRecommended]
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
