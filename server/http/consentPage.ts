import { OPENER_ANSWER, OPENER_CHECK } from '../link/consent.ts';
import type { ConsentView } from '../link/authorization.ts';
import { escapeHtml, paragraph, popupPage, scriptJson } from './pages.ts';

/** What a link lets the account do in the org, said before the person signs in. */
export const LINK_GRANTS = [
    'find Contacts, Leads and Accounts by phone number when a call comes in',
    'create a completed call Task at the end of each call',
    'keep this access (a Salesforce refresh token) until someone unlinks the account'
];

/**
 * The page /oauth/start shows before Salesforce: it names the contact-center account and asks for a click. When the
 * card may vouch for this popup, its script asks the opener and continues by itself on the card's answer (the answer
 * counts only from the opener window, from a card origin, naming this session).
 */
export function consentPage(view: ConsentView, options: { nonce: string; formToken: string }): string {
    const where = new URL(view.loginUrl).host;
    const body =
        paragraph(
            `The contact-center account “${view.account.name}” (${view.account.id}) asks to act in a Salesforce org as the API user you sign in as next.`
        ) +
        `<p>Once linked, it may:</p><ul>${LINK_GRANTS.map((grant) => `<li>${escapeHtml(grant)}</li>`).join('')}</ul>` +
        paragraph(`You will sign in at ${where}${view.expectedOrgId ? `, into org ${view.expectedOrgId}` : ''} (${view.environment}).`) +
        (view.replaces
            ? `<p class="warning">${escapeHtml(
                  `This account is linked now to org ${view.replaces.orgId || '(unknown)'} as ${view.replaces.username}. Continuing may link it to ${view.expectedOrgId ? `org ${view.expectedOrgId}` : 'a different org'} instead.`
              )}</p>`
            : '') +
        paragraph(
            'Continue only if you started this from the Contact Center Link card in your own org and you recognise this account. If someone sent you this link, close this window.'
        ) +
        `<form method="post" action="/oauth/start/${encodeURIComponent(view.sessionId)}"><input type="hidden" name="token" value="${escapeHtml(options.formToken)}"><button type="submit" data-id="continue">Continue to Salesforce</button></form>`;
    const script = view.cardOrigins.length
        ? `(function () {
  var sessionId = ${scriptJson(view.sessionId)};
  var cardOrigins = ${scriptJson(view.cardOrigins)};
  var opener = window.opener;
  if (!opener) return;
  window.addEventListener('message', function onAnswer(event) {
    var data = event.data;
    if (event.source !== opener || cardOrigins.indexOf(event.origin) < 0 || !data || data.type !== ${scriptJson(OPENER_ANSWER)} || data.sessionId !== sessionId) return;
    window.removeEventListener('message', onAnswer);
    document.forms[0].submit();
  });
  cardOrigins.forEach(function (origin) { try { opener.postMessage({ type: ${scriptJson(OPENER_CHECK)}, sessionId: sessionId }, origin); } catch (e) {} });
})();`
        : undefined;
    return popupPage({
        nonce: options.nonce,
        title: 'Link Salesforce?',
        heading: `Link Salesforce to “${view.account.name}”?`,
        tone: 'neutral',
        body,
        script
    });
}
