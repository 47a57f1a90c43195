// Jest for the Lightning Web Components in force-app (run with `npm run test:lwc`).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { jestConfig } = require('@salesforce/sfdx-lwc-jest/config');

export default {
    ...jestConfig,
    // Only the Salesforce package: server/ and emulator/ have their own tests.
    roots: ['<rootDir>/force-app'],
    moduleNameMapper: {
        '^lightning/confirm$':
            '<rootDir>/force-app/test/jest-mocks/lightning/confirm'
    },
    setupFilesAfterEnv: [
        ...(jestConfig.setupFilesAfterEnv ?? []),
        '<rootDir>/force-app/test/jest-setup.js'
    ],
    testPathIgnorePatterns: [
        '<rootDir>/node_modules/',
        '<rootDir>/.localdevserver/'
    ],
    modulePathIgnorePatterns: ['<rootDir>/.localdevserver/']
};
