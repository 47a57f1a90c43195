export const escapeHtml = (value: string): string => value.replace(/[&<>"'`=/]/g, (char) => `&#${char.charCodeAt(0)};`);

/** JSON that is safe inside a <script> element. */
export const scriptJson = (value: unknown): string =>
    JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');

interface PageOptions {
    nonce: string;
    title: string;
    heading: string;
    body: string;
    tone: 'success' | 'error' | 'neutral';
    message?: { type: 'ccl:link'; sessionId: string; state: 'linked' | 'failed' };
    /** The origins of the card that may have opened the popup: the message goes to these only, never to '*'. */
    messageTargets?: string[];
    closeAfterMs?: number;
    /** Said instead when the window stays open: a tab opened from the card's link (no opener) cannot close itself. */
    closeHint?: string;
    /** A script of the page's own (the consent page's check of its opener), run under the page's nonce. */
    script?: string;
}

/** The popup's last page: tells the card (when it opened us) and says what happened in words. */
export function popupPage(options: PageOptions): string {
    const color = { success: '#2e844a', error: '#ba0517', neutral: '#181818' }[options.tone];
    const messageScript = options.message
        ? `(function () {
  var message = ${scriptJson(options.message)};
  var targets = ${scriptJson(options.messageTargets ?? [])};
  if (window.opener) { targets.forEach(function (target) { try { window.opener.postMessage(message, target); } catch (e) {} }); }
  ${
      options.closeAfterMs
          ? `var hint = function () { var p = document.getElementById('close-hint'); if (p) p.hidden = false; };
  if (!window.opener) hint();
  setTimeout(function () { window.close(); setTimeout(hint, 500); }, ${options.closeAfterMs});`
          : ''
  }
})();`
        : '';
    const code = [messageScript, options.script ?? ''].filter(Boolean).join('\n');
    const script = code ? `<script nonce="${options.nonce}">${code}</script>` : '';
    return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title)} · Contact Center Link</title>
<style nonce="${options.nonce}">
  body { font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; background: #f3f3f3; color: #181818; margin: 0; }
  main { max-width: 32rem; margin: 3rem auto; background: #fff; border-radius: .25rem; border: 1px solid #e5e5e5; padding: 1.5rem; box-shadow: 0 2px 2px rgba(0,0,0,.1); }
  h1 { font-size: 1.25rem; margin: 0 0 .75rem; color: ${color}; }
  p { line-height: 1.5; margin: .5rem 0; }
  code { background: #f3f3f3; padding: 0 .25rem; }
  ul { margin: .5rem 0; padding-left: 1.25rem; line-height: 1.5; }
  .warning { border-left: 4px solid #dd7a01; padding: .25rem .75rem; background: #fef1e6; }
  button { font: inherit; background: #0176d3; color: #fff; border: 0; border-radius: .25rem; padding: .5rem 1rem; cursor: pointer; margin-top: .75rem; }
</style>
</head>
<body>
<main role="main">
<h1>${escapeHtml(options.heading)}</h1>
${options.body}${options.closeHint ? `\n<p id="close-hint" role="status" hidden>${escapeHtml(options.closeHint)}</p>` : ''}
</main>
${script}
</body>
</html>`;
}

export const paragraph = (text: string): string => `<p>${escapeHtml(text)}</p>`;
