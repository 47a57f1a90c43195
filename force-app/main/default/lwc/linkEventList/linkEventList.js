import { LightningElement, api } from 'lwc';

/**
 * One list of dated events, newest first, under a heading: the Contact Center Link card shows the link's activity
 * and its webhook deliveries with it. It renders the items it is given and raises `more` (the Show more button) and
 * `refresh` (the refresh icon beside the heading); whoever holds the list decides what the items say.
 */
export default class LinkEventList extends LightningElement {
    @api heading;
    /**
     * The events: { key, state?, title, titleClass?, note?, noteClass?, at, extras?: string[], nextAt?, nextAtLabel?,
     * detail?, detailClass? }. title (bold) and note share the first line; at, the extras and nextAt the second;
     * detail the third.
     */
    @api
    get items() {
        return this._items;
    }
    set items(value) {
        this._items = (value ?? []).map((item) => ({
            ...item,
            titleClass:
                `slds-text-title_bold slds-m-right_x-small ${item.titleClass ?? ''}`.trim(),
            extraTexts: (item.extras ?? [])
                .filter((text) => text != null && text !== '')
                .map((text, index) => ({ key: `${index}`, text })),
            detailClass: item.detailClass ?? 'slds-text-color_weak'
        }));
    }
    /** Said when there are no events, once they are read. */
    @api emptyText;
    /** Why the events could not be read; the events already shown stay. */
    @api errorText;
    /** True while the events are read: hides the empty text and disables the buttons. */
    @api loading = false;
    /** The Show more button's label; the button shows while hasMore is true. */
    @api moreLabel;
    @api hasMore = false;
    /** The refresh icon's alternative text; the icon shows beside the heading when it is set. */
    @api refreshLabel;

    _items = [];

    get hasItems() {
        return this._items.length > 0;
    }

    get showEmpty() {
        return (
            Boolean(this.emptyText) &&
            !this.hasItems &&
            !this.loading &&
            !this.errorText
        );
    }

    get showMore() {
        return Boolean(this.moreLabel) && this.hasMore;
    }

    handleMore() {
        this.dispatchEvent(new CustomEvent('more'));
    }

    handleRefresh() {
        this.dispatchEvent(new CustomEvent('refresh'));
    }
}
