export function slackUser(api, slackUserId, request) {
    let profile;
    return {
        platform: 'slack',
        id: slackUserId,
        profile: () => (profile ??= usersInfo(api, slackUserId, request)),
    };
}
async function usersInfo(api, slackUserId, request) {
    let info;
    try {
        info = await api.call('users.info', { user: slackUserId }, request);
    }
    catch (e) {
        if (e.data?.error === 'user_not_found')
            return undefined;
        throw e;
    }
    const user = info.user;
    if (!user)
        return undefined;
    return { email: user.profile?.email, timezone: user.tz, inactive: Boolean(user.deleted || user.is_bot) };
}
//# sourceMappingURL=people.js.map