/**
 * Imported first by the bot's entry point: from Node 22.1 on, V8's compiled code of each module is kept on
 * disk (NODE_COMPILE_CACHE, else the system's temporary folder), so a warm start does not compile the chat
 * platforms' SDKs again. A no-op on older Node, and when the folder cannot be written.
 */
import module from 'node:module';

(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
