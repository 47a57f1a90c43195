/**
 * What went wrong, from any error a component meets: { code, message, subjects? }.
 *
 * - ContactCenterLinkController's AuraHandledException: body.message is the JSON
 *   {"code","message","subjects"?} (code is the backend's, such as NEEDS_RELINK, so the card can act on
 *   it; subjects name what a refused save was refused for, such as Contact.Direct_Line__c).
 * - Any other AuraHandledException or Apex error: body.message as it is.
 * - DML and UI API errors: body.pageErrors, body.fieldErrors, body.output.errors and
 *   body.output.fieldErrors, every message once.
 * - A list of such bodies (UI API), or a JavaScript Error.
 * @param {*} error what the Apex call or the code threw
 * @param {string} fallbackMessage said when the error carries no message
 * @returns {{code: (string|undefined), message: string, subjects: (string[]|undefined)}} the error's code, if any,
 *     one sentence to show, and what a refused save was refused for, when the controller named it
 */
export function errorDetails(error, fallbackMessage) {
    const body = error?.body;
    const coded = codedMessage(body?.message);
    if (coded) {
        return coded;
    }
    const messages = [];
    for (const item of Array.isArray(body) ? body : [body]) {
        collectMessages(item, messages);
    }
    if (!messages.length && typeof error?.message === 'string') {
        messages.push(error.message);
    }
    const unique = [...new Set(messages.map((m) => m.trim()).filter(Boolean))];
    return {
        code: undefined,
        message: unique.length ? unique.join(' ') : fallbackMessage
    };
}

/** The controller's {"code","message"}, or undefined when the text is a plain sentence. */
function codedMessage(text) {
    if (typeof text !== 'string' || !text.trimStart().startsWith('{')) {
        return undefined;
    }
    let parsed;
    try {
        parsed = JSON.parse(text);
    } catch {
        return undefined;
    }
    if (typeof parsed?.message !== 'string' || !parsed.message.trim()) {
        return undefined;
    }
    const subjects = listOf(parsed.subjects).filter(
        (subject) => typeof subject === 'string' && subject
    );
    return {
        code: typeof parsed.code === 'string' ? parsed.code : undefined,
        message: parsed.message,
        ...(subjects.length ? { subjects } : {})
    };
}

function collectMessages(body, messages) {
    if (!body || typeof body !== 'object') {
        return;
    }
    if (typeof body.message === 'string') {
        messages.push(body.message);
    }
    for (const source of [body, body.output]) {
        if (!source || typeof source !== 'object') {
            continue;
        }
        for (const pageError of listOf(source.pageErrors ?? source.errors)) {
            if (typeof pageError?.message === 'string') {
                messages.push(pageError.message);
            }
        }
        const fieldErrors = source.fieldErrors;
        if (fieldErrors && typeof fieldErrors === 'object') {
            for (const errors of Object.values(fieldErrors)) {
                for (const fieldError of listOf(errors)) {
                    if (typeof fieldError?.message === 'string') {
                        messages.push(fieldError.message);
                    }
                }
            }
        }
    }
}

function listOf(value) {
    return Array.isArray(value) ? value : [];
}

/**
 * Whether a refused save was refused for this name (a field such as Contact.Direct_Line__c or Task.Outcome__c, or a
 * record type), as the error's subjects name it; Salesforce's API names are compared without regard to case.
 * @param {{subjects: (string[]|undefined)}|undefined} error what errorDetails read
 * @param {string} name the name a part of the form stands for
 * @returns {boolean} true when the error names it
 */
export function refusedFor(error, name) {
    if (typeof name !== 'string' || !name) {
        return false;
    }
    const wanted = name.toLowerCase();
    return listOf(error?.subjects).some(
        (subject) =>
            typeof subject === 'string' && subject.toLowerCase() === wanted
    );
}
