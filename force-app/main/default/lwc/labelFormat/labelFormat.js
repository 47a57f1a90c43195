/**
 * Fills the {0}, {1}... placeholders of a Custom Label, the way Apex's String.format does.
 * @param {string} label the label text
 * @param {...*} values the values, in placeholder order
 * @returns {string} the label with its placeholders replaced
 */
export function formatLabel(label, ...values) {
    return String(label ?? '').replace(/\{(\d+)\}/g, (placeholder, index) => {
        return index < values.length
            ? String(values[index] ?? '')
            : placeholder;
    });
}
