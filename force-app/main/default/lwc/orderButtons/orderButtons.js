import { LightningElement, api } from 'lwc';

/**
 * The up and down arrows of one entry in an ordered list: the caller-matching editor orders its rules and its objects
 * with them. It raises `move` with { index, delta } (-1 up, 1 down); whoever holds the list moves the entry.
 */
export default class OrderButtons extends LightningElement {
    /** The entry's position in the list, from 0. */
    @api index;
    /** The arrows' alternative texts, which name the entry ("Move Lead up"). */
    @api upLabel;
    @api downLabel;
    /** The first entry cannot move up, the last cannot move down. */
    @api first = false;
    @api last = false;
    /** While the list is saved, neither arrow moves anything. */
    @api disabled = false;

    get upDisabled() {
        return this.disabled || this.first;
    }

    get downDisabled() {
        return this.disabled || this.last;
    }

    handleUp() {
        this.move(-1);
    }

    handleDown() {
        this.move(1);
    }

    move(delta) {
        this.dispatchEvent(
            new CustomEvent('move', {
                detail: { index: Number(this.index), delta }
            })
        );
    }
}
