import { isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js';
import { AppError } from '../errors.ts';

/**
 * What a caller's number may look like before it is parsed: ASCII digits and the punctuation
 * people write numbers with, an optional leading +, an optional extension. Anything else (SOSL
 * syntax, letters, other scripts) is refused before libphonenumber, which would otherwise pull a
 * valid number out of `4155551212} RETURNING User(Id`.
 */
export const PHONE_TEXT = /^\+?[0-9 ().\-/]{2,30}(?:\s*(?:[xX]|[eE][xX][tT]\.?|#)\s*[0-9]{1,6})?$/;

/** Characters SOSL reserves inside `FIND {...}`; each must be escaped with a backslash. */
const SOSL_RESERVED = /[?&|!{}[\]()^~*:\\"'+-]/g;

export const escapeSosl = (term: string): string => term.replace(SOSL_RESERVED, (c) => `\\${c}`);

export interface PhoneTerms {
    /** E.164, such as +14155551212 */
    e164: string;
    /** the national form as digits, such as 4155551212 or 02079460958 */
    national: string;
}

/** Normalises a caller's number with the account's default region; refuses what is not a phone number. */
export function phoneTerms(input: string, region: string): PhoneTerms {
    if (!isSupportedCountry(region))
        throw new AppError(
            'VALIDATION_FAILED',
            `The request body is not valid: region ${region} is not a country code libphonenumber knows.`
        );
    const text = input.trim();
    if (!PHONE_TEXT.test(text)) {
        throw new AppError(
            'VALIDATION_FAILED',
            'The request body is not valid: phone must be a phone number written with digits, spaces and ( ) . - / +, such as "+1 415 555 1212".'
        );
    }
    const phone = parsePhoneNumberFromString(text, region);
    if (!phone || !phone.isPossible()) {
        throw new AppError(
            'VALIDATION_FAILED',
            `The request body is not valid: phone "${text}" is not a possible phone number in region ${region}. Send it in international form (+44 20 7946 0958) or set region.`
        );
    }
    // The extension is dialled after the call connects: it is no part of the number stored on a record.
    const number = phone.ext ? parsePhoneNumberFromString(phone.number)! : phone;
    return { e164: number.number, national: number.formatNational().replace(/\D/g, '') };
}

/**
 * The screen-pop search: every stored shape of the number in the phone fields, returning `returning` (field names the
 * org's describe gave, see lookup.ts); the caller's text reaches it only as the escaped E.164 and national digits.
 */
export function phoneSearch(
    terms: PhoneTerms,
    returning = 'Contact(Id, Name, Phone, AccountId), Lead(Id, Name, Phone, Company), Account(Id, Name, Phone)'
): string {
    const words = [...new Set([terms.e164, terms.national])].map(escapeSosl);
    return `FIND {${words.join(' OR ')}} IN PHONE FIELDS RETURNING ${returning}`;
}

/** A string inside a SOQL literal: backslash and quote escaped (callIds are also charset-checked). */
export const soqlString = (value: string): string => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
