import { z } from 'zod';
import { TeamsAdapter } from '@microsoft/teams-ai';
/** Bot Framework activities are small; anything larger is not one. */
const MAX_BODY_BYTES = 1024 * 1024;
export class BadRequest extends Error {
    status;
    constructor(status, message) {
        super(message);
        this.status = status;
        this.name = 'BadRequest';
    }
}
const account = z.object({ id: z.string().min(1), name: z.string().nullish(), aadObjectId: z.string().nullish() }).passthrough();
const objects = z.array(z.object({}).passthrough());
/**
 * What the bot relies on in an activity, as the Bot Framework protocol requires it: anything else
 * is refused at the door, so a malformed request never reaches a conversation.
 */
const activitySchema = z.object({
    type: z.string().min(1),
    id: z.string().nullish(),
    serviceUrl: z.string().url(),
    channelId: z.string().nullish(),
    from: account,
    recipient: account.nullish(),
    conversation: z.object({ id: z.string().min(1), conversationType: z.string().nullish(), tenantId: z.string().nullish() }).passthrough(),
    text: z.string().nullish(),
    replyToId: z.string().nullish(),
    localTimezone: z.string().nullish(),
    attachments: z.array(z.object({ contentType: z.string().nullish(), name: z.string().nullish() }).passthrough()).nullish(),
    entities: objects.nullish(),
    membersAdded: z.array(account).nullish(),
    channelData: z.object({}).passthrough().nullish(),
}).passthrough();
/** Reads the request body as a Bot Framework activity; a BadRequest says what is wrong with it. */
export async function readActivity(req) {
    const chunks = [];
    let size = 0;
    for await (const chunk of req) {
        size += chunk.length;
        if (size > MAX_BODY_BYTES)
            throw new BadRequest(413, 'request body too large');
        chunks.push(chunk);
    }
    let parsed;
    try {
        parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    }
    catch {
        throw new BadRequest(400, 'request body is not JSON');
    }
    const activity = activitySchema.safeParse(parsed);
    if (!activity.success) {
        const problems = activity.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
        throw new BadRequest(400, `not a Bot Framework activity (${problems})`);
    }
    return activity.data;
}
/** The TeamsAdapter, taking an activity already read and checked instead of an Express request. */
export class ActivityAdapter extends TeamsAdapter {
    /** Authenticates the request and runs the turn; an AuthenticationError (statusCode 401) passes to the caller. */
    serve(authHeader, activity, logic) {
        return this.processActivity(authHeader, activity, logic);
    }
}
/**
 * Answers POST /api/messages: 400 for what is not an activity, 401 for a request the Bot Framework
 * did not sign (when an app id is configured), else the turn's own status.
 */
export async function serveActivity(adapter, req, res, logic, logger) {
    let activity;
    try {
        activity = await readActivity(req);
    }
    catch (e) {
        if (!(e instanceof BadRequest))
            throw e;
        logger.warn({ status: e.status, reason: e.message }, 'Teams: refused a request to /api/messages that is not a Bot Framework activity');
        res.writeHead(e.status, { 'content-type': 'text/plain' }).end(e.message);
        return;
    }
    const authorization = req.headers.authorization ?? '';
    let result;
    try {
        result = await adapter.serve(authorization, activity, logic);
    }
    catch (e) {
        if (e.statusCode !== 401)
            throw e;
        logger.warn({ reason: e.message }, 'Teams: refused a request to /api/messages without a valid Bot Framework token');
        res.writeHead(401, { 'content-type': 'text/plain' }).end('unauthorized');
        return;
    }
    const status = result?.status ?? 200;
    if (result?.body === undefined)
        res.writeHead(status).end();
    else
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(result.body));
}
//# sourceMappingURL=http.js.map