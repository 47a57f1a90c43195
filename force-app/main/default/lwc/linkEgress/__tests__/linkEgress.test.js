import { createElement } from '@lwc/engine-dom';
import LinkEgress from 'c/linkEgress';

function render(egress) {
    const element = createElement('c-link-egress', { is: LinkEgress });
    element.egress = egress;
    document.body.appendChild(element);
    return element;
}

const find = (element, id) =>
    element.shadowRoot.querySelector(`[data-id="${id}"]`);

describe('c-link-egress', () => {
    afterEach(() => {
        while (document.body.firstChild) {
            document.body.removeChild(document.body.firstChild);
        }
    });

    it('lists the backend’s addresses for the app’s IP allowlist', async () => {
        const element = render({
            addresses: ['203.0.113.10', '2001:db8::/64'],
            refused: false
        });
        await Promise.resolve();
        const items = [
            ...find(element, 'egress-addresses').querySelectorAll('li')
        ].map((li) => li.textContent);
        expect(items).toEqual(['203.0.113.10', '2001:db8::/64']);
        expect(find(element, 'egress-refused')).toBeNull();
        await expect(element).toBeAccessible();
    });

    it('says first that Salesforce refused the address', async () => {
        const element = render({ addresses: ['203.0.113.10'], refused: true });
        await Promise.resolve();
        expect(find(element, 'egress-refused').textContent).toContain(
            'c.Ccl_EgressRefused'
        );
        expect(find(element, 'egress').className).toContain('slds-theme_error');
    });
});
