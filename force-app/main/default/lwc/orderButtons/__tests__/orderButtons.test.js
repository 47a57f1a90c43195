import { createElement } from '@lwc/engine-dom';
import OrderButtons from 'c/orderButtons';

function createButtons(props) {
    const element = createElement('c-order-buttons', { is: OrderButtons });
    Object.assign(element, {
        index: 2,
        upLabel: 'Move Lead up',
        downLabel: 'Move Lead down',
        ...props
    });
    document.body.appendChild(element);
    return element;
}

const arrow = (element, dataId) =>
    element.shadowRoot.querySelector(`[data-id="${dataId}"]`);

describe('c-order-buttons', () => {
    afterEach(() => {
        while (document.body.firstChild) {
            document.body.removeChild(document.body.firstChild);
        }
    });

    it('names the entry on both arrows', () => {
        const element = createButtons();
        expect(arrow(element, 'order-up').alternativeText).toBe('Move Lead up');
        expect(arrow(element, 'order-up').title).toBe('Move Lead up');
        expect(arrow(element, 'order-down').alternativeText).toBe(
            'Move Lead down'
        );
    });

    it('raises move with the index and the direction', () => {
        const element = createButtons();
        const moves = [];
        element.addEventListener('move', (event) => moves.push(event.detail));
        arrow(element, 'order-up').click();
        arrow(element, 'order-down').click();
        expect(moves).toEqual([
            { index: 2, delta: -1 },
            { index: 2, delta: 1 }
        ]);
    });

    it('the first entry cannot move up, the last cannot move down', async () => {
        const element = createButtons({ first: true });
        expect(arrow(element, 'order-up').disabled).toBe(true);
        expect(arrow(element, 'order-down').disabled).toBe(false);
        element.first = false;
        element.last = true;
        await Promise.resolve();
        expect(arrow(element, 'order-up').disabled).toBe(false);
        expect(arrow(element, 'order-down').disabled).toBe(true);
    });

    it('while the list is saved neither arrow moves anything', () => {
        const element = createButtons({ disabled: true });
        expect(arrow(element, 'order-up').disabled).toBe(true);
        expect(arrow(element, 'order-down').disabled).toBe(true);
    });
});
