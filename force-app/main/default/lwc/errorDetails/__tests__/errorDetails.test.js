import { errorDetails, refusedFor } from 'c/errorDetails';

const FALLBACK = 'Something went wrong.';

describe('c-error-details', () => {
    it('reads the controller’s code and message', () => {
        const error = {
            body: {
                message:
                    '{"code":"API_USER_LIMIT_REACHED","message":"This API user already serves five accounts."}'
            }
        };
        expect(errorDetails(error, FALLBACK)).toEqual({
            code: 'API_USER_LIMIT_REACHED',
            message: 'This API user already serves five accounts.'
        });
    });

    it('reads what a refused save was refused for, and leaves out what is not a name', () => {
        const refused = (subjects) => ({
            body: {
                message: JSON.stringify({
                    code: 'PHONE_FIELD_REFUSED',
                    message:
                        'The custom phone field Contact.Nope__c cannot be searched.',
                    subjects
                })
            }
        });
        expect(errorDetails(refused(['Contact.Nope__c']), FALLBACK)).toEqual({
            code: 'PHONE_FIELD_REFUSED',
            message:
                'The custom phone field Contact.Nope__c cannot be searched.',
            subjects: ['Contact.Nope__c']
        });
        expect(
            errorDetails(refused(['Task.Outcome__c', 7, '', null]), FALLBACK)
                .subjects
        ).toEqual(['Task.Outcome__c']);
        for (const notAList of ['Contact.Nope__c', { a: 1 }, [], undefined]) {
            expect(
                errorDetails(refused(notAList), FALLBACK)
            ).not.toHaveProperty('subjects');
        }
    });

    it('keeps a plain AuraHandledException message as it is, without a code', () => {
        expect(
            errorDetails({ body: { message: 'Plain words.' } }, FALLBACK)
        ).toEqual({ code: undefined, message: 'Plain words.' });
    });

    it('reads pageErrors and fieldErrors, each message once', () => {
        const error = {
            body: {
                pageErrors: [
                    { message: 'Page is wrong.' },
                    { message: 'Page is wrong.' }
                ],
                fieldErrors: {
                    Phone: [{ message: 'Phone is too long.' }],
                    Name: [{ message: 'Name is required.' }]
                }
            }
        };
        expect(errorDetails(error, FALLBACK).message).toBe(
            'Page is wrong. Phone is too long. Name is required.'
        );
    });

    it('reads the UI API output errors and a list of bodies', () => {
        expect(
            errorDetails(
                {
                    body: {
                        message: 'An error occurred.',
                        output: {
                            errors: [{ message: 'Record is locked.' }],
                            fieldErrors: {
                                Subject: [{ message: 'Too long.' }]
                            }
                        }
                    }
                },
                FALLBACK
            ).message
        ).toBe('An error occurred. Record is locked. Too long.');
        expect(
            errorDetails(
                { body: [{ message: 'First.' }, { message: 'Second.' }] },
                FALLBACK
            ).message
        ).toBe('First. Second.');
    });

    it('reads a JavaScript error', () => {
        expect(errorDetails(new TypeError('x is undefined'), FALLBACK)).toEqual(
            { code: undefined, message: 'x is undefined' }
        );
    });

    it('falls back for what carries no message, and never trusts a malformed payload', () => {
        for (const error of [
            undefined,
            null,
            {},
            { body: {} },
            { body: { message: '' } },
            { body: { fieldErrors: 'wrong' } },
            { body: { pageErrors: [null, 3] } }
        ]) {
            expect(errorDetails(error, FALLBACK)).toEqual({
                code: undefined,
                message: FALLBACK
            });
        }
        // JSON-looking text that is not the controller's payload stays text.
        expect(
            errorDetails({ body: { message: '{"code":"X"}' } }, FALLBACK)
        ).toEqual({ code: undefined, message: '{"code":"X"}' });
        expect(
            errorDetails({ body: { message: '{not json' } }, FALLBACK)
        ).toEqual({ code: undefined, message: '{not json' });
    });

    it('tells whether an error was refused for a name, without regard to case', () => {
        const error = { subjects: ['Contact.Direct_Line__c', 'Support_Call'] };
        expect(refusedFor(error, 'contact.direct_line__c')).toBe(true);
        expect(refusedFor(error, 'Support_Call')).toBe(true);
        expect(refusedFor(error, 'Contact.Other__c')).toBe(false);
        expect(refusedFor(error, '')).toBe(false);
        expect(refusedFor(error, undefined)).toBe(false);
        expect(
            refusedFor({ code: 'X', message: 'No subjects.' }, 'Support_Call')
        ).toBe(false);
        expect(refusedFor(undefined, 'Support_Call')).toBe(false);
        expect(refusedFor({ subjects: 'Support_Call' }, 'Support_Call')).toBe(
            false
        );
    });
});
