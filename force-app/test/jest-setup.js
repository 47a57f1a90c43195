// Registers the sa11y matcher: `await expect(element).toBeAccessible()`.
import { setup } from '@sa11y/jest';

setup();
