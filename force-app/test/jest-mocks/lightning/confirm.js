// Stand-in for LightningConfirm: tests decide the answer with
// jest.spyOn(LightningConfirm, 'open').mockResolvedValue(true).
export default class LightningConfirm {
    static open() {
        return Promise.resolve(false);
    }
}
