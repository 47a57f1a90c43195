import { createElement } from '@lwc/engine-dom';
import LinkSetupChecklist from 'c/linkSetupChecklist';

const STEPS = [
    { id: 'oauthPackage', state: 'todo' },
    { id: 'endpoint', state: 'done' },
    { id: 'apiUser', state: 'check' },
    { id: 'permittedUsers', state: 'check' },
    { id: 'refreshToken', state: 'check' },
    { id: 'ipRelaxation', state: 'check' }
];

function createChecklist(props) {
    const element = createElement('c-link-setup-checklist', {
        is: LinkSetupChecklist
    });
    Object.assign(element, props);
    document.body.appendChild(element);
    return element;
}

function step(element, id) {
    return element.shadowRoot.querySelector(`[data-id="${id}"]`);
}

describe('c-link-setup-checklist', () => {
    afterEach(() => {
        while (document.body.firstChild) {
            document.body.removeChild(document.body.firstChild);
        }
    });

    it('shows every step in order with its words and what the card knows of it', () => {
        const element = createChecklist({ steps: STEPS });

        const items = [...element.shadowRoot.querySelectorAll('li')];
        expect(items.map((item) => item.dataset.id)).toEqual(
            STEPS.map(({ id }) => id)
        );
        expect(step(element, 'oauthPackage').textContent).toContain(
            'c.Ccl_ChecklistStepOAuthPackage'
        );
        expect(step(element, 'oauthPackage').dataset.state).toBe('todo');
        const icon = (id) => step(element, id).querySelector('lightning-icon');
        expect(icon('oauthPackage').iconName).toBe('utility:warning');
        expect(icon('oauthPackage').alternativeText).toBe(
            'c.Ccl_ChecklistStateTodo'
        );
        expect(icon('endpoint').iconName).toBe('utility:success');
        expect(icon('endpoint').alternativeText).toBe(
            'c.Ccl_ChecklistStateDone'
        );
        expect(icon('ipRelaxation').iconName).toBe('utility:info');
        expect(icon('ipRelaxation').alternativeText).toBe(
            'c.Ccl_ChecklistStateCheck'
        );
    });

    it('says where the admin finds the page, and links the help when there is one', () => {
        const element = createChecklist({ steps: STEPS });
        expect(step(element, 'where-to-find').textContent).toContain(
            'c.Ccl_WhereToFind'
        );
        expect(step(element, 'help')).toBeNull();

        const withHelp = createChecklist({
            steps: STEPS,
            helpUrl: 'https://docs.example.com/install#the-setup-checklist'
        });
        expect(step(withHelp, 'help').href).toBe(
            'https://docs.example.com/install#the-setup-checklist'
        );
    });

    it('leaves out a step it does not know and shows an unknown state as one to check', () => {
        const element = createChecklist({
            steps: [
                { id: 'toString', state: 'done' },
                { id: 'endpoint', state: 'maybe' }
            ]
        });
        expect(element.shadowRoot.querySelectorAll('li')).toHaveLength(1);
        expect(
            step(element, 'endpoint').querySelector('lightning-icon').iconName
        ).toBe('utility:info');
    });

    it('is accessible', async () => {
        const element = createChecklist({
            steps: STEPS,
            helpUrl: 'https://docs.example.com/install#the-setup-checklist'
        });
        await expect(element).toBeAccessible();
    });
});
