import { createElement } from '@lwc/engine-dom';
import LinkEventList from 'c/linkEventList';

const ITEMS = [
    {
        key: 'd2',
        state: 'pending',
        title: 'Pending',
        titleClass: 'slds-text-color_weak',
        note: 'Linked → Needs relink',
        at: '2024-05-03T10:00:00.000Z',
        extras: ['Attempts: 1'],
        nextAt: '2024-05-03T10:00:05.000Z',
        nextAtLabel: 'Next attempt',
        detail: 'The webhook answered HTTP 500.',
        detailClass: 'slds-text-color_error'
    },
    {
        key: 'a1',
        title: 'Linked',
        at: '2024-05-01T10:00:00.000Z',
        extras: ['api@acme.example', undefined, '', 'by admin@acme.example']
    }
];

async function flushPromises() {
    for (let i = 0; i < 3; i++) {
        // eslint-disable-next-line no-await-in-loop
        await Promise.resolve();
    }
}

function createList(props) {
    const element = createElement('c-link-event-list', { is: LinkEventList });
    Object.assign(element, { heading: 'Activity', ...props });
    document.body.appendChild(element);
    return element;
}

function part(root, dataId) {
    return root.querySelector(`[data-id="${dataId}"]`);
}

function entries(element) {
    return [...element.shadowRoot.querySelectorAll('[data-id="entry"]')];
}

describe('c-link-event-list', () => {
    afterEach(() => {
        while (document.body.firstChild) {
            document.body.removeChild(document.body.firstChild);
        }
    });

    it('shows each event: title and note, when, the extras it has, the next time and the detail', () => {
        const element = createList({ items: ITEMS });

        expect(element.shadowRoot.querySelector('h3').textContent).toBe(
            'Activity'
        );
        const [pending, linked] = entries(element);
        expect(entries(element)).toHaveLength(2);
        expect(pending.dataset.state).toBe('pending');
        expect(part(pending, 'title').textContent).toBe('Pending');
        expect(part(pending, 'title').className).toBe(
            'slds-text-title_bold slds-m-right_x-small slds-text-color_weak'
        );
        expect(part(pending, 'note').textContent).toBe('Linked → Needs relink');
        expect(
            pending.querySelector('lightning-formatted-date-time').value
        ).toBe('2024-05-03T10:00:00.000Z');
        expect(part(pending, 'extra').textContent).toBe('Attempts: 1');
        expect(part(pending, 'next').textContent).toContain('Next attempt');
        expect(
            part(pending, 'next').querySelector('lightning-formatted-date-time')
                .value
        ).toBe('2024-05-03T10:00:05.000Z');
        expect(part(pending, 'detail').className).toBe('slds-text-color_error');

        expect(part(linked, 'title').className).toBe(
            'slds-text-title_bold slds-m-right_x-small'
        );
        expect(part(linked, 'note')).toBeNull();
        expect(
            [...linked.querySelectorAll('[data-id="extra"]')].map(
                (extra) => extra.textContent
            )
        ).toEqual(['api@acme.example', 'by admin@acme.example']);
        expect(part(linked, 'next')).toBeNull();
        expect(part(linked, 'detail')).toBeNull();
        expect(part(element.shadowRoot, 'empty')).toBeNull();
    });

    it('says it is empty only once read, without an error', async () => {
        const element = createList({ items: [], emptyText: 'Nothing yet.' });
        expect(part(element.shadowRoot, 'empty').textContent).toBe(
            'Nothing yet.'
        );

        element.loading = true;
        await flushPromises();
        expect(part(element.shadowRoot, 'empty')).toBeNull();

        element.loading = false;
        element.errorText = 'Could not be read.';
        await flushPromises();
        expect(part(element.shadowRoot, 'empty')).toBeNull();
        expect(part(element.shadowRoot, 'error').textContent).toBe(
            'Could not be read.'
        );
    });

    it('keeps the events shown beside an error', () => {
        const element = createList({
            items: ITEMS,
            errorText: 'Could not be read.'
        });
        expect(entries(element)).toHaveLength(2);
        expect(part(element.shadowRoot, 'error')).not.toBeNull();
    });

    it('raises more from Show more, only while there is more, and not while reading', async () => {
        const element = createList({ items: ITEMS, moreLabel: 'Show more' });
        expect(part(element.shadowRoot, 'more')).toBeNull();

        element.hasMore = true;
        await flushPromises();
        const handler = jest.fn();
        element.addEventListener('more', handler);
        part(element.shadowRoot, 'more').click();
        expect(handler).toHaveBeenCalledTimes(1);

        element.loading = true;
        await flushPromises();
        expect(part(element.shadowRoot, 'more').disabled).toBe(true);
    });

    it('raises refresh from the icon beside the heading, only when it has a label', async () => {
        const plain = createList({ items: ITEMS });
        expect(part(plain.shadowRoot, 'refresh')).toBeNull();

        const element = createList({ items: ITEMS, refreshLabel: 'Refresh' });
        const handler = jest.fn();
        element.addEventListener('refresh', handler);
        const refresh = part(element.shadowRoot, 'refresh');
        expect(refresh.alternativeText).toBe('Refresh');
        refresh.click();
        expect(handler).toHaveBeenCalledTimes(1);

        element.loading = true;
        await flushPromises();
        expect(part(element.shadowRoot, 'refresh').disabled).toBe(true);
    });

    it('is accessible with events, an error and both buttons', async () => {
        const element = createList({
            items: ITEMS,
            errorText: 'Could not be read.',
            moreLabel: 'Show more',
            hasMore: true,
            refreshLabel: 'Refresh'
        });
        await expect(element).toBeAccessible();
    });
});
