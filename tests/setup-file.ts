/** Before each test file (the files of a worker share its loaded modules): its registers end with it. */
import { afterAll } from 'vitest';
import { dropSpareRegisters } from './helpers/db.js';

afterAll(dropSpareRegisters);
