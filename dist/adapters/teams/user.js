import { TeamsInfo } from 'botbuilder';
/**
 * The Teams account behind a turn, as the inbound pipeline asks for it: the Entra (AAD) object id,
 * and, only when the register needs it, the email Teams knows (the member look-up, else what the
 * activity carries) and the timezone the client reports.
 */
export function teamsUser(context, logger) {
    const activity = context.activity;
    let profile;
    return {
        platform: 'teams',
        id: activity.from?.aadObjectId,
        profile: () => (profile ??= (async () => ({ email: await emailOf(context, logger), timezone: activity.localTimezone || undefined }))()),
    };
}
async function emailOf(context, logger) {
    const from = context.activity.from;
    if (from?.id) {
        try {
            const member = await TeamsInfo.getMember(context, from.id);
            const email = member.email ?? member.userPrincipalName;
            if (email)
                return email;
        }
        catch (e) {
            logger.debug({ reason: e.message }, 'could not look up the Teams member');
        }
    }
    return from?.email ?? from?.userPrincipalName;
}
//# sourceMappingURL=user.js.map