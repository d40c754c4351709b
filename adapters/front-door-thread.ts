/**
 * The front door's thread (src/front-door.ts) with the lanes the adapters offer: what src/http.ts
 * starts when the bot serves its platforms over HTTP. Loads only the lanes, not the platforms' SDKs.
 */
import { startFrontDoor } from '../src/front-door.js';
import { createLane as slack } from './slack/front-lane.js';

startFrontDoor({ slack });
