// Registers ts-hooks.mjs in this thread (see there).
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
