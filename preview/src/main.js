// The preview's entry: synthetic shadow first (as in Lightning Experience), then the Setup page.
import '@lwc/synthetic-shadow';
import { createElement } from 'lwc';
import PreviewApp from 'preview/app';

const app = createElement('preview-app', { is: PreviewApp });
document.getElementById('preview-root').appendChild(app);
